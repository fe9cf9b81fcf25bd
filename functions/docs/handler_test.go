package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/usersapi/usersapi/api"
	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/apigw/apigwtest"
	"github.com/usersapi/usersapi/shared/eventstest"
)

// swaggerUI stands in for the assets make copies from swagger-ui-dist.
var swaggerUI = fstest.MapFS{
	"assets/swagger-ui-bundle.js": {Data: []byte("window.SwaggerUIBundle = function () {};\n")},
	"assets/swagger-ui.css":       {Data: []byte(".swagger-ui { color: #3b4151 }\n")},
	"assets/LICENSE":              {Data: []byte("Apache License 2.0\n")},
	"assets/README.md":            {Data: []byte("placeholder\n")},
}

// noAssets is what `go build` embeds without make: the placeholder only.
var noAssets = fstest.MapFS{"assets/README.md": {Data: []byte("placeholder\n")}}

func newTestHandler(t testing.TB, files fstest.MapFS) *handler {
	t.Helper()
	h, err := newHandler(api.OpenAPI, files, web, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// readEvent decodes testdata/<name>, failing the test if it cannot.
func readEvent(t *testing.T, name string) events.APIGatewayProxyRequest {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
	return req
}

// TestEmbedded: the function starts on what it embeds, with or without
// Swagger UI's files (a plain `go build` has only the placeholder).
func TestEmbedded(t *testing.T) {
	h, err := newHandler(api.OpenAPI, assets, web, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_, bundled := h.assets[bundleJS]
	if bundled == (h.missing != "") {
		t.Errorf("bundle embedded %v, but missing is %q", bundled, h.missing)
	}
	if !bundled {
		t.Logf("built without Swagger UI's assets (make docs-assets): GET /docs answers 503")
	}
}

// TestSpec: GET /openapi.json is the document as valid OpenAPI in JSON, with
// nothing of API Gateway's, and servers pointing at the API it came from.
func TestSpec(t *testing.T) {
	h := newTestHandler(t, swaggerUI)
	resp := apigwtest.Call(t, h.Handle, readEvent(t, "get-openapi.json"))
	if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("%d %q: %.300s", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
	}
	if resp.Headers["Cache-Control"] != "no-cache" || resp.Headers["ETag"] == "" || resp.Headers["X-Content-Type-Options"] != "nosniff" {
		t.Errorf("headers %v", resp.Headers)
	}
	for _, s := range []string{`"x-amazon-apigateway-`, `"Fn::`, `"Ref"`, ".Arn}", "Aliaslive"} {
		if strings.Contains(resp.Body, s) {
			t.Errorf("the document still holds %q", s)
		}
	}
	if !strings.HasPrefix(resp.Body, `{"openapi":"3.`) {
		t.Errorf("the keys are not in the document's order: %.40s", resp.Body)
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(resp.Body))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("not valid OpenAPI: %v", err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev" {
		t.Errorf("servers %+v", doc.Servers)
	}

	// Every path, operation and schema of the YAML is there.
	var src struct {
		Paths      map[string]map[string]any
		Components struct{ Schemas map[string]any }
	}
	if err := yaml.Unmarshal(api.OpenAPI, &src); err != nil {
		t.Fatal(err)
	}
	for p, item := range src.Paths {
		got := doc.Paths.Value(p)
		if got == nil {
			t.Errorf("path %s is missing", p)
			continue
		}
		for method := range item {
			if method == "parameters" || strings.HasPrefix(method, "x-") || method == "summary" || method == "description" {
				continue
			}
			if got.GetOperation(strings.ToUpper(method)) == nil {
				t.Errorf("%s %s is missing", method, p)
			}
		}
	}
	for name := range src.Components.Schemas {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("schema %s is missing", name)
		}
	}
}

func TestSpecServers(t *testing.T) {
	h := newTestHandler(t, swaggerUI)
	tests := []struct {
		name string
		edit func(*events.APIGatewayProxyRequest)
		want string
	}{
		{"API Gateway", func(*events.APIGatewayProxyRequest) {}, "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev"},
		{"no X-Forwarded-Proto: the base path", func(r *events.APIGatewayProxyRequest) {
			delete(r.Headers, "X-Forwarded-Proto")
			delete(r.MultiValueHeaders, "X-Forwarded-Proto")
		}, "/dev"},
		{"custom domain at its root", func(r *events.APIGatewayProxyRequest) {
			r.RequestContext.Path = "/openapi.json"
			r.Headers["X-Forwarded-Proto"] = "ftp"
			delete(r.MultiValueHeaders, "X-Forwarded-Proto")
		}, "/"},
		{"a Host that is no host name", func(r *events.APIGatewayProxyRequest) {
			r.Headers["Host"] = `evil.example"><script>`
			delete(r.MultiValueHeaders, "Host")
		}, "/dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := readEvent(t, "get-openapi.json")
			tt.edit(&req)
			resp := apigwtest.Call(t, h.Handle, req)
			var doc struct{ Servers []struct{ URL string } }
			if err := json.Unmarshal([]byte(resp.Body), &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Servers) != 1 || doc.Servers[0].URL != tt.want {
				t.Errorf("servers %+v, want %s", doc.Servers, tt.want)
			}
		})
	}
}

func TestRevalidate(t *testing.T) {
	h := newTestHandler(t, swaggerUI)
	for _, name := range []string{"get-openapi.json", "get-docs.json", "get-asset.json"} {
		t.Run(name, func(t *testing.T) {
			req := readEvent(t, name)
			first := apigwtest.Call(t, h.Handle, req)
			etag := first.Headers["ETag"]
			if first.StatusCode != 200 || etag == "" {
				t.Fatalf("%d, ETag %q", first.StatusCode, etag)
			}
			req.Headers["If-None-Match"] = `"other", W/` + etag
			again := apigwtest.Call(t, h.Handle, req)
			if again.StatusCode != 304 || again.Body != "" || again.Headers["ETag"] != etag {
				t.Errorf("revalidation: %d ETag %q body %q", again.StatusCode, again.Headers["ETag"], again.Body)
			}
			req.Headers["If-None-Match"] = `"other"`
			if r := apigwtest.Call(t, h.Handle, req); r.StatusCode != 200 {
				t.Errorf("another tag: %d", r.StatusCode)
			}
		})
	}
}

var scriptTag = regexp.MustCompile(`<script[^>]*>`)

// TestPage: the page loads Swagger UI and its starter from the API itself,
// each file by a versioned URL under the stage, and runs no inline script.
func TestPage(t *testing.T) {
	h := newTestHandler(t, swaggerUI)
	resp := apigwtest.Call(t, h.Handle, readEvent(t, "get-docs.json"))
	if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "text/html; charset=utf-8" {
		t.Fatalf("%d %q: %s", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
	}
	csp := resp.Headers["Content-Security-Policy"]
	for _, want := range []string{"script-src 'self'", "default-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q allows inline code or another origin", csp)
	}
	if resp.Headers["Cache-Control"] != "no-cache" || resp.Headers["X-Frame-Options"] != "DENY" {
		t.Errorf("headers %v", resp.Headers)
	}
	for _, name := range []string{styleCSS, bundleJS, startJS} {
		want := `/dev/docs/` + name + `?v=` + h.assets[name].digest
		if !strings.Contains(resp.Body, want) {
			t.Errorf("the page does not load %s", want)
		}
	}
	if !strings.Contains(resp.Body, `data-spec-url="/dev/openapi.json"`) || !strings.Contains(resp.Body, "<title>Users API</title>") {
		t.Errorf("page:\n%s", resp.Body)
	}
	tags := scriptTag.FindAllString(resp.Body, -1)
	if len(tags) != 2 {
		t.Errorf("%d script tags: %v", len(tags), tags)
	}
	for _, tag := range tags {
		if !strings.Contains(tag, " src=") {
			t.Errorf("inline script %s", tag)
		}
	}
	if strings.Contains(resp.Body, "://") {
		t.Errorf("the page names another origin:\n%s", resp.Body)
	}
}

func TestAssets(t *testing.T) {
	h := newTestHandler(t, swaggerUI)
	asset := func(name, v string) events.APIGatewayProxyRequest {
		req := readEvent(t, "get-asset.json")
		req.Path, req.RequestContext.Path = "/docs/"+name, "/dev/docs/"+name
		req.PathParameters = map[string]string{"file": name}
		req.QueryStringParameters, req.MultiValueQueryStringParameters = nil, nil
		if v != "" {
			req.QueryStringParameters = map[string]string{"v": v}
		}
		return req
	}
	tests := []struct {
		name, file, v string
		status        int
		contentType   string
		cache         string
	}{
		{"bundle, this version", bundleJS, h.assets[bundleJS].digest, 200, "text/javascript; charset=utf-8", cacheVersioned},
		{"bundle, no version", bundleJS, "", 200, "text/javascript; charset=utf-8", cacheFile},
		{"bundle, another version", bundleJS, "0123456789abcdef", 200, "text/javascript; charset=utf-8", cacheFile},
		{"stylesheet", styleCSS, h.assets[styleCSS].digest, 200, "text/css; charset=utf-8", cacheVersioned},
		{"starter", startJS, h.assets[startJS].digest, 200, "text/javascript; charset=utf-8", cacheVersioned},
		{"licence", "LICENSE", "", 200, "text/plain; charset=utf-8", cacheFile},
		{"the placeholder is not served", "README.md", "", 404, apigw.ProblemContentType, "no-store"},
		{"unknown", "index.html", "", 404, apigw.ProblemContentType, "no-store"},
		{"no traversal", "../main.go", "", 404, apigw.ProblemContentType, "no-store"},
		{"empty", "", "", 404, apigw.ProblemContentType, "no-store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := apigwtest.Call(t, h.Handle, asset(tt.file, tt.v))
			if resp.StatusCode != tt.status || resp.Headers["Content-Type"] != tt.contentType || resp.Headers["Cache-Control"] != tt.cache {
				t.Fatalf("%d %q %q: %.200s", resp.StatusCode, resp.Headers["Content-Type"], resp.Headers["Cache-Control"], resp.Body)
			}
			if tt.status == 404 {
				apigwtest.Problem(t, resp)
				return
			}
			if resp.Headers["Content-Security-Policy"] != fileCSP || resp.Headers["X-Content-Type-Options"] != "nosniff" {
				t.Errorf("headers %v", resp.Headers)
			}
			if resp.Body != h.assets[tt.file].body {
				t.Errorf("body %.100q", resp.Body)
			}
		})
	}
	// Without the parameter, the path says which file.
	req := asset(styleCSS, "")
	req.PathParameters = nil
	if resp := apigwtest.Call(t, h.Handle, req); resp.StatusCode != 200 {
		t.Errorf("from the path: %d", resp.StatusCode)
	}
}

