package localcloud_test

// The hostile-input suite (issue 14): what an attacker of the API would send,
// through the local cloud as a client sends it, one test per class of attack,
// each a table of cases. Every answer is held to the contract (status, and the
// problem's type where the contract names one) and to leakFree: no stack
// trace, Go error text, ARN or internal name, whatever was sent.
//
// The numbered findings each have a test that failed before its fix:
//
//	1  TestCharactersSQSRefuses (hostile_e2e_test.go)
//	2  TestHostileFindings/refusals_are_no_authorizer_failures
//	3  TestEmptyIfMatch (hostile_e2e_test.go); TestHostileHeaders (If-Match, Idempotency-Key forms)
//	4  TestEmptyIfMatch (hostile_e2e_test.go); TestHostileListing
//	5  TestHeadAuthorizesAsGet (methods_test.go)
//	6  TestOtherMethods (methods_test.go)
//	7  TestBadUTF8IsRefused (bodies_test.go); TestHostileUnicode
//	8  TestHostileJSON (through the cloud); apigateway's TestValidatorSpeaksAPIGateway
//	9  TestHostileFindings/duplicate_authorization_locks_nobody_out
//	10 TestStartOnAPortInUse, TestStartFailsCleanly (start_test.go)
//	11 TestAPIServerTimesOutSlowBodies, TestRedriveRefusesOtherSites (server_test.go),
//	   TestDocsServersIgnoreTheClient (docs_test.go), TestHostileTokens (scope
//	   separators, exp as a string), TestHostileUnicode (invisible names, IDN twins),
//	   TestHostileListing (the cursor shows no key names)

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// leaks are what no answer may hold: a Go panic or stack, a Go error's words,
// an AWS resource name or ARN, a source position.
var leaks = []string{
	"goroutine ", "panic", "runtime error", "runtime.", "strconv.", "json:", "invalid character",
	"exceeded max depth", "unexpected end of JSON", "arn:aws", "amazonaws.com", "UsersTable",
	"RequestsTable", "IdempotencyTable", "WriteQueue", "WriteDLQ", "dynamodb", "DynamoDB",
	"sqs", "SQS", ".fifo", "Exception", ".go:", "/usr/local/go", "github.com/usersapi",
}

// leakFree fails t when r's body or a header value holds any of leaks.
func leakFree(t *testing.T, what string, r response) {
	t.Helper()
	all := r.raw
	for k, vs := range r.header {
		if k == "X-Amzn-Errortype" {
			continue // API Gateway's own header (UnauthorizedException...), as AWS sends it
		}
		all += "\n" + k + ": " + strings.Join(vs, ", ")
	}
	for _, l := range leaks {
		if strings.Contains(all, l) {
			t.Errorf("%s: the answer holds %q: %d %.300s", what, l, r.status, all)
		}
	}
}

// want checks r's status, its problem type when typ is set (a short name under
// https://usersapi.dev/problems/), and that it leaks nothing.
func want(t *testing.T, what string, r response, status int, typ string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: %d, want %d: %.300s", what, r.status, status, r.raw)
	}
	if typ != "" && r.body["type"] != "https://usersapi.dev/problems/"+typ {
		t.Errorf("%s: problem type %v, want %s: %.300s", what, r.body["type"], typ, r.raw)
	}
	leakFree(t, what, r)
}

// newUser creates a user as alice and waits for it; it returns the user's id
// and the path of the request that created it.
func newUser(t *testing.T, c *localcloud.Cloud) (id, request string) {
	t.Helper()
	r := expect(t, do(t, c, "POST", "/users", `{"name":"Hostile","email":"`+email()+`"}`), 202)
	settle(t, c, r.header.Get("Location"))
	return r.body["userId"].(string), strings.TrimPrefix(r.header.Get("Location"), "/dev")
}

// exchange sends req as it is (the test's key and alice's token unless req
// has its own) and reads the answer.
func exchange(t *testing.T, c *localcloud.Cloud, req *http.Request) response {
	t.Helper()
	if _, ok := req.Header["X-Api-Key"]; !ok {
		req.Header.Set("X-Api-Key", cloudtest.TestKey)
	}
	if _, ok := req.Header["Authorization"]; !ok {
		req.Header.Set("Authorization", cloudtest.Token(t, c, "alice", "users.read users.write"))
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return readResponse(resp)
}

func readResponse(resp *http.Response) response {
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &r.body)
	return r
}

