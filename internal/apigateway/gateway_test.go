package apigateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/usersapi/usersapi/internal/runtimeapi"
	"github.com/usersapi/usersapi/internal/stack"
	"github.com/usersapi/usersapi/internal/traceheader"
)

// document is an API as the template's: a Lambda authorizer and an API key
// on its methods, a validated body, a mock integration, gateway responses
// with mapped headers.
const document = `
openapi: 3.0.3
info: {title: test, version: "1"}
x-amazon-apigateway-request-validators:
  all: {validateRequestBody: true, validateRequestParameters: true}
x-amazon-apigateway-request-validator: all
x-amazon-apigateway-gateway-responses:
  UNAUTHORIZED:
    statusCode: "401"
    responseParameters:
      gatewayresponse.header.WWW-Authenticate: "'Bearer'"
      gatewayresponse.header.Access-Control-Allow-Origin: method.request.header.Origin
    responseTemplates:
      application/json: '{"title":"Unauthorized","instance":"$context.requestId","type":"$context.error.responseType"}'
  DEFAULT_4XX:
    responseTemplates:
      application/json: '{"message":$context.error.messageString,"detail":"$context.error.validationErrorString"}'
security: [{jwt: [], key: []}]
components:
  securitySchemes:
    key: {type: apiKey, name: x-api-key, in: header}
    jwt:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authorizer:
        type: request
        identitySource: method.request.header.Authorization
        authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:AuthorizerFunction/invocations
        authorizerResultTtlInSeconds: 300
paths:
  /users:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string}}}
      responses: {"202": {description: accepted}}
      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:IngestFunction:live/invocations"}
    options:
      security: []
      responses: {"204": {description: preflight}}
      x-amazon-apigateway-integration:
        type: mock
        responses:
          default:
            statusCode: "204"
            responseParameters:
              method.response.header.Access-Control-Allow-Methods: "'GET,POST'"
              method.response.header.Access-Control-Allow-Origin: method.request.header.Origin
    x-amazon-apigateway-any-method:
      responses: {"405": {description: not allowed}}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 405}'}
        responses:
          default:
            statusCode: "405"
            responseParameters:
              method.response.header.Allow: "'POST, OPTIONS'"
              method.response.header.Content-Type: "'application/problem+json'"
            responseTemplates:
              application/json: '{"status":405,"detail":"$context.httpMethod is not allowed on $context.resourcePath","instance":"$context.requestId"}'
  /users/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: the user}}
      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:ReadFunction/invocations"}
  /public/{id}:
    x-amazon-apigateway-any-method:
      security: []
      responses: {"200": {description: anything}}
      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:ReadFunction/invocations"}
  /open/{id}:
    x-amazon-apigateway-any-method:
      responses: {"200": {description: anything}}
      x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:ReadFunction/invocations"}
`

// function answers as a Lambda function would, and keeps its events.
type function struct {
	mu     sync.Mutex
	events []map[string]any
	answer func(event map[string]any) any
}

func (f *function) Invoke(_ context.Context, payload []byte, trace, upstream string) (runtimeapi.Result, error) {
	var ev map[string]any
	_ = json.Unmarshal(payload, &ev)
	f.mu.Lock()
	f.events = append(f.events, ev)
	f.mu.Unlock()
	b, _ := json.Marshal(f.answer(ev))
	return runtimeapi.Result{Payload: b}, nil
}

func (f *function) invocations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.events)
}

type fixture struct {
	g                  *Gateway
	auth, ingest, read *function
}