// TestMissingAssets: a build without Swagger UI's files says so, as a 503
// problem that names the fix; the document is served all the same.
func TestMissingAssets(t *testing.T) {
	h := newTestHandler(t, noAssets)
	resp := apigwtest.Call(t, h.Handle, readEvent(t, "get-docs.json"))
	if resp.StatusCode != 503 {
		t.Fatalf("%d: %s", resp.StatusCode, resp.Body)
	}
	p := apigwtest.Problem(t, resp)
	if !strings.Contains(p.Detail, "make docs-assets") || p.Instance == "" {
		t.Errorf("problem %+v", p)
	}
	if _, ok := resp.Headers["Retry-After"]; ok {
		t.Error("Retry-After on a 503 that waiting does not cure")
	}
	if resp := apigwtest.Call(t, h.Handle, readEvent(t, "get-asset.json")); resp.StatusCode != 503 {
		t.Errorf("asset: %d", resp.StatusCode)
	}
	if resp := apigwtest.Call(t, h.Handle, readEvent(t, "get-openapi.json")); resp.StatusCode != 200 {
		t.Errorf("openapi.json: %d", resp.StatusCode)
	}
}

func TestMethods(t *testing.T) {
	h := newTestHandler(t, swaggerUI)
	for _, name := range []string{"get-docs.json", "get-openapi.json", "get-asset.json"} {
		t.Run(name, func(t *testing.T) {
			req := readEvent(t, name)
			req.HTTPMethod = http.MethodHead
			head := apigwtest.Call(t, h.Handle, req)
			if head.StatusCode != 200 || head.Body != "" || head.Headers["Content-Type"] == "" {
				t.Errorf("HEAD: %d %q %.50q", head.StatusCode, head.Headers["Content-Type"], head.Body)
			}
			req.HTTPMethod = http.MethodPost
			post := apigwtest.Call(t, h.Handle, req)
			if post.StatusCode != 405 || post.Headers["Allow"] != "GET, HEAD, OPTIONS" {
				t.Errorf("POST: %d Allow %q", post.StatusCode, post.Headers["Allow"])
			}
			apigwtest.Problem(t, post)
			req.HTTPMethod = http.MethodOptions
			if opt := apigwtest.Call(t, h.Handle, req); opt.StatusCode != 204 || opt.Headers["Allow"] == "" || opt.Body != "" {
				t.Errorf("OPTIONS: %d %v", opt.StatusCode, opt.Headers)
			}
		})
	}
	req := readEvent(t, "get-docs.json")
	req.Resource = "/elsewhere"
	apigwtest.Problem(t, apigwtest.Call(t, h.Handle, req))
}

