package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"gopkg.in/yaml.v3"

	"github.com/usersapi/usersapi/shared/apigw"
)

// The resources this function serves, as the document and API Gateway name them.
const (
	resourcePage  = "/docs"
	resourceAsset = "/docs/{file}"
	resourceSpec  = "/openapi.json"
)

// Swagger UI's files that the page loads; without them there is no page.
const (
	bundleJS = "swagger-ui-bundle.js"
	styleCSS = "swagger-ui.css"
	startJS  = "initializer.js" // web/initializer.js, this project's own
)

// noAssetsDetail says why GET /docs answers 503 in a binary built without `make`.
const noAssetsDetail = "Swagger UI's assets are not in this build of the docs function: " +
	"run `make docs-assets` (make build and sam build do), which copies them from " +
	".tools/node/node_modules/swagger-ui-dist into functions/docs/assets, then build again"

// pageCSP lets Swagger UI run from the API's own files only: no inline script,
// no other origin; its icons are data: URIs in its stylesheet.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// fileCSP is for everything else: nothing in it may load or run anything.
const fileCSP = "default-src 'none'; frame-ancestors 'none'"

// The caching of the files. A file is named in the page with its digest in
// ?v=, so a URL that carries the current digest never changes meaning.
const (
	cacheVersioned = "public, max-age=31536000, immutable"
	cacheFile      = "public, max-age=300"
	cacheRevalid   = "no-cache" // the page and the document: always ask, 304 when unchanged
)

// asset is one file the function serves under /docs/.
type asset struct {
	body        string
	contentType string
	digest      string // the first 16 hex digits of its SHA-256: its ETag and its ?v=
}

// handler answers the documentation routes. Everything it serves is built
// once, when the function starts.
type handler struct {
	spec    spec
	title   string
	page    *template.Template
	assets  map[string]asset // by name under /docs/
	missing string           // why there is no page, or ""
	log     *slog.Logger
}

