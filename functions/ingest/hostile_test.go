package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/apigw/apigwtest"
	"github.com/usersapi/usersapi/shared/users"
)

// hostileWrite is each write form of the API, with a body holding value in
// the field named, and with or without an Idempotency-Key.
func hostileWrites(field, value string) map[string]events.APIGatewayProxyRequest {
	v, _ := json.Marshal(value)
	create := `{"name":"Ada","email":"ada@example.com"}`
	create = strings.Replace(create, fmt.Sprintf(`"%s":"%s"`, field, map[string]string{"name": "Ada", "email": "ada@example.com"}[field]), fmt.Sprintf(`"%s":%s`, field, v), 1)
	patch := fmt.Sprintf(`{%q:%s}`, field, v)
	reqs := map[string]events.APIGatewayProxyRequest{}
	for _, key := range []string{"", "k-1"} {
		h := func(ct string) map[string]string {
			m := map[string]string{"Content-Type": ct}
			if key != "" {
				m["Idempotency-Key"] = key
			}
			return m
		}
		suffix := map[string]string{"": "", "k-1": " with a key"}[key]
		reqs["POST"+suffix] = write("POST", "/users", "/users", "", create, h("application/json"))
		reqs["PUT"+suffix] = write("PUT", "/users/{id}", "/users/"+uid, uid, create, h("application/json"))
		reqs["PATCH"+suffix] = write("PATCH", "/users/{id}", "/users/"+uid, uid, patch, h("application/merge-patch+json"))
	}
	return reqs
}

// TestCharactersSQSRefuses: a name or an email holding U+FFFE, U+FFFF or a
// control character is refused with 400 naming the field, on every write form,
// with and without an Idempotency-Key; it never reaches the queue, so it can
// never make SQS refuse a message and the API answer 503 (issue 14, finding 1).
func TestCharactersSQSRefuses(t *testing.T) {
	for _, tt := range []struct{ field, value string }{
		{"name", "x\uffffx"}, {"name", "x\ufffex"}, {"name", "a\u0000b"}, {"name", "a\u001bb"}, {"name", "a\u0085b"}, {"name", "\u200b\ufeff"},
		{"email", "cp\uffff1@example.com"}, {"email", "cp1@exa\ufffemple.com"}, {"email", "\"a\tb\"@example.com"},
	} {
		for form, req := range hostileWrites(tt.field, tt.value) {
			t.Run(fmt.Sprintf("%s %+q %s", tt.field, tt.value, form), func(t *testing.T) {
				h, q := newHandler(t)
				resp := apigwtest.Call(t, h.Handle, req)
				if resp.StatusCode != 400 || len(q.tried) != 0 {
					t.Fatalf("status %d, %d sends; want 400 and none: %s", resp.StatusCode, len(q.tried), resp.Body)
				}
				var p apigw.Problem
				if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
					t.Fatalf("problem %s does not name %s alone", resp.Body, tt.field)
				}
			})
		}
	}
}

// TestEmptyConditionalHeaders: an If-Match or an Idempotency-Key sent empty
// (curl's "If-Match;") or as spaces is refused with 400 naming it, not taken
// for no header; If-Match takes exactly the document's pattern (finding 3).
func TestEmptyConditionalHeaders(t *testing.T) {
	ada := `{"name":"Ada","email":"ada@example.com"}`
	for _, tt := range []struct {
		header, value string
		status        int
	}{
		{"If-Match", "", 400}, {"If-Match", "   ", 400}, {"If-Match", `""`, 400},
		{"If-Match", `"01"`, 400}, {"If-Match", `"1234567890123456789"`, 400}, {"If-Match", `"9223372036854775807"`, 400},
		{"If-Match", `"123456789012345678"`, 202}, {"If-Match", ` "3" `, 202}, {"If-Match", `*`, 400}, {"If-Match", `"3", "4"`, 400},
		{"Idempotency-Key", "", 400}, {"Idempotency-Key", "  ", 400}, {"Idempotency-Key", `""`, 400}, {"Idempotency-Key", "k", 202},
	} {
		t.Run(fmt.Sprintf("%s %q", tt.header, tt.value), func(t *testing.T) {
			for _, req := range []events.APIGatewayProxyRequest{
				write("PUT", "/users/{id}", "/users/"+uid, uid, ada, map[string]string{tt.header: tt.value}),
				write("DELETE", "/users/{id}", "/users/"+uid, uid, "", map[string]string{tt.header: tt.value}),
			} {
				h, q := newHandler(t)
				resp := apigwtest.Call(t, h.Handle, req)
				if resp.StatusCode != tt.status {
					t.Fatalf("%s: status %d, want %d: %s", req.HTTPMethod, resp.StatusCode, tt.status, resp.Body)
				}
				if tt.status == 400 && (len(q.tried) != 0 || !strings.Contains(resp.Body, `"field":"`+tt.header+`"`)) {
					t.Fatalf("%s: %d sends, problem %s: want none, naming %s", req.HTTPMethod, len(q.tried), resp.Body, tt.header)
				}
			}
		})
	}
	// Multi-value headers only, as API Gateway may send them: an empty one is present too.
	req := write("DELETE", "/users/{id}", "/users/"+uid, uid, "", nil)
	req.MultiValueHeaders = map[string][]string{"if-match": {""}}
	h, _ := newHandler(t)
	if resp, _ := h.Handle(context.Background(), req); resp.StatusCode != 400 {
		t.Errorf("an empty multi-value If-Match: status %d, want 400", resp.StatusCode)
	}
}

