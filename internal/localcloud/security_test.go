package localcloud_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestSecurityMatrix runs every route as every kind of caller and checks the
// status of each. With USERSAPI_MATRIX=FILE it writes the matrix there as a
// Markdown table (the README's).
func TestSecurityMatrix(t *testing.T) {
	c := cloudtest.Cloud(t)
	// A user of alice's, and a request of hers, for the routes of a row to act on
	// (each row gets a fresh user: the writes of one would change the next).
	fresh := func() (string, string) {
		r := expect(t, do(t, c, "POST", "/users", `{"name":"Alice","email":"`+email()+`"}`), 202)
		settle(t, c, r.header.Get("Location"))
		return r.body["userId"].(string), strings.TrimPrefix(r.header.Get("Location"), "/dev")
	}

	forged := func(kind string) string {
		tok, err := c.Issuer.Forged(kind, "alice", "users.read users.write")
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	type caller struct {
		name    string
		headers []string
	}
	callers := []caller{
		{"owner (users.read users.write)", nil},
		{"no key", []string{"X-Api-Key", ""}},
		{"bad key", []string{"X-Api-Key", "not-a-key"}},
		{"no token", []string{"Authorization", ""}},
		{"expired", []string{"Authorization", forged("expired")}},
		{"not yet valid", []string{"Authorization", forged("not-yet-valid")}},
		{"wrong audience", []string{"Authorization", forged("wrong-audience")}},
		{"wrong issuer", []string{"Authorization", forged("wrong-issuer")}},
		{"alg none", []string{"Authorization", forged("alg-none")}},
		{"HS256 with the public key", []string{"Authorization", forged("hs256-public-key")}},
		{"unknown kid", []string{"Authorization", forged("unknown-kid")}},
		{"missing scope", []string{"Authorization", cloudtest.Token(t, c, "alice", "profile")}},
		{"another user (bob)", []string{"Authorization", cloudtest.Token(t, c, "bob", "users.read users.write")}},
		{"admin", []string{"Authorization", cloudtest.Token(t, c, "root", "users.admin")}},
	}
	type route struct{ method, path, body, contentType string }
	routesFor := func(user, req string) []route {
		return []route{
			{"GET", "/users?limit=5", "", ""},
			{"GET", "/users?userId=" + user, "", ""},
			{"GET", "/users/" + user, "", ""},
			{"HEAD", "/users/" + user, "", ""},
			{"GET", req, "", ""},
			{"GET", "/users/" + user + "/export", "", ""},
			{"POST", "/users", `{"name":"New","email":"%s"}`, "application/json"},
			{"PUT", "/users/" + user, `{"name":"Alice","email":"%s"}`, "application/json"},
			{"PATCH", "/users/" + user, `{"age":40}`, "application/merge-patch+json"},
			{"DELETE", "/users/" + user, "", ""},
		}
	}
	unauthenticated := []int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401}
	want := map[string][]int{
		"owner (users.read users.write)": {403, 200, 200, 200, 200, 403, 202, 202, 202, 202},
		"no key":                         {403, 403, 403, 403, 403, 403, 403, 403, 403, 403},
		"bad key":                        {403, 403, 403, 403, 403, 403, 403, 403, 403, 403},
		"no token":                       unauthenticated,
		"expired":                        unauthenticated,
		"not yet valid":                  unauthenticated,
		"wrong audience":                 unauthenticated,
		"wrong issuer":                   unauthenticated,
		"alg none":                       unauthenticated,
		"HS256 with the public key":      unauthenticated,
		"unknown kid":                    unauthenticated,
		"missing scope":                  {403, 403, 403, 403, 403, 403, 403, 403, 403, 403},
		"another user (bob)":             {403, 404, 404, 404, 404, 403, 202, 403, 403, 403},
		"admin":                          {200, 200, 200, 200, 200, 200, 202, 202, 202, 202},
	}
	var table strings.Builder
	table.WriteString("| caller |")
	for _, rt := range routesFor("{id}", "/requests/{requestId}") {
		table.WriteString(" " + rt.method + " " + rt.path + " |")
	}
	table.WriteString("\n|---|" + strings.Repeat("---|", len(routesFor("", ""))) + "\n")
	for _, cl := range callers {
		routes := routesFor(fresh())
		table.WriteString("| " + cl.name + " |")
		for i, rt := range routes {
			body := rt.body
			if strings.Contains(body, "%s") {
				body = fmt.Sprintf(body, email())
			}
			h := append([]string{}, cl.headers...)
			if rt.contentType != "" {
				h = append(h, "Content-Type", rt.contentType)
			}
			got := do(t, c, rt.method, rt.path, body, h...)
			if got.status != want[cl.name][i] {
				t.Errorf("%s: %s %s = %d, want %d: %s", cl.name, rt.method, rt.path, got.status, want[cl.name][i], got.raw)
			}
			fmt.Fprintf(&table, " %d |", got.status)
		}
		table.WriteString("\n")
	}
	if f := os.Getenv("USERSAPI_MATRIX"); f != "" {
		if err := os.WriteFile(f, []byte(table.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