// newHandler prepares the document (YAML), the page and the assets: files
// holds assets/ (Swagger UI's), web holds web/ (index.html, initializer.js).
func newHandler(document []byte, files, web fs.FS, log *slog.Logger) (*handler, error) {
	sp, title, err := convert(document)
	if err != nil {
		return nil, fmt.Errorf("api/openapi.yaml: %w", err)
	}
	page, err := template.ParseFS(web, "web/index.html")
	if err != nil {
		return nil, err
	}
	h := &handler{spec: sp, title: title, page: page, assets: map[string]asset{}, log: log}
	start, err := fs.ReadFile(web, "web/"+startJS)
	if err != nil {
		return nil, err
	}
	h.assets[startJS] = newAsset(string(start), "text/javascript; charset=utf-8")
	for name, ct := range map[string]string{
		bundleJS:  "text/javascript; charset=utf-8",
		styleCSS:  "text/css; charset=utf-8",
		"LICENSE": "text/plain; charset=utf-8",
		"NOTICE":  "text/plain; charset=utf-8",
	} {
		b, err := fs.ReadFile(files, "assets/"+name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		h.assets[name] = newAsset(string(b), ct)
	}
	for _, name := range []string{bundleJS, styleCSS} {
		if _, ok := h.assets[name]; !ok {
			h.missing = noAssetsDetail
		}
	}
	return h, nil
}

func newAsset(body, contentType string) asset {
	return asset{body: body, contentType: contentType, digest: digest(body)}
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// Handle answers one API Gateway proxy request.
func (h *handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	switch req.HTTPMethod {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		resp := withHeaders(http.StatusNoContent, "", "", fileCSP, cacheFile)
		resp.Headers["Allow"] = "GET, HEAD, OPTIONS"
		return resp, nil
	default:
		p := apigw.NewProblem(http.StatusMethodNotAllowed, "method-not-allowed", req.HTTPMethod+" is not allowed on "+req.Resource)
		p.Instance = req.RequestContext.RequestID
		resp := p.Response()
		resp.Headers["Allow"] = "GET, HEAD, OPTIONS"
		return resp, nil
	}
	var resp events.APIGatewayProxyResponse
	switch req.Resource {
	case resourceSpec:
		resp = h.serveSpec(&req)
	case resourcePage:
		resp = h.servePage(ctx, &req)
	case resourceAsset:
		resp = h.serveAsset(ctx, &req)
	default:
		resp = h.problem(&req, http.StatusNotFound, "not-found", "no such resource: "+req.Path)
	}
	if req.HTTPMethod == http.MethodHead {
		resp.Body = ""
	}
	return resp, nil
}

func (h *handler) serveSpec(req *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	body := h.spec.withServers(serverURL(req))
	return revalidated(req, body, "application/json", fileCSP)
}

func (h *handler) servePage(ctx context.Context, req *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	if h.missing != "" {
		return h.unavailable(ctx, req)
	}
	base := apigw.BasePath(req)
	file := func(name string) string {
		return base + "/docs/" + name + "?v=" + h.assets[name].digest
	}
	var b strings.Builder
	err := h.page.Execute(&b, map[string]string{
		"Title": h.title, "Spec": base + resourceSpec,
		"Style": file(styleCSS), "Bundle": file(bundleJS), "Start": file(startJS),
	})
	if err != nil {
		// Only a broken template gets here, and a test renders it.
		h.log.ErrorContext(ctx, "render the page", "err", err)
		return h.problem(req, http.StatusInternalServerError, "internal", "the server failed to answer; try again later")
	}
	return revalidated(req, b.String(), "text/html; charset=utf-8", pageCSP)
}

func (h *handler) serveAsset(ctx context.Context, req *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	name := assetName(req)
	a, ok := h.assets[name]
	if !ok {
		if h.missing != "" && (name == bundleJS || name == styleCSS) {
			return h.unavailable(ctx, req)
		}
		return h.problem(req, http.StatusNotFound, "not-found", "no such file: /docs/"+name)
	}
	cache := cacheFile
	if v, _ := apigw.Query(req, "v"); v == a.digest {
		cache = cacheVersioned
	}
	etag := `"` + a.digest + `"`
	if etagMatches(apigw.Header(req, "If-None-Match"), etag) {
		return notModified(etag, cache, fileCSP)
	}
	resp := withHeaders(http.StatusOK, a.body, a.contentType, fileCSP, cache)
	resp.Headers["ETag"] = etag
	return resp
}

// assetName is the file a request under /docs/ asks for. It is only ever
// looked up in the map of assets, never joined to a file path.
func assetName(req *events.APIGatewayProxyRequest) string {
	if v, ok := req.PathParameters["file"]; ok {
		return v
	}
	if i := strings.LastIndex(req.Path, "/docs/"); i >= 0 {
		return req.Path[i+len("/docs/"):]
	}
	return ""
}

func (h *handler) unavailable(ctx context.Context, req *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	h.log.WarnContext(ctx, "no Swagger UI assets in this build", "path", req.Path)
	resp := h.problem(req, http.StatusServiceUnavailable, "unavailable", h.missing)
	// Trying again will not help: the build must.
	delete(resp.Headers, "Retry-After")
	return resp
}

func (h *handler) problem(req *events.APIGatewayProxyRequest, status int, slug, detail string) events.APIGatewayProxyResponse {
	p := apigw.NewProblem(status, slug, detail)
	p.Instance = req.RequestContext.RequestID
	return p.Response()
}

// revalidated answers body with an ETag of its own and no-cache, or 304 when
// the client has it already.
func revalidated(req *events.APIGatewayProxyRequest, body, contentType, csp string) events.APIGatewayProxyResponse {
	etag := `"` + digest(body) + `"`
	if etagMatches(apigw.Header(req, "If-None-Match"), etag) {
		return notModified(etag, cacheRevalid, csp)
	}
	resp := withHeaders(http.StatusOK, body, contentType, csp, cacheRevalid)
	resp.Headers["ETag"] = etag
	return resp
}

func notModified(etag, cache, csp string) events.APIGatewayProxyResponse {
	resp := withHeaders(http.StatusNotModified, "", "", csp, cache)
	resp.Headers["ETag"] = etag
	return resp
}

// withHeaders is a response with the headers of apigw's responses, this
// function's Content-Security-Policy and caching.
func withHeaders(status int, body, contentType, csp, cache string) events.APIGatewayProxyResponse {
	h := apigw.Empty(status).Headers
	h["Content-Security-Policy"] = csp
	h["Cache-Control"] = cache
	if contentType != "" {
		h["Content-Type"] = contentType
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: h, Body: body}
}

// etagMatches reports whether an If-None-Match value names etag: "*", or a
// list of tags compared weakly (RFC 9110, 13.1.2).
func etagMatches(ifNoneMatch, etag string) bool {
	if strings.TrimSpace(ifNoneMatch) == "*" {
		return true
	}
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == etag {
			return true
		}
	}
	return false
}

var (
	hostPattern  = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)
	protoPattern = regexp.MustCompile(`^https?$`)
)