// TestConvert: what the JSON keeps and drops, and the YAML it refuses.
func TestConvert(t *testing.T) {
	ok := `openapi: 3.0.3
info: {title: "T <&>", version: "1"}
x-amazon-apigateway-gateway-responses: {DEFAULT_4XX: {}}
paths:
  /a:
    get:
      responses:
        200: {description: ok}
      x-amazon-apigateway-integration:
        uri:
          Fn::Sub: arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${F.Arn}/invocations
      x-other: &anchor [1, 2.5, true, null, 2026-11-23, "x"]
      x-again: *anchor
servers:
  - url: https://example.com
tags: []
`
	sp, title, err := convert([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	got := sp.withServers("/dev")
	want := `{"openapi":"3.0.3","info":{"title":"T <&>","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"ok"}},` +
		`"x-other":[1,2.5,true,null,"2026-11-23","x"],"x-again":[1,2.5,true,null,"2026-11-23","x"]}}},` +
		`"servers":[{"url":"/dev","description":"This API, where this document was read."}],"tags":[]}`
	if got != want || title != "T <&>" {
		t.Errorf("got  %s\nwant %s (title %q)", got, want, title)
	}
	if !json.Valid([]byte(got)) {
		t.Error("not JSON")
	}
	// No servers in the YAML: they come last.
	sp, _, err = convert([]byte("openapi: 3.0.3\npaths: {}\n"))
	if err != nil || sp.withServers("/") != `{"openapi":"3.0.3","paths":{},"servers":[{"url":"/","description":"This API, where this document was read."}]}` {
		t.Errorf("%v %s", err, sp.withServers("/"))
	}

	bad := map[string]string{
		"short-form intrinsic": "openapi: 3.0.3\ninfo: {title: !Sub '${AWS::StackName}'}\n",
		"intrinsic outside":    "openapi: 3.0.3\ninfo:\n  title:\n    Fn::Sub: x\n",
		"merge key":            "a: &a {b: 1}\nc:\n  <<: *a\n",
		"not a mapping":        "- 1\n",
		"infinity":             "openapi: 3.0.3\nx: .inf\n",
		"not YAML":             "a: [\n",
	}
	for name, doc := range bad {
		if _, _, err := convert([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestDocumentedRoutes: the document routes the function's three resources to
// it, with no security, and lists the statuses the handler answers.
func TestDocumentedRoutes(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{resourcePage, resourceAsset, resourceSpec} {
		item := doc.Paths.Value(p)
		if item == nil {
			t.Fatalf("api/openapi.yaml has no %s", p)
		}
		op := item.Get
		if op == nil || op.Security == nil || len(*op.Security) != 0 {
			t.Errorf("GET %s must exist with security: []", p)
			continue
		}
		uri, _ := json.Marshal(op.Extensions["x-amazon-apigateway-integration"])
		if !strings.Contains(string(uri), "${DocsFunctionAliaslive}") {
			t.Errorf("GET %s is not integrated with DocsFunction: %s", p, uri)
		}
		var codes []string
		for code := range op.Responses.Map() {
			codes = append(codes, code)
		}
		want := []string{"200", "304"}
		if p != resourceSpec {
			want = append(want, "503")
		}
		if p == resourceAsset {
			want = append(want, "404")
		}
		for _, c := range want {
			if !slices.Contains(codes, c) {
				t.Errorf("GET %s does not document %s", p, c)
			}
		}
	}
}

// TestAWSSampleEvent: AWS's REST API samples, both a POST through
// /{proxy+}, ask for nothing the docs function serves: 405, as problem+json.
func TestAWSSampleEvent(t *testing.T) {
	apigwtest.Samples(t, eventstest.AWS, func(tb testing.TB) apigwtest.Handler {
		return newTestHandler(tb, swaggerUI).Handle
	}, []apigwtest.Sample{
		{Event: "apigw-request.json", Status: 405},
		{Event: "apigw-restapi-openapi-request.json", Status: 405},
	})
}
