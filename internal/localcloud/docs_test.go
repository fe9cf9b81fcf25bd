package localcloud_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/usersapi/usersapi/internal/browsertest"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestDocs: GET /openapi.json and GET /docs through the local gateway and
// DocsFunction, open to a caller with no key and no token.
func TestDocs(t *testing.T) {
	c := cloudtest.Cloud(t)
	if c.Pools["DocsFunction"] == nil {
		t.Fatal("template.yaml has no DocsFunction")
	}
	spec := expect(t, do(t, c, "GET", "/openapi.json", ""), 200)
	if ct := spec.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("openapi.json is %q", ct)
	}
	var doc struct {
		OpenAPI string
		Servers []struct{ URL string }
		Paths   map[string]any
	}
	if err := json.Unmarshal([]byte(spec.raw), &doc); err != nil {
		t.Fatal(err)
	}
	// The server is the stage: its URL when the gateway says the scheme
	// (X-Forwarded-Proto, as API Gateway does), else its path.
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Servers) != 1 || (doc.Servers[0].URL != "/dev" && doc.Servers[0].URL != c.URL) || doc.Paths["/users"] == nil {
		t.Errorf("openapi %q servers %+v, %d paths", doc.OpenAPI, doc.Servers, len(doc.Paths))
	}
	if strings.Contains(spec.raw, `"x-amazon-apigateway-`) {
		t.Error("openapi.json holds API Gateway's extensions")
	}
	again := do(t, c, "GET", "/openapi.json", "", "If-None-Match", spec.header.Get("ETag"))
	if again.status != 304 {
		t.Errorf("revalidation: %d", again.status)
	}

	page := do(t, c, "GET", "/docs", "")
	if page.status == 503 {
		skipWithoutAssets(t, page.raw)
	}
	expect(t, page, 200)
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	if ct := page.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("page is %q", ct)
	}
	for _, f := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "initializer.js"} {
		r := expect(t, do(t, c, "GET", "/docs/"+f, ""), 200)
		if !strings.Contains(page.raw, "/dev/docs/"+f+"?v=") || r.header.Get("ETag") == "" || len(r.raw) == 0 {
			t.Errorf("%s: the page names it %v, ETag %q, %d bytes", f, strings.Contains(page.raw, f), r.header.Get("ETag"), len(r.raw))
		}
	}
	expect(t, do(t, c, "GET", "/docs/nothing.js", ""), 404)
	expect(t, do(t, c, "POST", "/docs", "{}"), 405)
}

// TestChromiumDocs opens /dev/docs in headless Chromium: Swagger UI, from the
// API's own files and under its Content-Security-Policy, lists every
// operation of api/openapi.yaml by its summary and operationId.
func TestChromiumDocs(t *testing.T) {
	c := cloudtest.Cloud(t)
	if r := do(t, c, "GET", "/docs", ""); r.status == 503 {
		skipWithoutAssets(t, r.raw)
	}
	b, err := os.ReadFile(filepath.Join(cloudtest.Root(), "api", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var src struct {
		Paths map[string]map[string]yaml.Node
	}
	if err := yaml.Unmarshal(b, &src); err != nil {
		t.Fatal(err)
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	var want []string
	for _, item := range src.Paths {
		for method, node := range item {
			if !slices.Contains(methods, method) {
				continue
			}
			var op struct{ OperationID, Summary string }
			if err := node.Decode(&op); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{op.OperationID, op.Summary} {
				if s != "" && !slices.Contains(want, s) {
					want = append(want, s)
				}
			}
		}
	}
	if len(want) < 10 {
		t.Fatalf("only %d operation ids and summaries in the document: %v", len(want), want)
	}
	dom := browsertest.DOM(t, c.URL+"/docs")
	text := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'").Replace(dom)
	for _, s := range want {
		if !strings.Contains(text, ">"+s+"<") {
			t.Errorf("the page does not list %q", s)
		}
	}
	if !strings.Contains(dom, `class="swagger-ui`) {
		t.Error("Swagger UI did not render")
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", tail(dom))
	}
}

// skipWithoutAssets ends a test whose docs function was built without
// Swagger UI's files: a failure under CI=true, a skip elsewhere.
func skipWithoutAssets(t *testing.T, problem string) {
	t.Helper()
	msg := "the docs function has no Swagger UI assets (run `make docs-assets`, or make build, before go test): " + problem
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// TestDocsHead: HEAD on the documentation answers as GET, to anyone (no key,
// no token): the same status, ETag and Content-Type, and no body.
func TestDocsHead(t *testing.T) {
	c := cloudtest.Cloud(t)
	anyone := []string{"X-Api-Key", "", "Authorization", ""}
	for _, path := range []string{"/openapi.json", "/docs", "/docs/swagger-ui.css", "/docs/nothing.js"} {
		get, head := do(t, c, "GET", path, "", anyone...), do(t, c, "HEAD", path, "", anyone...)
		if head.status != get.status || head.header.Get("ETag") != get.header.Get("ETag") ||
			head.header.Get("Content-Type") != get.header.Get("Content-Type") || head.raw != "" {
			t.Errorf("HEAD %s: %d %v %q; GET: %d %v", path, head.status, head.header, head.raw, get.status, get.header)
		}
		if get.status == 401 || get.status == 403 {
			t.Errorf("GET %s without credentials: %d", path, get.status)
		}
	}
}

// TestDocsServersIgnoreTheClient: the servers URL of /openapi.json is the
// stage's, whatever Host and X-Forwarded-Proto the client sends (issue 14,
// finding 11).
func TestDocsServersIgnoreTheClient(t *testing.T) {
	c := cloudtest.Cloud(t)
	req, err := http.NewRequest("GET", c.URL+"/openapi.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct{ Servers []struct{ URL string } }
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != c.URL {
		t.Errorf("servers %+v, want %s", doc.Servers, c.URL)
	}
}