// rawExchange writes head (the request line and headers, CRLF-separated,
// without the blank line) and body to c's API server as bytes, so that what
// Go's client would refuse to send (a CR in a header value, a path it would
// clean) reaches the server, and reads one answer.
func rawExchange(t *testing.T, c *localcloud.Cloud, head, body string) response {
	t.Helper()
	u, err := url.Parse(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	msg := head + "\r\nHost: " + u.Host + "\r\nConnection: close\r\n"
	if body != "" {
		msg += fmt.Sprintf("Content-Length: %d\r\n", len(body))
	}
	if _, err := io.WriteString(conn, msg+"\r\n"+body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%q: %v", head, err)
	}
	defer resp.Body.Close()
	return readResponse(resp)
}

// credentials are the raw header lines of alice with the test key.
func credentials(t *testing.T, c *localcloud.Cloud) string {
	return "\r\nX-Api-Key: " + cloudtest.TestKey + "\r\nAuthorization: " + cloudtest.Token(t, c, "alice", "users.read users.write")
}

// withClaims returns "Bearer <token>" for claims as they are, signed by the
// cloud's issuer: a token whose signature is good and whose content is the trick.
func withClaims(t *testing.T, c *localcloud.Cloud, claims jwt.MapClaims) string {
	t.Helper()
	now := time.Now().Unix()
	base := jwt.MapClaims{"iss": localcloud.LocalIssuer, "aud": localcloud.LocalAudience, "sub": "alice",
		"scope": "users.read users.write", "iat": now, "nbf": now, "exp": now + 3600, "token_use": "access"}
	for k, v := range claims {
		if v == nil {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	tok, err := c.Issuer.Signed(base)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

// TestHostileFindings: findings 2 and 9 of issue 14, which had unit tests
// only, tried through the cloud.
func TestHostileFindings(t *testing.T) {
	c := cloudtest.Cloud(t)
	id, _ := newUser(t, c)

	t.Run("refusals are no authorizer failures", func(t *testing.T) {
		// Finding 2: each refused token counted as an authorizer error, which
		// fires AuthorizerErrorsAlarm and rolls a canary back.
		before := localMetrics(t, c)["AuthorizerFailures"]
		for i := range 10 {
			r := do(t, c, "GET", "/users/"+id, "", "Authorization", fmt.Sprintf("Bearer junk.%d.token", i))
			want(t, "junk token", r, 401, "")
		}
		if after := localMetrics(t, c)["AuthorizerFailures"]; after != before {
			t.Errorf("10 refused tokens counted %v authorizer failures", after-before)
		}
	})

	t.Run("duplicate authorization locks nobody out", func(t *testing.T) {
		// Finding 9: the refusal of a request with two Authorization headers was
		// cached under the first value, the holder's token, for 60 s.
		good := cloudtest.Token(t, c, "alice", "users.read users.write")
		for _, pair := range [][]string{{good, "Bearer junk"}, {"Bearer junk", good}} {
			req, _ := http.NewRequest("GET", c.URL+"/users/"+id, nil)
			req.Header["Authorization"] = pair
			r := exchange(t, c, req)
			leakFree(t, "two Authorization headers", r)
			if r.status == 200 && pair[1] != good {
				t.Errorf("two Authorization headers, the last junk: 200")
			}
			want(t, "the holder alone, after", do(t, c, "GET", "/users/"+id, "", "Authorization", good), 200, "")
		}
	})
}

// TestHostileObjectLevel: bob, with every scope a caller may hold but admin,
// reaches none of alice's user or requests by any route or form, and learns
// nothing a missing id would not tell him (OWASP API1).
func TestHostileObjectLevel(t *testing.T) {
	c := cloudtest.Cloud(t)
	id, req := newUser(t, c)
	missing := "0193a4b2-7c3d-7e4f-8a5b-000000000000"
	bob := cloudtest.Token(t, c, "bob", "users.read users.write")
	merge := []string{"Content-Type", "application/merge-patch+json"}
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		typ                      string
	}{
		{"GET by id", "GET", "/users/" + id, "", nil, 404, "not-found"},
		{"HEAD by id", "HEAD", "/users/" + id, "", nil, 404, ""},
		{"GET by id, If-None-Match of its version", "GET", "/users/" + id, "", []string{"If-None-Match", `"1"`}, 404, "not-found"},
		{"GET ?userId=", "GET", "/users?userId=" + id, "", nil, 404, "not-found"},
		{"HEAD ?userId=", "HEAD", "/users?userId=" + id, "", nil, 404, ""},
		{"GET ?userId= with a limit", "GET", "/users?limit=1&userId=" + id, "", nil, 404, "not-found"},
		{"the list", "GET", "/users?limit=100", "", nil, 403, "forbidden"},
		{"GET her request", "GET", req, "", nil, 404, "not-found"},
		{"HEAD her request", "HEAD", req, "", nil, 404, ""},
		{"GET her request, Prefer: wait", "GET", req, "", []string{"Prefer", "wait=1"}, 404, "not-found"},
		{"the export", "GET", "/users/" + id + "/export", "", nil, 403, "forbidden"},
		{"HEAD the export", "HEAD", "/users/" + id + "/export", "", nil, 403, ""},
		{"PUT", "PUT", "/users/" + id, `{"name":"Bob's","email":"` + email() + `"}`, nil, 403, "forbidden"},
		{"PUT with her If-Match", "PUT", "/users/" + id, `{"name":"Bob's","email":"` + email() + `"}`, []string{"If-Match", `"1"`}, 403, "forbidden"},
		{"PUT with Prefer: wait", "PUT", "/users/" + id, `{"name":"Bob's","email":"` + email() + `"}`, []string{"Prefer", "wait=2"}, 403, "forbidden"},
		{"PATCH", "PATCH", "/users/" + id, `{"age":40}`, merge, 403, "forbidden"},
		{"PATCH with an Idempotency-Key", "PATCH", "/users/" + id, `{"age":40}`, append([]string{"Idempotency-Key", "bob-1"}, merge...), 403, "forbidden"},
		{"DELETE", "DELETE", "/users/" + id, "", nil, 403, "forbidden"},
		{"DELETE with If-Match and a key", "DELETE", "/users/" + id, "", []string{"If-Match", `"1"`, "Idempotency-Key", "bob-2"}, 403, "forbidden"},
		{"DELETE with Prefer: wait", "DELETE", "/users/" + id, "", []string{"Prefer", "wait=2"}, 403, "forbidden"},
	}
	for _, tt := range tests {
		h := append([]string{"Authorization", bob}, tt.headers...)
		got := do(t, c, tt.method, tt.path, tt.body, h...)
		want(t, "bob: "+tt.name, got, tt.status, tt.typ)
		// The same form on an id nobody has: the same answer, so ids cannot be probed.
		if strings.Contains(tt.path, id) {
			other := do(t, c, tt.method, strings.ReplaceAll(tt.path, id, missing), tt.body, h...)
			same := func(r response, id string) string {
				return strings.ReplaceAll(fmt.Sprint(r.body["detail"]), id, "{id}")
			}
			if other.status != got.status || other.body["type"] != got.body["type"] || same(other, missing) != same(got, id) {
				t.Errorf("bob: %s: her user %d %v, a missing one %d %v: tells them apart", tt.name, got.status, got.body["detail"], other.status, other.body["detail"])
			}
		}
	}
	// Nothing bob sent changed her user, and an admin still sees her request as hers.
	u := expect(t, do(t, c, "GET", "/users/"+id, ""), 200)
	if u.header.Get("ETag") != `"1"` || u.body["name"] != "Hostile" {
		t.Errorf("alice's user after bob: %v %s", u.header.Get("ETag"), u.raw)
	}
	admin := cloudtest.Token(t, c, "root", "users.admin")
	want(t, "admin: the export", do(t, c, "GET", "/users/"+id+"/export", "", "Authorization", admin), 200, "")
}

// TestHostileTokens: tokens that are not what they claim, or claim too much
// (OWASP API2), on a read alice's own token is allowed (200).
func TestHostileTokens(t *testing.T) {
	c := cloudtest.Cloud(t)
	id, _ := newUser(t, c)
	good := strings.TrimPrefix(cloudtest.Token(t, c, "alice", "users.read users.write"), "Bearer ")
	parts := strings.Split(good, ".")
	bobsPayload := strings.Split(strings.TrimPrefix(cloudtest.Token(t, c, "bob", "users.read users.write"), "Bearer "), ".")[1]
	forged := func(kind string) string {
		tok, err := c.Issuer.Forged(kind, "alice", "users.read users.write")
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	now := time.Now().Unix()
	tests := []struct {
		name, auth string
		status     int
	}{
		{"the good token (control)", "Bearer " + good, 200},
		{"the scheme in lower case (RFC 7235: case-insensitive)", "bearer " + good, 200},
		{"no scheme", good, 401},
		{"Basic", "Basic YWxpY2U6c2VjcmV0", 401},
		{"Bearer and nothing", "Bearer ", 401},
		{"a signature changed", "Bearer " + parts[0] + "." + parts[1] + "." + flipFirst(parts[2]), 401},
		{"the signature removed", "Bearer " + parts[0] + "." + parts[1] + ".", 401},
		{"another's payload under her signature", "Bearer " + parts[0] + "." + bobsPayload + "." + parts[2], 401},
		{"the token twice", "Bearer " + good + " " + good, 401},
		{"10 KB of junk", "Bearer " + strings.Repeat("A", 10240), 401},
		{"alg none", forged("alg-none"), 401},
		{"HS256 keyed with the public key", forged("hs256-public-key"), 401},
		{"another key", forged("unknown-kid"), 401},
		{"expired", forged("expired"), 401},
		{"not yet valid", forged("not-yet-valid"), 401},
		{"wrong issuer", forged("wrong-issuer"), 401},
		{"wrong audience", forged("wrong-audience"), 401},
		{"no exp", withClaims(t, c, jwt.MapClaims{"exp": nil}), 401},
		{"exp as a string (finding 11)", withClaims(t, c, jwt.MapClaims{"exp": fmt.Sprint(now + 3600)}), 401},
		{"iat as a string", withClaims(t, c, jwt.MapClaims{"iat": fmt.Sprint(now)}), 401},
		{"iat in the future", withClaims(t, c, jwt.MapClaims{"iat": now + 3600}), 401},
		{"no sub", withClaims(t, c, jwt.MapClaims{"sub": nil}), 401},
		{"an ID token", withClaims(t, c, jwt.MapClaims{"token_use": "id"}), 401},
		{"scope as an array", withClaims(t, c, jwt.MapClaims{"scope": []string{"users.read", "users.admin"}}), 401},
		{"scopes split by a tab (finding 11)", withClaims(t, c, jwt.MapClaims{"scope": "users.read\tusers.write"}), 403},
		{"scopes split by a no-break space (finding 11)", withClaims(t, c, jwt.MapClaims{"scope": "users.read\u00a0users.write"}), 403},
		{"scopes split by a comma", withClaims(t, c, jwt.MapClaims{"scope": "users.read,users.write"}), 403},
		{"scopes run together", withClaims(t, c, jwt.MapClaims{"scope": "users.readusers.write"}), 403},
		{"a scope in capitals", withClaims(t, c, jwt.MapClaims{"scope": "USERS.READ"}), 403},
		{"a scope under another prefix", withClaims(t, c, jwt.MapClaims{"scope": "other/users.read"}), 403},
		{"scp instead of scope", withClaims(t, c, jwt.MapClaims{"scope": nil, "scp": "users.read"}), 403},
	}
	for _, tt := range tests {
		r := do(t, c, "GET", "/users/"+id, "", "Authorization", tt.auth)
		typ := map[int]string{401: "unauthorized", 403: "forbidden"}[tt.status]
		want(t, tt.name, r, tt.status, typ)
	}
	// A token that reads is no token that writes or lists, however it asks.
	reader := cloudtest.Token(t, c, "alice", "users.read")
	want(t, "users.read: PATCH", do(t, c, "PATCH", "/users/"+id, `{"age":40}`, "Authorization", reader, "Content-Type", "application/merge-patch+json"), 403, "forbidden")
	want(t, "users.write: the list", do(t, c, "GET", "/users?limit=1", ""), 403, "forbidden")
	want(t, "users.write: the export", do(t, c, "GET", "/users/"+id+"/export", ""), 403, "forbidden")
}

// TestHostileMassAssignment: a field the server owns, in any write's body,
// is refused, never applied (OWASP API3). TestValuesStoredExactly tries the
// first six on POST and PATCH; this adds PUT and the rest.
func TestHostileMassAssignment(t *testing.T) {
	c := cloudtest.Cloud(t)
	id, _ := newUser(t, c)
	fields := []string{
		`"id":"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"`, `"version":99`, `"owner":"mallory"`, `"createdAt":"2020-01-01T00:00:00Z"`,
		`"updatedAt":"2020-01-01T00:00:00Z"`, `"requestId":"x"`, `"deleted":true`, `"isAdmin":true`, `"scopes":"users.admin"`,
		`"ID":"x"`, `"Owner":"mallory"`, `"__proto__":{"admin":true}`, `"version":1e400`,
	}
	for _, f := range fields {
		for _, w := range []struct{ method, path, body, ct string }{
			{"POST", "/users", `{"name":"M","email":"` + email() + `",` + f + `}`, "application/json"},
			{"PUT", "/users/" + id, `{"name":"M","email":"` + email() + `",` + f + `}`, "application/json"},
			{"PATCH", "/users/" + id, `{` + f + `}`, "application/merge-patch+json"},
			{"PATCH", "/users/" + id, `{"age":40,` + f + `}`, "application/merge-patch+json"},
		} {
			want(t, w.method+" "+f, do(t, c, w.method, w.path, w.body, "Content-Type", w.ct), 400, "invalid")
		}
	}
	u := expect(t, do(t, c, "GET", "/users/"+id, ""), 200)
	if u.header.Get("ETag") != `"1"` || u.body["owner"] != nil || u.body["age"] != nil {
		t.Errorf("after the refused writes: %s %s", u.header.Get("ETag"), u.raw)
	}
}

// TestHostileJSON: duplicate keys, deep nesting, numbers no parser holds and
// bodies that are no object: each a 400, in API Gateway's words or the
// function's, never a parser's (finding 8). A duplicate key is judged on the
// value that would be stored (the last, for the gateway's validator and the
// function alike), so no value slips past validation behind a valid twin.
func TestHostileJSON(t *testing.T) {
	c := cloudtest.Cloud(t)
	id, _ := newUser(t, c)
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObject := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	write := func(method, body string) response {
		path, ct := "/users", "application/json"
		switch method {
		case "PUT":
			path = "/users/" + id
		case "PATCH":
			path, ct = "/users/"+id, "application/merge-patch+json"
		}
		return do(t, c, method, path, body, "Content-Type", ct)
	}
	tests := []struct {
		name, method, body string
		status             int
	}{
		{"a valid name, then a control character in its twin", "POST", `{"name":"Ok","email":"` + email() + `","name":"a\u0000b"}`, 400},
		{"a valid email, then a bad twin", "POST", `{"name":"Ok","email":"` + email() + `","email":"not-an-email"}`, 400},
		{"an age, then one too young", "PUT", `{"name":"Ok","email":"` + email() + `","age":30,"age":12}`, 400},
		{"a patch of age, then one too old", "PATCH", `{"age":30,"age":500}`, 400},
		{"a patch of name, then null", "PATCH", `{"name":"Ok","name":null}`, 400},
		{"10,001 nested arrays", "POST", `{"name":` + deep(10001) + `}`, 400},
		{"1,000 nested arrays", "POST", `{"name":"A","email":"` + email() + `","phone":` + deep(1000) + `}`, 400},
		{"5,000 nested objects", "POST", deepObject, 400},
		{"10,001 nested arrays in a PUT", "PUT", deep(10001), 400},
		{"10,001 nested arrays in a PATCH", "PATCH", `{"age":` + deep(10001) + `}`, 400},
		{"age 1e400", "POST", `{"name":"A","email":"` + email() + `","age":1e400}`, 400},
		{"age -1e400", "PUT", `{"name":"A","email":"` + email() + `","age":-1e400}`, 400},
		{"age 1e400 in a PATCH", "PATCH", `{"age":1e400}`, 400},
		{"age 1e308", "POST", `{"name":"A","email":"` + email() + `","age":1e308}`, 400},
		{"age 2^53+1", "POST", `{"name":"A","email":"` + email() + `","age":9007199254740993}`, 400},
		{"age of 400 digits", "PATCH", `{"age":` + strings.Repeat("9", 400) + `}`, 400},
		{"age 18.5", "PATCH", `{"age":18.5}`, 400},
		{"age -0", "PATCH", `{"age":-0}`, 400},
		{"age as a string", "PATCH", `{"age":"30"}`, 400},
		{"phone as a number", "PATCH", `{"phone":5551234567}`, 400},
		{"a NUL byte in a string", "POST", "{\"name\":\"a\x00b\",\"email\":\"" + email() + "\"}", 400},
		{"an array", "POST", `[{"name":"A","email":"` + email() + `"}]`, 400},
		{"null", "PUT", `null`, 400},
		{"a string", "PATCH", `"name"`, 400},
		{"two objects", "POST", `{"name":"A","email":"` + email() + `"} {}`, 400},
		{"a truncated object", "PATCH", `{"age":`, 400},
		{"trailing garbage", "PATCH", `{"age":40}x`, 400},
		{"a comment", "POST", `{"name":"A", /* hi */ "email":"` + email() + `"}`, 400},
		{"single quotes", "PATCH", `{'age':40}`, 400},
		{"NaN", "PATCH", `{"age":NaN}`, 400},
		{"a BOM before the object", "POST", "\ufeff{\"name\":\"A\",\"email\":\"" + email() + "\"}", 400},
	}
	for _, tt := range tests {
		want(t, tt.method+" "+tt.name, write(tt.method, tt.body), tt.status, "invalid")
	}
	// The last of twins is the value validated and the value stored.
	mail := email()
	r := want202(t, c, "POST", "/users", `{"name":"First","email":"`+mail+`","name":"Second"}`)
	settle(t, c, r.header.Get("Location"))
	u := expect(t, do(t, c, "GET", "/users/"+r.body["userId"].(string), ""), 200)
	if u.body["name"] != "Second" {
		t.Errorf("duplicate name: stored %v, want the last, Second", u.body["name"])
	}
}

// want202 sends a write that must be accepted.
func want202(t *testing.T, c *localcloud.Cloud, method, path, body string, headers ...string) response {
	t.Helper()
	r := do(t, c, method, path, body, headers...)
	want(t, method+" "+path, r, 202, "")
	if r.status != 202 {
		t.FailNow()
	}
	return r
}

// TestHostileUnicode: text that is not what it seems is refused, and text
// that is valid, however unusual, is stored exactly as sent (finding 7, 11).
func TestHostileUnicode(t *testing.T) {
	c := cloudtest.Cloud(t)
	refused := []struct{ name, body string }{
		{"a lone high surrogate", `{"name":"a\ud800b","email":"%s"}`},
		{"a lone low surrogate", `{"name":"\udc00","email":"%s"}`},
		{"a reversed pair", `{"name":"\ude00\ud83d","email":"%s"}`},
		{"an overlong slash", "{\"name\":\"a\xc0\xafb\",\"email\":\"%s\"}"},
		{"a surrogate as UTF-8 bytes", "{\"name\":\"a\xed\xa0\x80b\",\"email\":\"%s\"}"},
		{"a truncated sequence", "{\"name\":\"a\xe2\x82\",\"email\":\"%s\"}"},
		{"U+FDD0", `{"name":"a\ufdd0b","email":"%s"}`},
		{"U+FFFE", `{"name":"a\ufffeb","email":"%s"}`},
		{"NEL, a C1 control", `{"name":"a\u0085b","email":"%s"}`},
		{"a tab", `{"name":"a\tb","email":"%s"}`},
		{"a zero-width space only (finding 11)", `{"name":"\u200b","email":"%s"}`},
		{"BOM, zero-width joiner, word joiner only", `{"name":"\ufeff\u200d\u2060","email":"%s"}`},
		{"no-break spaces only", `{"name":"\u00a0\u3000","email":"%s"}`},
		{"101 emoji", `{"name":"` + strings.Repeat("😀", 101) + `","email":"%s"}`},
		{"an email with a NUL", `{"name":"A","email":"a\u0000%s"}`},
		{"an email with a fullwidth at", `{"name":"A","email":"a\uff20example.com"}`},
		{"an email with a newline", `{"name":"A","email":"%s\nBcc: x@example.com"}`},
	}
	for _, tt := range refused {
		body := tt.body
		if strings.Contains(body, "%s") {
			body = fmt.Sprintf(body, email())
		}
		want(t, tt.name, do(t, c, "POST", "/users", body), 400, "invalid")
	}
	stored := []struct{ name, value string }{
		{"an emoji from a surrogate pair", "\U0001F600"},
		{"100 emoji", strings.Repeat("😀", 100)},
		{"a family of joined emoji", "👨\u200d👩\u200d👧"},
		{"a right-to-left override", "\u202eevil"},
		{"a decomposed accent (not normalized)", "e\u0301"},
		{"a composed accent", "\u00e9"},
		{"U+10FFFF, which SQS carries", "a\U0010FFFFb"},
		{"Zalgo", "Z\u0351\u0363\u0364a\u0352\u034c"},
		{"a name that is HTML", "<script>alert(1)</script>"},
		{"a name that is SQL", "'; DROP TABLE users; --"},
	}
	for _, tt := range stored {
		body := fmt.Sprintf(`{"name":%s,"email":"%s"}`, jsonString(tt.value), email())
		r := want202(t, c, "POST", "/users", body)
		settle(t, c, r.header.Get("Location"))
		u := expect(t, do(t, c, "GET", "/users/"+r.body["userId"].(string), ""), 200)
		if u.body["name"] != tt.value {
			t.Errorf("%s: stored %q, sent %q", tt.name, u.body["name"], tt.value)
		}
	}
	// An internationalized domain and its A-label are one email (finding 11).
	local := strings.TrimSuffix(email(), "@example.com")
	first := want202(t, c, "POST", "/users", `{"name":"IDN","email":"`+local+`@bücher.de"}`)
	if st := settle(t, c, first.header.Get("Location")); st["status"] != "succeeded" {
		t.Fatalf("the IDN email: %v", st)
	}
	twin := want202(t, c, "POST", "/users", `{"name":"IDN","email":"`+local+`@xn--bcher-kva.de"}`)
	st := settle(t, c, twin.header.Get("Location"))
	if errBody, _ := st["error"].(map[string]any); st["status"] != "failed" || errBody["type"] != "https://usersapi.dev/problems/email-taken" {
		t.Errorf("the A-label twin of a taken email: %v", st)
	}
}

// jsonString is s as a JSON string, every non-ASCII code point escaped.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				r -= 0x10000
				fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
				continue
			}
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestHostileBodySizes: 64 KiB is the limit for every write, in the web ACL
// and behind it: a valid body of exactly 65,536 bytes is accepted, one more
// byte is 413, with or without Content-Length (TestWAF checks the web ACL's
// own answer at the same sizes).
func TestHostileBodySizes(t *testing.T) {
	c := cloudtest.Cloud(t)
	id, _ := newUser(t, c)
	// padded is body's JSON with spaces before its last brace, n bytes long.
	padded := func(body string, n int) string {
		return body[:len(body)-1] + strings.Repeat(" ", n-len(body)) + "}"
	}
	for _, w := range []struct{ method, path, body, ct string }{
		{"POST", "/users", `{"name":"Pad","email":"%s"}`, "application/json"},
		{"PUT", "/users/" + id, `{"name":"Pad","email":"%s"}`, "application/json"},
		{"PATCH", "/users/" + id, `{"age":40}`, "application/merge-patch+json"},
	} {
		body := w.body
		if strings.Contains(body, "%s") {
			body = fmt.Sprintf(body, email())
		}
		for _, tt := range []struct {
			size    int
			chunked bool
			status  int
		}{
			{65536, false, 202}, {65537, false, 413}, {65536, true, 202}, {65537, true, 413}, {1 << 20, false, 413},
		} {
			req, _ := http.NewRequest(w.method, c.URL+w.path, strings.NewReader(padded(body, tt.size)))
			if tt.chunked {
				req.Body = io.NopCloser(strings.NewReader(padded(body, tt.size)))
				req.ContentLength = -1
			}
			req.Header.Set("Content-Type", w.ct)
			r := exchange(t, c, req)
			what := fmt.Sprintf("%s of %d bytes (chunked %v)", w.method, tt.size, tt.chunked)
			want(t, what, r, tt.status, map[int]string{413: "too-large"}[tt.status])
			if r.status == 202 {
				settle(t, c, r.header.Get("Location"))
			}
		}
	}
}

// TestHostileHeaders: a CR or LF in a header value, encoded CRLF in the path
// or query, headers too large, and the API's own headers in malformed forms:
// refused (400, 431, or the contract's problem), no header injected into the
// answer, and the server answers the next request.
func TestHostileHeaders(t *testing.T) {
	c := cloudtest.Cloud(t)
	id, _ := newUser(t, c)
	u, _ := url.Parse(c.URL)
	stage := u.Path
	creds := credentials(t, c)
	raws := []struct {
		name, head string
		status     int
	}{
		{"a CR in a header value", "GET " + stage + "/users/" + id + " HTTP/1.1" + creds + "\r\nX-Note: a\rX-Injected: 1", 400},
		// A bare LF ends a header line (RFC 9112, 2.2 lets a server take it so): the
		// "injected" line is one more request header, and the answer is the read's.
		{"a bare LF in a header value", "GET " + stage + "/users/" + id + " HTTP/1.1" + creds + "\r\nX-Note: a\nX-Injected: 1", 200},
		// An obs-fold is joined to the value before it with a space (RFC 9112, 5.2):
		// an Origin that is no origin of the allowlist.
		{"a folded Origin (obs-fold)", "GET " + stage + "/users/" + id + " HTTP/1.1" + creds + "\r\nOrigin: http://localhost:3000\r\n X-Injected: 1", 200},
		{"a NUL in a header value", "GET " + stage + "/users/" + id + " HTTP/1.1" + creds + "\r\nIf-None-Match: \"1\x00\"", 400},
		{"encoded CRLF in the path", "GET " + stage + "/users/%0d%0aX-Injected:%201 HTTP/1.1" + creds, 400},
		{"encoded CRLF in ?userId=", "GET " + stage + "/users?userId=%0d%0aX-Injected:%201 HTTP/1.1" + creds, 400},
		{"encoded CRLF in the request id", "GET " + stage + "/requests/%0d%0aX-Injected:%201 HTTP/1.1" + creds, 404},
		{"a space in the header name", "GET " + stage + "/users/" + id + " HTTP/1.1" + creds + "\r\nX Injected: 1", 400},
	}
	for _, tt := range raws {
		r := rawExchange(t, c, tt.head, "")
		want(t, tt.name, r, tt.status, "")
		if r.header.Get("X-Injected") != "" || strings.Contains(r.header.Get("Access-Control-Allow-Origin"), "Injected") {
			t.Errorf("%s: the answer carries the injected header: %v", tt.name, r.header)
		}
	}
	merge := []string{"Content-Type", "application/merge-patch+json"}
	tests := []struct {
		name, method, path string
		headers            []string
		status             int
		typ                string
	}{
		{"a 2 MiB header", "GET", "/users/" + id, []string{"X-Filler", strings.Repeat("a", 2<<20)}, 431, ""},
		{"an 8 KiB API key", "GET", "/users/" + id, []string{"X-Api-Key", strings.Repeat("k", 8192)}, 403, "forbidden"},
		{"Idempotency-Key of 256 characters", "PATCH", "/users/" + id, append([]string{"Idempotency-Key", strings.Repeat("k", 256)}, merge...), 400, "invalid"},
		{"Idempotency-Key with a space", "PATCH", "/users/" + id, append([]string{"Idempotency-Key", "a b"}, merge...), 400, "invalid"},
		{"Idempotency-Key, one quote", "PATCH", "/users/" + id, append([]string{"Idempotency-Key", `"abc`}, merge...), 400, "invalid"},
		{"Idempotency-Key of spaces (finding 3)", "PATCH", "/users/" + id, append([]string{"Idempotency-Key", "   "}, merge...), 400, "invalid"},
		{"If-Match a weak tag", "PATCH", "/users/" + id, append([]string{"If-Match", `W/"1"`}, merge...), 400, "invalid"},
		{"If-Match *", "PATCH", "/users/" + id, append([]string{"If-Match", `*`}, merge...), 400, "invalid"},
		{"If-Match of two tags", "PATCH", "/users/" + id, append([]string{"If-Match", `"1", "2"`}, merge...), 400, "invalid"},
		{"If-Match unquoted", "PATCH", "/users/" + id, append([]string{"If-Match", `1`}, merge...), 400, "invalid"},
		{"If-Match negative", "PATCH", "/users/" + id, append([]string{"If-Match", `"-1"`}, merge...), 400, "invalid"},
		{"If-Match of 19 digits (finding 3)", "PATCH", "/users/" + id, append([]string{"If-Match", `"9999999999999999999"`}, merge...), 400, "invalid"},
		{"Content-Type with a charset that is not UTF-8", "PATCH", "/users/" + id, []string{"Content-Type", "application/merge-patch+json; charset=utf-16"}, 415, "unsupported-media-type"},
		{"Content-Type text/plain", "PATCH", "/users/" + id, []string{"Content-Type", "text/plain"}, 415, "unsupported-media-type"},
		{"Prefer: wait=-1 (ignored)", "PATCH", "/users/" + id, append([]string{"Prefer", "wait=-1"}, merge...), 202, ""},
		{"Prefer of 4 KiB (ignored)", "PATCH", "/users/" + id, append([]string{"Prefer", strings.Repeat("x", 4096)}, merge...), 202, ""},
	}
	for _, tt := range tests {
		body := ""
		if tt.method == "PATCH" {
			body = `{"age":41}`
		}
		want(t, tt.name, do(t, c, tt.method, tt.path, body, tt.headers...), tt.status, tt.typ)
	}
	want(t, "the next request", do(t, c, "GET", "/users/"+id, ""), 200, "")
}

// TestHostileCORS: only the allowlist's exact origin is ever echoed, on an
// answer, an error and a preflight; look-alikes get nothing they could use.
func TestHostileCORS(t *testing.T) {
	c := cloudtest.Cloud(t)
	id, _ := newUser(t, c)
	const allowed = "http://localhost:3000" // AllowedOrigins' default
	for _, tt := range []struct {
		origin string
		echo   bool
	}{
		{allowed, true},
		{"https://evil.example", false},
		{"null", false},
		{"http://localhost:3000.evil.com", false},
		{"https://app.example.com.evil.com", false},
		{"http://evil.localhost:3000", false},
		{"http://localhost:30000", false},
		{"http://localhost:300", false},
		{"https://localhost:3000", false},
		{"http://localhost:3000/", false},
		{"http://localhost:3000@evil.com", false},
		{"HTTP://LOCALHOST:3000", false},
		{"http://localhost:3000, https://evil.example", false},
		{"*", false},
	} {
		for _, probe := range []struct {
			what   string
			method string
			path   string
			extra  []string
		}{
			{"an answer", "GET", "/users/" + id, nil},
			{"an error", "GET", "/users/" + id, []string{"Authorization", ""}},
			{"a preflight", "OPTIONS", "/users/" + id, []string{"Access-Control-Request-Method", "PATCH", "Access-Control-Request-Headers", "authorization,content-type"}},
		} {
			r := do(t, c, probe.method, probe.path, "", append([]string{"Origin", tt.origin}, probe.extra...)...)
			what := fmt.Sprintf("Origin %q, %s", tt.origin, probe.what)
			leakFree(t, what, r)
			acao := r.header.Get("Access-Control-Allow-Origin")
			switch {
			case acao == "*":
				t.Errorf("%s: Access-Control-Allow-Origin: *", what)
			case tt.echo && acao != allowed:
				t.Errorf("%s: Access-Control-Allow-Origin %q, want the origin", what, acao)
			case !tt.echo && acao != "" && acao != allowed:
				// An error of the gateway's own names the allowlist's first origin, a fixed value;
				// anything else would be the look-alike's.
				t.Errorf("%s: Access-Control-Allow-Origin %q", what, acao)
			case !tt.echo && probe.what != "an error" && acao != "":
				t.Errorf("%s: a look-alike is answered with %q", what, acao)
			}
			if r.header.Get("Access-Control-Allow-Credentials") == "true" && !tt.echo {
				t.Errorf("%s: credentials allowed", what)
			}
		}
	}
}

// TestHostileDocsTraversal: /docs/{file} serves the documentation's own
// files and nothing else, however the path climbs: encoded dots and slashes,
// backslashes, doubled encodings, a NUL. Each is 404 (or 400 where the
// gateway cannot route it), or, for a path with dot segments, the local
// server's redirect to the same path cleaned (Go's ServeMux), which names a
// path of this server, never a file; anyone may ask, and no answer holds a
// file of the machine, the repository or the function.
func TestHostileDocsTraversal(t *testing.T) {
	c := cloudtest.Cloud(t)
	u, _ := url.Parse(c.URL)
	secrets := []string{"root:x:0", "package main", "AWSTemplateFormatVersion", "BEGIN EC PRIVATE KEY", "module github.com", "openapi: 3", "\"openapi\""}
	for _, p := range []string{
		"../openapi.json", "../../openapi.json", "..%2fopenapi.json", "%2e%2e/openapi.json", "%2e%2e%2fopenapi.json",
		"%252e%252e%252fopenapi.json", "..%5copenapi.json", "..\\openapi.json", "....//openapi.json", "..;/openapi.json",
		"%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "../../../../../../etc/passwd", "%2fetc%2fpasswd", "/etc/passwd",
		"..%c0%afetc%c0%afpasswd", "swagger-ui.css%00.js", "swagger-ui.css/..", "./swagger-ui.css/../../openapi.json",
		"%2e%2e%2f%2e%2e%2fgo.mod", "../assets/index.html", "..%2f..%2f..%2ftemplate.yaml", "%u002e%u002e/openapi.json",
	} {
		r := rawExchange(t, c, "GET "+u.Path+"/docs/"+p+" HTTP/1.1", "")
		what := "/docs/" + p
		switch loc := r.header.Get("Location"); {
		case r.status == 307 || r.status == 301:
			if !strings.HasPrefix(loc, "/") || slices.Contains(strings.Split(loc, "/"), "..") || strings.Contains(loc, "\\") {
				t.Errorf("%s: redirected to %q", what, loc)
			}
		case r.status != 404 && r.status != 400:
			t.Errorf("%s: %d, want 404 or 400: %.200s", what, r.status, r.raw)
		}
		leakFree(t, what, r)
		for _, s := range secrets {
			if strings.Contains(r.raw, s) {
				t.Errorf("%s: the answer holds %q", what, s)
			}
		}
	}
	// The control: a file of the documentation is served.
	if r := rawExchange(t, c, "GET "+u.Path+"/docs/swagger-ui.css HTTP/1.1", ""); r.status != 200 && r.status != 404 {
		t.Errorf("/docs/swagger-ui.css: %d", r.status)
	}
}

// TestHostileIdempotencyStorm: one Idempotency-Key sent many times at once
// has exactly one effect: every answer is the same 202 (or 409 while the
// first is being accepted, which a retry turns into that 202), one request,
// one change event.
func TestHostileIdempotencyStorm(t *testing.T) {
	c := cloudtest.Cloud(t)
	const n = 20
	storm := func(t *testing.T, method, path string, body func(i int) string, ct string) (ids map[string]int, statuses map[int]int) {
		key := "storm-" + strings.TrimSuffix(email(), "@example.com")
		ids, statuses = map[string]int{}, map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var r response
				for range 50 { // a 409 says: retry in a moment
					r = do(t, c, method, path, body(i), "Idempotency-Key", key, "Content-Type", ct)
					if r.status != 409 {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				leakFree(t, "storm", r)
				mu.Lock()
				defer mu.Unlock()
				statuses[r.status]++
				if r.status == 202 {
					ids[r.body["requestId"].(string)]++
				}
			})
		}
		wg.Wait()
		return ids, statuses
	}

	t.Run("one create", func(t *testing.T) {
		mail := email()
		ids, statuses := storm(t, "POST", "/users", func(int) string { return `{"name":"Storm","email":"` + mail + `"}` }, "application/json")
		if len(ids) != 1 || statuses[202] != n {
			t.Fatalf("%d creates with one key: request ids %v, statuses %v", n, ids, statuses)
		}
		var req string
		for id := range ids {
			req = id
		}
		st := settle(t, c, "/requests/"+req)
		if evs := waitEvents(t, c, st["userId"].(string), 1); len(evs) != 1 {
			t.Errorf("%d events for one key", len(evs))
		}
	})

	t.Run("one patch", func(t *testing.T) {
		id, _ := newUser(t, c)
		ids, statuses := storm(t, "PATCH", "/users/"+id, func(int) string { return `{"age":40}` }, "application/merge-patch+json")
		if len(ids) != 1 || statuses[202] != n {
			t.Fatalf("%d patches with one key: request ids %v, statuses %v", n, ids, statuses)
		}
		for req := range ids {
			settle(t, c, "/requests/"+req)
		}
		if evs := waitEvents(t, c, id, 2); len(evs) != 2 {
			t.Errorf("%d events for a create and one keyed patch", len(evs))
		}
		if u := expect(t, do(t, c, "GET", "/users/"+id, ""), 200); u.header.Get("ETag") != `"2"` {
			t.Errorf("after the storm: ETag %s", u.header.Get("ETag"))
		}
	})

	t.Run("one key, different bodies", func(t *testing.T) {
		ids, statuses := storm(t, "POST", "/users", func(int) string { return `{"name":"Storm","email":"` + email() + `"}` }, "application/json")
		if len(ids) != 1 || statuses[202] != 1 || statuses[422] != n-1 {
			t.Errorf("%d different creates with one key: request ids %v, statuses %v (want one 202, the rest 422)", n, ids, statuses)
		}
	})
}

// TestHostileListing: limits and cursors out of the contract are 400 for the
// list and for ?userId= alike (finding 4), a cursor is opaque (finding 11)
// and only its own page's: forged, truncated or changed it is 400; only an
// admin lists, whatever cursor another caller holds.
func TestHostileListing(t *testing.T) {
	c := cloudtest.Cloud(t)
	id, _ := newUser(t, c)
	newUser(t, c)
	admin := cloudtest.Token(t, c, "root", "users.admin")
	page := expect(t, do(t, c, "GET", "/users?limit=1", "", "Authorization", admin), 200)
	cursor, _ := page.body["nextCursor"].(string)
	if cursor == "" {
		t.Fatalf("a page of 1 of at least 2 users has no nextCursor: %s", page.raw)
	}
	// Finding 11: the cursor shows no key name and no id.
	for _, dec := range []func(string) ([]byte, error){base64.RawURLEncoding.DecodeString, base64.URLEncoding.DecodeString, base64.StdEncoding.DecodeString} {
		if b, err := dec(cursor); err == nil {
			items, _ := page.body["items"].([]any)
			last, _ := items[0].(map[string]any)
			for _, s := range []string{"pk", "Pk", "sk", "listPk", "users#", "LIST", "USER#", fmt.Sprint(last["id"])} {
				if strings.Contains(string(b), s) {
					t.Errorf("the cursor shows %q: %q", s, b)
				}
			}
		}
	}
	flipped := []byte(cursor)
	flipped[len(flipped)/2] ^= 1
	if flipped[len(flipped)/2] == '+' || flipped[len(flipped)/2] == '/' || flipped[len(flipped)/2] == '.' {
		flipped[len(flipped)/2] = 'A'
	}
	q := url.QueryEscape
	tests := []struct {
		name, query string
		status      int
	}{
		{"limit 1 (the least)", "limit=1", 200},
		{"limit 100 (the most)", "limit=100", 200},
		{"the cursor (control)", "limit=1&cursor=" + q(cursor), 200},
		{"limit 0", "limit=0", 400},
		{"limit -1", "limit=-1", 400},
		{"limit 101", "limit=101", 400},
		{"limit 2^63", "limit=9223372036854775808", 400},
		{"limit of 40 digits", "limit=" + strings.Repeat("9", 40), 400},
		{"limit 1.5", "limit=1.5", 400},
		{"limit 1e1", "limit=1e1", 400},
		{"limit 0x10", "limit=0x10", 400},
		{"limit abc", "limit=abc", 400},
		{"limit empty", "limit=", 400},
		{"limit NaN", "limit=NaN", 400},
		{"a forged cursor", "cursor=forged", 400},
		{"a cursor truncated", "cursor=" + q(cursor[:len(cursor)-4]), 400},
		{"a cursor with a byte more", "cursor=" + q(cursor+"A"), 400},
		{"a cursor changed", "cursor=" + q(string(flipped)), 400},
		{"a cursor of 2,000 characters", "cursor=" + strings.Repeat("A", 2000), 400},
		{"a cursor of a NUL", "cursor=%00", 400},
		{"an empty cursor", "cursor=", 400},
		{"?userId= with limit 0", "userId=" + id + "&limit=0", 400},
		{"?userId= with a forged cursor", "userId=" + id + "&cursor=forged", 400},
		{"?userId= with a changed cursor", "userId=" + id + "&cursor=" + q(string(flipped)), 400},
		{"?userId= not an id", "userId=" + q("' OR 1=1 --"), 400},
		{"?userId= in capitals", "userId=" + strings.ToUpper(id), 400},
	}
	for _, tt := range tests {
		want(t, tt.name, do(t, c, "GET", "/users?"+tt.query, "", "Authorization", admin), tt.status, map[int]string{400: "invalid"}[tt.status])
	}
	// Another caller with the admin's cursor: still no list.
	want(t, "alice with the admin's cursor", do(t, c, "GET", "/users?limit=1&cursor="+q(cursor), ""), 403, "forbidden")
	want(t, "bob with the admin's cursor", do(t, c, "GET", "/users?cursor="+q(cursor), "", "Authorization", cloudtest.Token(t, c, "bob", "users.read")), 403, "forbidden")
	// Another admin's use of it is a page like the first admin's: a cursor is a place in the list, not a grant.
	want(t, "another admin with the cursor", do(t, c, "GET", "/users?limit=1&cursor="+q(cursor), "", "Authorization", cloudtest.Token(t, c, "root2", "users.admin")), 200, "")
}

// flipFirst returns s with its first character replaced by another base64url
// character, so the text is always changed (upper-casing it was not, when the
// signature began with capitals or digits).
func flipFirst(s string) string {
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}
