package localcloud_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestCharactersSQSRefuses, tried as a new user would (issue 14, finding 1):
// a name or an email holding U+FFFF, U+FFFE or a control character was a 503
// with Retry-After on every try, SQS refusing the message; now it is a 400
// naming the field, on POST, PUT and PATCH, with and without an
// Idempotency-Key, and nothing is queued. POST and PUT bodies are refused by
// the gateway's validator on the document's pattern (which API Gateway's
// model validation applies too), PATCH bodies by ingest.
func TestCharactersSQSRefuses(t *testing.T) {
	c := cloudtest.Cloud(t)
	r := expect(t, do(t, c, "POST", "/users", `{"name":"Ada","email":"`+email()+`"}`), 202)
	settle(t, c, r.header.Get("Location"))
	id := r.body["userId"].(string)
	for _, tt := range []struct{ field, value string }{
		{"name", "x\uffffx"}, {"name", "x\ufffex"}, {"name", "a\u0000b"}, {"email", "cp\uffff1@example.com"},
	} {
		fields := map[string]string{"name": "Ada", "email": email()}
		fields[tt.field] = tt.value
		body, _ := json.Marshal(fields)
		full := string(body)
		v, _ := json.Marshal(tt.value)
		patch := `{"` + tt.field + `":` + string(v) + `}`
		for _, key := range []string{"", "hostile-" + strings.ReplaceAll(email(), "@", "-")} {
			for _, w := range []struct{ method, path, body, ct string }{
				{"POST", "/users", full, "application/json"},
				{"PUT", "/users/" + id, full, "application/json"},
				{"PATCH", "/users/" + id, patch, "application/merge-patch+json"},
			} {
				headers := []string{"Content-Type", w.ct}
				if key != "" {
					headers = append(headers, "Idempotency-Key", key+w.method)
				}
				r := expect(t, do(t, c, w.method, w.path, w.body, headers...), 400)
				if !namesField(r, tt.field) {
					t.Errorf("%s %s %q: the problem does not name %s: %s", w.method, w.path, tt.value, tt.field, r.raw)
				}
			}
		}
	}
}

// namesField reports whether the 400 r names field: ingest's problem lists
// it in errors; the gateway's validator, which refuses a POST or PUT body
// against the document's pattern before any function runs (as API Gateway's
// model validation does), names it as a JSON pointer in detail.
func namesField(r response, field string) bool {
	if r.body["type"] != "https://usersapi.dev/problems/invalid" {
		return false
	}
	return strings.Contains(r.raw, `"field":"`+field+`"`) || strings.Contains(r.raw, `\"/`+field+`\"`)
}

// TestEmptyIfMatch: an If-Match sent empty is refused (400), not a write
// without a condition (finding 3); ?userId= checks limit and cursor (finding 4).
func TestEmptyIfMatch(t *testing.T) {
	c := cloudtest.Cloud(t)
	r := expect(t, do(t, c, "POST", "/users", `{"name":"Ada","email":"`+email()+`"}`), 202)
	settle(t, c, r.header.Get("Location"))
	id := r.body["userId"].(string)
	for _, v := range []string{" ", `"01"`, `"1234567890123456789"`} {
		expect(t, do(t, c, "PATCH", "/users/"+id, `{"age":40}`, "Content-Type", "application/merge-patch+json", "If-Match", v), 400)
	}
	expect(t, do(t, c, "GET", "/users?userId="+id+"&limit=-5&cursor=xyz", ""), 400)
	expect(t, do(t, c, "GET", "/users?userId="+id+"&cursor=xyz", ""), 400)
}