// serverURL is the URL of the API as the client reached it: absolute when API
// Gateway says how (X-Forwarded-Proto and Host, as it always does on AWS), else
// the base path alone, which OpenAPI resolves against the document's own URL.
func serverURL(req *events.APIGatewayProxyRequest) string {
	base := apigw.BasePath(req)
	host, proto := apigw.Header(req, "Host"), strings.ToLower(apigw.Header(req, "X-Forwarded-Proto"))
	if hostPattern.MatchString(host) && protoPattern.MatchString(proto) {
		return proto + "://" + host + base
	}
	if base == "" {
		return "/"
	}
	return base
}

// spec is the document as JSON, cut where its servers go: they depend on
// where the client found it.
type spec struct{ head, tail string }

func (s spec) withServers(url string) string {
	type server struct {
		URL         string `json:"url"`
		Description string `json:"description"`
	}
	servers, _ := json.Marshal([]server{{url, "This API, where this document was read."}})
	return s.head + string(servers) + s.tail
}

// convert turns the YAML document into JSON, in the document's order, without
// its x-amazon-apigateway-* extensions: they configure API Gateway, hold
// CloudFormation intrinsics (Fn::Sub) that mean nothing to a client, and name
// the stack's functions. An intrinsic anywhere else is an error.
func convert(document []byte) (spec, string, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(document, &root); err != nil {
		return spec{}, "", err
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return spec{}, "", errors.New("the document is not a YAML mapping")
	}
	top := root.Content[0]
	var info struct {
		Info struct{ Title string }
	}
	if err := top.Decode(&info); err != nil {
		return spec{}, "", err
	}
	var b bytes.Buffer
	var head string
	b.WriteByte('{')
	first := true
	key := func(k string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(&b, k)
		b.WriteByte(':')
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if stripped(k.Value) {
			continue
		}
		key(k.Value)
		if k.Value == "servers" {
			head = b.String()
			b.Reset()
			continue
		}
		if err := writeJSON(&b, v, k.Value); err != nil {
			return spec{}, "", err
		}
	}
	if head == "" {
		key("servers")
		head = b.String()
		b.Reset()
	}
	b.WriteByte('}')
	return spec{head: head, tail: b.String()}, info.Info.Title, nil
}

func stripped(key string) bool { return strings.HasPrefix(key, "x-amazon-apigateway-") }

// writeJSON writes the YAML node n as JSON; at is where it is, for errors.
func writeJSON(b *bytes.Buffer, n *yaml.Node, at string) error {
	switch n.Kind {
	case yaml.AliasNode:
		return writeJSON(b, n.Alias, at)
	case yaml.MappingNode:
		b.WriteByte('{')
		first := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" {
				return fmt.Errorf("line %d (%s): only plain keys are supported", k.Line, at)
			}
			if strings.HasPrefix(k.Value, "Fn::") {
				return fmt.Errorf("line %d (%s): %s outside an x-amazon-apigateway-* extension", k.Line, at, k.Value)
			}
			if stripped(k.Value) {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			writeString(b, k.Value)
			b.WriteByte(':')
			if err := writeJSON(b, v, at+"."+k.Value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, v := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, v, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		return writeScalar(b, n, at)
	default:
		return fmt.Errorf("line %d (%s): unexpected YAML node", n.Line, at)
	}
	return nil
}

func writeScalar(b *bytes.Buffer, n *yaml.Node, at string) error {
	switch n.ShortTag() {
	case "!!str", "!!timestamp", "!!binary":
		writeString(b, n.Value)
	case "!!null":
		b.WriteString("null")
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d (%s): %w", n.Line, at, err)
		}
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return fmt.Errorf("line %d (%s): %s has no JSON form", n.Line, at, n.Value)
		}
		out, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d (%s): %w", n.Line, at, err)
		}
		b.Write(out)
	default:
		// A short-form intrinsic (!Sub, !Ref) or another tag JSON cannot say.
		return fmt.Errorf("line %d (%s): tag %s has no JSON form (intrinsics must be long-form, in x-amazon-apigateway-* extensions)", n.Line, at, n.Tag)
	}
	return nil
}

// writeString writes s as a JSON string, leaving <, > and & as they are.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // the newline Encode adds
}
