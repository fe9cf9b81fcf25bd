package localcloud_test

import (
	"strings"
	"testing"

	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestWAF: the template's web ACL runs before the gateway, so every write
// over 64 KiB gets its 413 (POST and PUT too, which API Gateway's validator
// would answer 400), and one of exactly 64 KiB goes through to the API.
func TestWAF(t *testing.T) {
	c := cloudtest.Cloud(t)
	if c.WAF == nil {
		t.Fatal("the template associates no web ACL with the stage")
	}
	user := "/users/0193a4b2-7c3d-7e4f-8a5b-000000000000"
	// body is a JSON body of exactly n bytes.
	body := func(n int) string {
		prefix := `{"name":"`
		return prefix + strings.Repeat("a", n-len(prefix)-2) + `"}`
	}
	for _, tt := range []struct{ method, path, ct string }{
		{"POST", "/users", "application/json"},
		{"PUT", user, "application/json"},
		{"PATCH", user, "application/merge-patch+json"},
	} {
		tooLarge(t, do(t, c, tt.method, tt.path, body(65537), "Content-Type", tt.ct))
		if r := do(t, c, tt.method, tt.path, body(65536), "Content-Type", tt.ct); r.status == 413 && strings.Contains(r.raw, "the body is larger than 64 KiB") {
			t.Errorf("%s %s of 65,536 bytes: the web ACL refused it: %s", tt.method, tt.path, r.raw)
		}
	}
}

// tooLarge checks that r is the web ACL's 413: the too-large problem, as
// application/json (AWS WAF's custom responses know no other JSON type).
func tooLarge(t *testing.T, r response) {
	t.Helper()
	if r.status != 413 || r.header.Get("Content-Type") != "application/json" ||
		r.body["type"] != "https://usersapi.dev/problems/too-large" || r.header.Get("X-Amzn-RequestId") != "" {
		t.Errorf("want the web ACL's 413: %d %v %s", r.status, r.header, r.raw)
	}
}