func newFixture(t *testing.T, keys ...*APIKey) *fixture {
	t.Helper()
	f := &fixture{
		auth: &function{answer: func(ev map[string]any) any {
			headers, _ := ev["headers"].(map[string]any)
			if headers["Authorization"] != "Bearer good" {
				return map[string]any{"principalId": "mallory", "policyDocument": map[string]any{"Statement": []any{
					map[string]any{"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": ev["methodArn"]}}}}
			}
			return map[string]any{"principalId": "alice", "context": map[string]any{"scope": "users.read"},
				"policyDocument": map[string]any{"Statement": []any{
					map[string]any{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/dev/*"}}}}
		}},
		ingest: &function{answer: func(map[string]any) any { return map[string]any{"statusCode": 202, "body": `{}`} }},
		read: &function{answer: func(ev map[string]any) any {
			return map[string]any{"statusCode": 200, "headers": map[string]string{"Content-Type": "application/json"},
				"multiValueHeaders": map[string][]string{"Vary": {"Origin"}}, "body": `{"id":"` + ev["pathParameters"].(map[string]any)["id"].(string) + `"}`}
		}},
	}
	g, err := New(Config{Document: []byte(document), Stage: "dev", Keys: keys, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Functions: map[string]Function{"AuthorizerFunction": f.auth, "IngestFunction": f.ingest, "ReadFunction": f.read}})
	if err != nil {
		t.Fatal(err)
	}
	f.g = g
	return f
}

func (f *fixture) do(method, path, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	f.g.ServeHTTP(rec, req)
	return rec
}

func TestNewRefusesUnknownFunctions(t *testing.T) {
	_, err := New(Config{Document: []byte(document), Stage: "dev", Functions: map[string]Function{}})
	if err == nil || !strings.Contains(err.Error(), "does not declare") {
		t.Errorf("New without the functions: %v", err)
	}
}

func TestProxyIntegration(t *testing.T) {
	f := newFixture(t, &APIKey{Name: "k", Value: "key"})
	up := "Root=" + traceheader.NewTraceID() + ";Parent=53995c3f42cd8ad8;Sampled=1"
	rec := f.do("GET", "/dev/users/u%201?x=1&x=2", "", "Authorization", "Bearer good", "X-Api-Key", "key", "X-Amzn-Trace-Id", up)
	if rec.Code != 200 || rec.Body.String() != `{"id":"u 1"}` || rec.Header().Get("Vary") != "Origin" ||
		rec.Header().Get("Content-Length") != "12" || rec.Header().Get("X-Amzn-RequestId") == "" {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	ev := f.read.events[0]
	rc, _ := ev["requestContext"].(map[string]any)
	authz, _ := rc["authorizer"].(map[string]any)
	headers, _ := ev["headers"].(map[string]any)
	mvq, _ := ev["multiValueQueryStringParameters"].(map[string]any)
	if ev["resource"] != "/users/{id}" || ev["path"] != "/users/u 1" || rc["stage"] != "dev" || rc["accountId"] != stack.Account ||
		authz["principalId"] != "alice" || authz["scope"] != "users.read" || len(mvq["x"].([]any)) != 2 {
		t.Errorf("event %v", ev)
	}
	if tr, _ := headers["X-Amzn-Trace-Id"].(string); traceheader.Root(tr) != traceheader.Root(up) || traceheader.Parent(tr) == traceheader.Parent(up) {
		t.Errorf("the function's trace header %q, the request's %q", tr, up)
	}
	if rec := f.do("GET", "/dev/nowhere", ""); rec.Code != 403 || rec.Header().Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("an unknown path: %d %v", rec.Code, rec.Header())
	}
	if rec := f.do("DELETE", "/dev/users/u1", ""); rec.Code != 403 {
		t.Errorf("an undeclared method: %d", rec.Code)
	}
}

func TestAuthorizer(t *testing.T) {
	f := newFixture(t, &APIKey{Name: "k", Value: "key"})
	rec := f.do("GET", "/dev/users/u1", "", "X-Api-Key", "key", "Origin", "http://localhost:3000")
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != "Bearer" || rec.Header().Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
		!strings.Contains(rec.Body.String(), `"type":"UNAUTHORIZED"`) || f.auth.invocations() != 0 {
		t.Errorf("no token: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	// A header that maps from a request header the request lacks is left out.
	if rec := f.do("GET", "/dev/users/u1", "", "X-Api-Key", "key"); rec.Code != 401 || len(rec.Header().Values("Access-Control-Allow-Origin")) != 0 {
		t.Errorf("no Origin: %d %v", rec.Code, rec.Header())
	}
	if rec := f.do("GET", "/dev/users/u1", "", "X-Api-Key", "key", "Authorization", "Bearer bad"); rec.Code != 403 {
		t.Errorf("denied: %d %s", rec.Code, rec.Body)
	}
	before := f.auth.invocations()
	for range 3 {
		if rec := f.do("GET", "/dev/users/u1", "", "X-Api-Key", "key", "Authorization", "Bearer good"); rec.Code != 200 {
			t.Fatalf("allowed: %d %s", rec.Code, rec.Body)
		}
	}
	if n := f.auth.invocations() - before; n != 1 {
		t.Errorf("the authorizer ran %d times for one token, want 1 (its result is cached)", n)
	}
}

func TestAPIKeys(t *testing.T) {
	plan := &UsagePlan{Name: "tiny", RateLimit: 0.01, BurstLimit: 2}
	f := newFixture(t, &APIKey{Name: "k", Value: "key", Plan: plan})
	for _, key := range []string{"", "wrong"} {
		if rec := f.do("GET", "/dev/users/u1", "", "Authorization", "Bearer good", "X-Api-Key", key); rec.Code != 403 ||
			rec.Header().Get("X-Amzn-ErrorType") != "AccessDeniedException" {
			t.Errorf("key %q: %d %v", key, rec.Code, rec.Header())
		}
	}
	for i, want := range []int{200, 200, 429} {
		rec := f.do("GET", "/dev/users/u1", "", "Authorization", "Bearer good", "X-Api-Key", "key")
		if rec.Code != want || want == 429 && rec.Header().Get("Retry-After") == "" {
			t.Errorf("request %d: %d %v, want %d", i, rec.Code, rec.Header(), want)
		}
	}
}

func TestValidator(t *testing.T) {
	f := newFixture(t, &APIKey{Name: "k", Value: "key"})
	auth := []string{"Authorization", "Bearer good", "X-Api-Key", "key", "Content-Type", "application/json"}
	rec := f.do("POST", "/dev/users", `{"age":1}`, auth...)
	if rec.Code != 400 || rec.Header().Get("X-Amzn-ErrorType") != "BadRequestException" || !strings.Contains(rec.Body.String(), "name") ||
		f.ingest.invocations() != 0 {
		t.Errorf("an invalid body: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if rec := f.do("POST", "/dev/users", `{"name":"Ada"}`, auth...); rec.Code != 202 || f.ingest.invocations() != 1 {
		t.Errorf("a valid body: %d %s", rec.Code, rec.Body)
	}
}

// TestMock answers the CORS preflight from the mock integration's response
// parameters: literals, and request headers when the request has them.
func TestMock(t *testing.T) {
	f := newFixture(t)
	rec := f.do("OPTIONS", "/dev/users", "", "Origin", "http://localhost:3000")
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Methods") != "GET,POST" ||
		rec.Header().Get("Access-Control-Allow-Origin") != "http://localhost:3000" || rec.Header().Get("X-Amzn-RequestId") == "" {
		t.Errorf("preflight: %d %v", rec.Code, rec.Header())
	}
	rec = f.do("OPTIONS", "/dev/users", "")
	if rec.Code != 204 || len(rec.Header().Values("Access-Control-Allow-Origin")) != 0 {
		t.Errorf("preflight without Origin: %d %v", rec.Code, rec.Header())
	}
}

func TestTemplateKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(`
Resources:
  Basic:
    Type: AWS::ApiGateway::UsagePlan
    Properties:
      UsagePlanName: basic
      Throttle: {RateLimit: 10, BurstLimit: 20}
      Quota: {Limit: 10000, Period: DAY}
  Made:
    Type: AWS::ApiGateway::ApiKey
    Properties: {Enabled: true}
  Given:
    Type: AWS::ApiGateway::ApiKey
    Properties: {Value: given-0123456789abcdefghij}
  MadeBasic:
    Type: AWS::ApiGateway::UsagePlanKey
    Properties: {KeyId: !Ref Made, KeyType: API_KEY, UsagePlanId: !Ref Basic}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := stack.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := TemplateKeys(s)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %+v, %v", keys, err)
	}
	given, made := keys[0], keys[1]
	if given.Name != "Given" || given.Value != "given-0123456789abcdefghij" || given.Plan != nil {
		t.Errorf("the key with a value: %+v", given)
	}
	want := UsagePlan{Name: "basic", RateLimit: 10, BurstLimit: 20, QuotaLimit: 10000, QuotaPeriod: "DAY"}
	if made.Name != "Made" || made.Value != "local-made-0123456789abcdef" || made.Plan == nil || *made.Plan != want {
		t.Errorf("the key CloudFormation would make: %+v, plan %+v", made, made.Plan)
	}
}

// TestNewRefusesUndeclaredCacheKeys: a cache key that is not a request
// parameter of its method fails the gateway's start, as API Gateway refuses
// the import, and names the key and the method.
func TestNewRefusesUndeclaredCacheKeys(t *testing.T) {
	fns := map[string]Function{"AuthorizerFunction": &function{}, "IngestFunction": &function{}, "ReadFunction": &function{}}
	cached := strings.Replace(document, `x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:ReadFunction/invocations"}`,
		`x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, cacheKeyParameters: [KEYS], uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:ReadFunction/invocations"}`, 1)
	if cached == document {
		t.Fatal("the fixture has no GET /users/{id} integration to add cache keys to")
	}
	tests := []struct {
		keys, wantErr string
	}{
		{"method.request.path.id", ""},
		{"method.request.path.id, method.request.header.Authorization", "cache key method.request.header.Authorization is not a request parameter"},
		{"method.request.querystring.id", "cache key method.request.querystring.id"},
		{"integration.request.path.id", "cache key integration.request.path.id"},
	}
	for _, tt := range tests {
		_, err := New(Config{Document: []byte(strings.Replace(cached, "KEYS", tt.keys, 1)), Stage: "dev", Functions: fns})
		if tt.wantErr == "" && err != nil {
			t.Errorf("keys %s: %v", tt.keys, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "GET /users/{id}")) {
			t.Errorf("keys %s: %v, want an error with %q", tt.keys, err, tt.wantErr)
		}
	}
}

// TestCatchAllMethod: a method that only the catch-all method serves is under
// that method's security as any other (the root's unless it declares its
// own): the authorizer, the key and its usage plan; a mock catch-all answers
// its 405 without invoking anything, and a Lambda one gets the authorizer's
// context (HEAD there authorizes as GET does).
func TestCatchAllMethod(t *testing.T) {
	plan := &UsagePlan{Name: "tiny", RateLimit: 0.01, BurstLimit: 2}
	f := newFixture(t, &APIKey{Name: "k", Value: "key", Plan: plan})
	good := []string{"Authorization", "Bearer good", "X-Api-Key", "key"}
	if rec := f.do("DELETE", "/dev/users", "", "X-Api-Key", "key"); rec.Code != 401 {
		t.Errorf("no token: %d %s", rec.Code, rec.Body)
	}
	if rec := f.do("DELETE", "/dev/users", "", "Authorization", "Bearer good"); rec.Code != 403 {
		t.Errorf("no key: %d %s", rec.Code, rec.Body)
	}
	rec := f.do("DELETE", "/dev/users", "", good...)
	if rec.Code != 405 || rec.Header().Get("Allow") != "POST, OPTIONS" || rec.Header().Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(rec.Body.String(), `"detail":"DELETE is not allowed on /users"`) || strings.Contains(rec.Body.String(), "$context") {
		t.Errorf("the mock's 405: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	for i, want := range []int{405, 429} { // a burst of 2: the 405 above was the first
		if rec := f.do("PATCH", "/dev/users", "", good...); rec.Code != want {
			t.Errorf("request %d on the plan: %d, want %d", i+2, rec.Code, want)
		}
	}
	if n := f.read.invocations() + f.ingest.invocations(); n != 0 {
		t.Errorf("%d functions ran for the mock", n)
	}

	f = newFixture(t, &APIKey{Name: "k", Value: "key"})
	f.read.answer = func(ev map[string]any) any {
		rc, _ := ev["requestContext"].(map[string]any)
		authz, _ := rc["authorizer"].(map[string]any)
		if authz["principalId"] != "alice" {
			return map[string]any{"statusCode": 401}
		}
		return map[string]any{"statusCode": 200}
	}
	if rec := f.do("HEAD", "/dev/open/x", "", good...); rec.Code != 200 {
		t.Errorf("HEAD by a valid caller: %d, want 200 with the authorizer's context", rec.Code)
	}
	if rec := f.do("HEAD", "/dev/open/x", "", "X-Api-Key", "key"); rec.Code != 401 || f.read.invocations() != 1 {
		t.Errorf("HEAD without a token: %d after %d invocations", rec.Code, f.read.invocations())
	}
	f.read.answer = func(map[string]any) any { return map[string]any{"statusCode": 200} }
	if rec := f.do("PUT", "/dev/public/x", ""); rec.Code != 200 {
		t.Errorf("a catch-all with security: [] needs nothing: %d", rec.Code)
	}
}

// TestBodyBytesPassThrough: the function gets the body's bytes unchanged,
// those that are not UTF-8 included (issue 14, finding 7: they arrived as
// U+FFFD, so the function could not refuse them).
func TestBodyBytesPassThrough(t *testing.T) {
	f := newFixture(t, &APIKey{Name: "k", Value: "key"})
	for _, body := range []string{"{\"name\":\"Alice\xc3\x28\"}", "{\"name\":\"caf\xe9\"}", `{"name":"Ada � \ud800"}`} {
		rec := f.do("POST", "/dev/users", body, "Authorization", "Bearer good", "X-Api-Key", "key", "Content-Type", "application/json; charset=latin1")
		if rec.Code != 202 {
			t.Fatalf("%q: %d %s", body, rec.Code, rec.Body)
		}
		ev := f.ingest.events[len(f.ingest.events)-1]
		got, _ := ev["body"].(string)
		if ev["isBase64Encoded"] == true {
			b, err := base64.StdEncoding.DecodeString(got)
			if err != nil {
				t.Fatal(err)
			}
			got = string(b)
		}
		if got != body {
			t.Errorf("the function got %q, want %q", got, body)
		}
	}
}

// TestValidatorSpeaksAPIGateway: a body the validator cannot read gets API
// Gateway's "Invalid request body", never a Go parser's words (issue 14,
// finding 8).
func TestValidatorSpeaksAPIGateway(t *testing.T) {
	f := newFixture(t, &APIKey{Name: "k", Value: "key"})
	auth := []string{"Authorization", "Bearer good", "X-Api-Key", "key", "Content-Type", "application/json"}
	goWords := []string{"strconv", "ParseFloat", "invalid character", "exceeded max depth", "EOF", "unexpected end", "json:"}
	for _, body := range []string{
		`{"name":1e400}`, "{\"name\":\"a\x00b\"}", strings.Repeat("[", 10001) + strings.Repeat("]", 10001), "", `{"name":`, "nul", `{"name":"a"} {}`,
	} {
		rec := f.do("POST", "/dev/users", body, auth...)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "Invalid request body") {
			t.Errorf("%.40q: %d %s", body, rec.Code, rec.Body)
		}
		for _, w := range goWords {
			if strings.Contains(rec.Body.String(), w) {
				t.Errorf("%.40q: the answer holds %q: %s", body, w, rec.Body)
			}
		}
	}
	if f.ingest.invocations() != 0 {
		t.Errorf("ingest ran %d times", f.ingest.invocations())
	}
}

// TestRepeatedAuthorization: a request with two Authorization headers is
// judged on the value the authorizer sees (the last) and its verdict is not
// cached, so the holder of the first value is not locked out by it (issue 14,
// finding 9).
func TestRepeatedAuthorization(t *testing.T) {
	f := newFixture(t, &APIKey{Name: "k", Value: "key"})
	for _, values := range [][]string{{"Bearer good", "Bearer bad"}, {"Bearer bad", "Bearer good"}} {
		req := httptest.NewRequest("GET", "http://127.0.0.1/dev/users/u1", nil)
		req.Header.Set("X-Api-Key", "key")
		for _, v := range values {
			req.Header.Add("Authorization", v)
		}
		rec := httptest.NewRecorder()
		f.g.ServeHTTP(rec, req)
		want := map[string]int{"Bearer good": 200, "Bearer bad": 403}[values[1]]
		if rec.Code != want {
			t.Errorf("Authorization %q: %d, want %d (the authorizer sees the last)", values, rec.Code, want)
		}
		for _, single := range values {
			want := map[string]int{"Bearer good": 200, "Bearer bad": 403}[single]
			if rec := f.do("GET", "/dev/users/u1", "", "X-Api-Key", "key", "Authorization", single); rec.Code != want {
				t.Errorf("after %q, %q alone: %d, want %d", values, single, rec.Code, want)
			}
		}
	}
}

// TestEventNamesTheGatewaysEndpoint: Host and X-Forwarded-Proto in the event
// are the gateway's own, whatever the client sent (issue 14, finding 11: the
// docs function built the servers URL of /openapi.json from them).
func TestEventNamesTheGatewaysEndpoint(t *testing.T) {
	read := &function{answer: func(map[string]any) any { return map[string]any{"statusCode": 200} }}
	fns := map[string]Function{"AuthorizerFunction": &function{}, "IngestFunction": &function{}, "ReadFunction": read}
	doc := strings.Replace(document, "security: [{jwt: [], key: []}]", "security: []", 1)
	g, err := New(Config{Document: []byte(doc), Stage: "dev", Functions: fns, URL: "http://127.0.0.1:3000", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "http://evil.example/dev/users/u1", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Port", "8443")
	g.ServeHTTP(httptest.NewRecorder(), req)
	if read.invocations() != 1 {
		t.Fatal("the function did not run")
	}
	headers, _ := read.events[0]["headers"].(map[string]any)
	rc, _ := read.events[0]["requestContext"].(map[string]any)
	if headers["Host"] != "127.0.0.1:3000" || headers["X-Forwarded-Proto"] != "http" || headers["X-Forwarded-Port"] != "3000" || rc["domainName"] != "127.0.0.1:3000" {
		t.Errorf("headers %v, domain %v", headers, rc["domainName"])
	}
	if _, err := New(Config{Document: []byte(doc), Stage: "dev", Functions: fns, URL: "127.0.0.1:3000"}); err == nil {
		t.Error("a URL without a scheme was taken")
	}
}