// TestIfMatchAgreesWithPattern: ifMatch takes what users.ETagPattern (the
// document's pattern) matches, and nothing else.
func TestIfMatchAgreesWithPattern(t *testing.T) {
	re := regexp.MustCompile(users.ETagPattern)
	for _, h := range []string{`"1"`, `"0"`, `"01"`, `"10"`, `"999999999999999999"`, `"1000000000000000000"`, `"-1"`, `"+1"`, `" 1"`, `"1 "`,
		`W/"1"`, `1`, `"1`, `1"`, `""`, `"`, `"١"`, `"1e3"`, `"0x1"`} {
		_, err := ifMatch(h, true)
		if (err == nil) != re.MatchString(h) {
			t.Errorf("ifMatch(%s): %v; the pattern matches %v", h, err, re.MatchString(h))
		}
	}
}

// TestBadUTF8 is refused with 400 (or 415 for a charset other than UTF-8),
// never stored with U+FFFD (finding 7): raw bytes, as API Gateway passes a
// body in base64 when it is not text, and lone-surrogate escapes.
func TestBadUTF8(t *testing.T) {
	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
	}{
		{"bytes", write("POST", "/users", "/users", "", "{\"name\":\"Alice\xc3\x28\",\"email\":\"a@example.com\"}", nil), 400},
		{"bytes in base64", func() events.APIGatewayProxyRequest {
			r := write("POST", "/users", "/users", "", "eyJuYW1lIjoiQWxpY2XDKCIsImVtYWlsIjoiYUBleGFtcGxlLmNvbSJ9", nil)
			r.IsBase64Encoded = true
			return r
		}(), 400},
		{"lone surrogate", write("POST", "/users", "/users", "", `{"name":"\ud800","email":"a@example.com"}`, nil), 400},
		{"lone surrogate in a patch", write("PATCH", "/users/{id}", "/users/"+uid, uid, `{"name":"x\udfffx"}`, map[string]string{"Content-Type": "application/merge-patch+json"}), 400},
		{"Latin-1 bytes", write("POST", "/users", "/users", "", "{\"name\":\"Caf\xe9\",\"email\":\"a@example.com\"}", map[string]string{"Content-Type": "application/json; charset=latin1"}), 415},
		{"declared Latin-1", write("PUT", "/users/{id}", "/users/"+uid, uid, `{"name":"Cafe","email":"a@example.com"}`, map[string]string{"Content-Type": "application/json; charset=ISO-8859-1"}), 415},
		{"declared UTF-8", write("POST", "/users", "/users", "", `{"name":"Café","email":"a@example.com"}`, map[string]string{"Content-Type": "application/json; charset=UTF-8"}), 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, q := newHandler(t)
			resp := apigwtest.Call(t, h.Handle, tt.req)
			if resp.StatusCode != tt.status || tt.status != 202 && len(q.tried) != 0 {
				t.Fatalf("status %d, %d sends; want %d: %s", resp.StatusCode, len(q.tried), tt.status, resp.Body)
			}
		})
	}
}
