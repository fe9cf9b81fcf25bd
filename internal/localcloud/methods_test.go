package localcloud_test

import (
	"strings"
	"testing"

	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestHeadAuthorizesAsGet: HEAD answers a valid caller as GET does on every
// route that has GET (issue 14, finding 5: HEAD fell to the catch-all method
// and reached the read function without the authorizer's context: 401).
func TestHeadAuthorizesAsGet(t *testing.T) {
	c := cloudtest.Cloud(t)
	r := expect(t, do(t, c, "POST", "/users", `{"name":"Head","email":"`+email()+`"}`), 202)
	settle(t, c, r.header.Get("Location"))
	id := r.body["userId"].(string)
	admin := cloudtest.Token(t, c, "root", "users.admin")
	for _, tt := range []struct {
		path  string
		token string
	}{
		{"/users?userId=" + id, ""},
		{"/users/" + id, ""},
		{strings.TrimPrefix(r.header.Get("Location"), "/dev"), ""},
		{"/users?limit=5", admin},
		{"/users?limit=5", ""}, // 403 for a caller that is no admin, as GET
	} {
		var h []string
		if tt.token != "" {
			h = []string{"Authorization", tt.token}
		}
		get, head := do(t, c, "GET", tt.path, "", h...), do(t, c, "HEAD", tt.path, "", h...)
		if head.status != get.status || head.raw != "" || head.header.Get("ETag") != get.header.Get("ETag") {
			t.Errorf("HEAD %s: %d %v; GET: %d", tt.path, head.status, head.header, get.status)
		}
	}
}

// TestOtherMethods: a method no route serves gets 405 with Allow from the
// gateway itself (a mock integration: no function runs), after the same key
// and token checks as every other method (issue 14, finding 6).
func TestOtherMethods(t *testing.T) {
	c := cloudtest.Cloud(t)
	before := invocations(c)
	for _, tt := range []struct{ method, path, resource, allow string }{
		{"DELETE", "/users", "/users", "GET, HEAD, POST, OPTIONS"},
		{"POST", "/users/0193a4b2-7c3d-7e4f-8a5b-000000000000", "/users/{id}", "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"},
		{"PUT", "/requests/x", "/requests/{requestId}", "GET, HEAD, OPTIONS"},
	} {
		expect(t, do(t, c, tt.method, tt.path, "", "X-Api-Key", ""), 403)
		expect(t, do(t, c, tt.method, tt.path, "", "Authorization", ""), 401)
		r := expect(t, do(t, c, tt.method, tt.path, ""), 405)
		if r.header.Get("Allow") != tt.allow || r.body["type"] != "https://usersapi.dev/problems/method-not-allowed" ||
			r.body["detail"] != tt.method+" is not allowed on "+tt.resource || r.body["instance"] != r.header.Get("X-Amzn-RequestId") {
			t.Errorf("%s %s: Allow %q, %s", tt.method, tt.path, r.header.Get("Allow"), r.raw)
		}
	}
	// Anyone may ask the documentation, and gets its 405 as well.
	r := expect(t, do(t, c, "DELETE", "/openapi.json", "", "X-Api-Key", "", "Authorization", ""), 405)
	if r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("DELETE /openapi.json: Allow %q", r.header.Get("Allow"))
	}
	if n := invocations(c) - before; n != 0 {
		t.Errorf("%d invocations of the API's functions for methods no route serves", n)
	}
}

// invocations counts the invocations of the functions that API requests
// invoke (every one but the authorizer, and but the worker and the stream,
// which their pollers invoke for earlier tests' writes), from their pools'
// counters, which only grow (X-Ray's map counts only the traces it keeps).
func invocations(c *localcloud.Cloud) int {
	n := 0
	for id, p := range c.Pools {
		switch id {
		case "AuthorizerFunction", "WorkerFunction", "StreamFunction":
		default:
			n += p.Stats().Invocations
		}
	}
	return n
}
