package waf

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/stack"
)

// template is the part of template.yaml the web ACL is made of, with a rate
// limit low enough to reach.
const template = `
Parameters:
  WafRateLimit: {Type: Number, Default: 3}
Resources:
  Acl:
    Type: AWS::WAFv2::WebACL
    Properties:
      Name: test
      Scope: REGIONAL
      DefaultAction: {Allow: {}}
      AssociationConfig: {RequestBody: {API_GATEWAY: {DefaultSizeInspectionLimit: KB_64}}}
      CustomResponseBodies:
        TooLarge: {ContentType: APPLICATION_JSON, Content: '{"status":413}'}
        TooMany: {ContentType: TEXT_PLAIN, Content: slow down}
      Rules:
        - Name: Rate
          Priority: 1
          Statement: {RateBasedStatement: {AggregateKeyType: IP, Limit: !Ref WafRateLimit, EvaluationWindowSec: 300}}
          Action: {Block: {CustomResponse: {ResponseCode: 429, CustomResponseBodyKey: TooMany, ResponseHeaders: [{Name: Retry-After, Value: "60"}]}}}
        - Name: Size
          Priority: 0
          Statement:
            SizeConstraintStatement:
              FieldToMatch: {Body: {OversizeHandling: MATCH}}
              ComparisonOperator: GT
              Size: 65536
              TextTransformations: [{Priority: 0, Type: NONE}]
          Action: {Block: {CustomResponse: {ResponseCode: 413, CustomResponseBodyKey: TooLarge}}}
  Assoc:
    Type: AWS::WAFv2::WebACLAssociation
    Properties:
      ResourceArn: !Sub arn:aws:apigateway:us-east-1::/restapis/api/stages/dev
      WebACLArn: !GetAtt Acl.Arn
`

func load(t *testing.T, tpl string, params map[string]any) *ACL {
	t.Helper()
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(tpl), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := stack.Load(path, params)
	if err != nil {
		t.Fatal(err)
	}
	acl, err := FromStack(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || acl == nil {
		t.Fatalf("FromStack: %v, %v", acl, err)
	}
	return acl
}

// TestBodySize: a body of 65,536 bytes reaches the API whole; one of 65,537
// gets the rule's 413 with the template's body, for every write method.
func TestBodySize(t *testing.T) {
	acl := load(t, template, map[string]any{"WafRateLimit": 1000})
	var got int
	h := acl.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = len(b)
		w.WriteHeader(202)
	}))
	for _, method := range []string{"POST", "PUT", "PATCH"} {
		for _, tt := range []struct {
			size, want int
		}{{0, 202}, {65536, 202}, {65537, 413}, {1 << 20, 413}} {
			got = -1
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, "/dev/users", strings.NewReader(strings.Repeat("a", tt.size))))
			if rec.Code != tt.want {
				t.Errorf("%s of %d bytes: %d, want %d", method, tt.size, rec.Code, tt.want)
			}
			if tt.want == 202 && got != tt.size {
				t.Errorf("%s of %d bytes: the API got %d", method, tt.size, got)
			}
			if tt.want == 413 && (got != -1 || rec.Body.String() != `{"status":413}` || rec.Header().Get("Content-Type") != "application/json") {
				t.Errorf("%s of %d bytes: the API got %d bytes; answer %v %q", method, tt.size, got, rec.Header(), rec.Body)
			}
		}
	}
}

// TestRateLimit: the rate-based rule blocks an address once it sent more than
// the limit in the window, answering as its action says, leaves other
// addresses alone, and lets the address in again once the window has passed.
func TestRateLimit(t *testing.T) {
	acl := load(t, template, nil) // the limit is the parameter's default: 3
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	acl.now = func() time.Time { return now }
	h := acl.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	from := func(ip string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/dev/users", nil)
		req.RemoteAddr = ip + ":4321"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i, want := range []int{200, 200, 200, 429, 429} {
		now = now.Add(time.Second)
		rec := from("192.0.2.1")
		if rec.Code != want {
			t.Errorf("request %d: %d, want %d", i+1, rec.Code, want)
		}
		if want == 429 && (rec.Header().Get("Retry-After") != "60" || rec.Body.String() != "slow down" || rec.Header().Get("Content-Type") != "text/plain") {
			t.Errorf("request %d: %v %q", i+1, rec.Header(), rec.Body)
		}
	}
	if rec := from("192.0.2.2"); rec.Code != 200 {
		t.Errorf("another address: %d", rec.Code)
	}
	now = now.Add(5 * time.Minute)
	if rec := from("192.0.2.1"); rec.Code != 200 {
		t.Errorf("after the window: %d", rec.Code)
	}
}

// TestTemplate reads the repository's own web ACL: associated with the
// stage, inspecting 64 KiB of a body, and both rules emulated.
func TestTemplate(t *testing.T) {
	s, err := stack.Load(filepath.Join("..", "..", "template.yaml"), map[string]any{"Stage": "dev"})
	if err != nil {
		t.Fatal(err)
	}
	acl, err := FromStack(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || acl == nil {
		t.Fatalf("FromStack: %v, %v", acl, err)
	}
	if acl.inspect != 65536 || len(acl.rules) != 2 || acl.rules[0].size == nil || acl.rules[1].rate == nil ||
		acl.rules[0].block.status != 413 || acl.rules[1].block.status != 429 || acl.rules[1].rate.window != 5*time.Minute {
		t.Errorf("the template's web ACL: %+v", acl)
	}
	if !strings.Contains(acl.rules[0].block.body, "https://usersapi.dev/problems/too-large") {
		t.Errorf("the 413's body: %q", acl.rules[0].block.body)
	}
}
