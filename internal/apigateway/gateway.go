package apigateway

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/google/uuid"

	"github.com/usersapi/usersapi/internal/runtimeapi"
	"github.com/usersapi/usersapi/internal/stack"
	"github.com/usersapi/usersapi/internal/traceheader"
)

// Gateway serves the REST API as API Gateway does with Lambda proxy
// integrations, from the OpenAPI document that API Gateway imports: routes
// and ANY methods, request validators, the v1 proxy event, the mapping of the
// function's response, and the document's gateway responses.
type Gateway struct {
	doc              *openapi3.T
	stage            string
	apiID            string
	routes           []route
	functions        map[string]Function // by logical id
	timeout          time.Duration       // the integration timeout
	responses        map[string]gatewayResponse
	validators       map[string]validator
	defaultValidator string
	auth             map[string]*authorizer // Lambda authorizers, by security scheme
	apiKeySchemes    map[string]bool        // security schemes that mean "x-api-key required"
	keys             map[string]*keyState   // accepted API keys, by value
	endpoint         *url.URL               // Config.URL; nil: none
	log              *slog.Logger
}

type route struct {
	template string   // "/users/{id}"
	segments []string // "users", "{id}"
	item     *openapi3.PathItem
}

type validator struct{ body, params bool }

type gatewayResponse struct {
	StatusCode         string            `json:"statusCode"`
	ResponseParameters map[string]string `json:"responseParameters"`
	ResponseTemplates  map[string]string `json:"responseTemplates"`
}

// Function is a Lambda function that the gateway invokes: trace is the
// header the invocation gets, upstream the request's X-Amzn-Trace-Id. The
// local cloud hands in functions that X-Ray records (xray.Function).
type Function interface {
	Invoke(ctx context.Context, payload []byte, trace, upstream string) (runtimeapi.Result, error)
}

// Config is what a gateway is made of.
type Config struct {
	Document  []byte              // the OpenAPI document, its intrinsic functions resolved
	Stage     string              // the stage, which is the API's base path
	Functions map[string]Function // by the logical ids that the integrations name
	Keys      []*APIKey           // the API keys the gateway accepts
	// URL is where clients reach the API, without the stage
	// ("http://127.0.0.1:3000"): every event's Host, X-Forwarded-Proto and
	// X-Forwarded-Port come from it, as API Gateway sets them from its own
	// endpoint, never from the client's headers. Default: the request's
	// Host, over http.
	URL string
	Log *slog.Logger
}

// New returns a gateway for the document, invoking functions by the
// logical ids that its integrations name.
func New(cfg Config) (*Gateway, error) {
	doc, err := openapi3.NewLoader().LoadFromData(cfg.Document)
	if err != nil {
		return nil, fmt.Errorf("api/openapi.yaml: %w", err)
	}
	g := &Gateway{doc: doc, stage: cfg.Stage, apiID: "local", functions: cfg.Functions, timeout: 29 * time.Second,
		responses: map[string]gatewayResponse{}, validators: map[string]validator{}, keys: map[string]*keyState{}, log: cfg.Log}
	for _, k := range cfg.Keys {
		g.keys[k.Value] = &keyState{key: k}
	}
	if cfg.URL != "" {
		if g.endpoint, err = url.Parse(cfg.URL); err != nil || g.endpoint.Host == "" {
			return nil, fmt.Errorf("gateway URL %q is not an absolute URL", cfg.URL)
		}
	}
	if err := remarshal(doc.Extensions["x-amazon-apigateway-gateway-responses"], &g.responses); err != nil {
		return nil, fmt.Errorf("gateway responses: %w", err)
	}
	var vs map[string]struct{ ValidateRequestBody, ValidateRequestParameters bool }
	if err := remarshal(doc.Extensions["x-amazon-apigateway-request-validators"], &vs); err != nil {
		return nil, fmt.Errorf("request validators: %w", err)
	}
	for name, v := range vs {
		g.validators[name] = validator{body: v.ValidateRequestBody, params: v.ValidateRequestParameters}
	}
	g.defaultValidator, _ = doc.Extensions["x-amazon-apigateway-request-validator"].(string)
	for tpl, item := range doc.Paths.Map() {
		g.routes = append(g.routes, route{template: tpl, segments: strings.Split(strings.Trim(tpl, "/"), "/"), item: item})
		for method, op := range item.Operations() {
			if err := cacheKeysDeclared(op.Extensions, append(item.Parameters, op.Parameters...)); err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, tpl, err)
			}
			if isMock(op.Extensions) {
				continue
			}
			if _, err := g.integration(op.Extensions); err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, tpl, err)
			}
		}
	}
	if g.auth, err = g.authorizers(doc); err != nil {
		return nil, err
	}
	g.apiKeySchemes = map[string]bool{}
	if doc.Components != nil {
		for name, ref := range doc.Components.SecuritySchemes {
			if v := ref.Value; v != nil && v.Type == "apiKey" && strings.EqualFold(v.Name, "x-api-key") && g.auth[name] == nil {
				g.apiKeySchemes[name] = true
			}
		}
	}
	// Literal segments win over parameters, as API Gateway prefers the most specific resource.
	sort.Slice(g.routes, func(i, j int) bool { return specificity(g.routes[i]) > specificity(g.routes[j]) })
	return g, nil
}

func specificity(r route) int {
	n := 0
	for _, s := range r.segments {
		if !strings.HasPrefix(s, "{") {
			n++
		}
	}
	return n*100 + len(r.segments)
}

func remarshal(in, out any) error {
	if in == nil {
		return nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// cacheKeysDeclared refuses an integration's cache key that is not a request
// parameter of the method, as API Gateway refuses the import ("Invalid cache
// key parameter specified"): each of cacheKeyParameters must name a path,
// query string or header parameter that the operation (or its path) declares.
func cacheKeysDeclared(ext map[string]any, params openapi3.Parameters) error {
	var in struct {
		CacheKeyParameters []string `json:"cacheKeyParameters"`
	}
	if err := remarshal(ext["x-amazon-apigateway-integration"], &in); err != nil {
		return fmt.Errorf("integration: %w", err)
	}
	where := map[string]string{"path": "path", "querystring": "query", "header": "header"}
	for _, key := range in.CacheKeyParameters {
		loc, name, _ := strings.Cut(strings.TrimPrefix(key, "method.request."), ".")
		declared := false
		for _, p := range params {
			if p.Value != nil && p.Value.In == where[loc] && name != "" &&
				(p.Value.Name == name || loc == "header" && strings.EqualFold(p.Value.Name, name)) {
				declared = true
			}
		}
		if !strings.HasPrefix(key, "method.request.") || !declared {
			return fmt.Errorf("cache key %s is not a request parameter of the method: "+
				"API Gateway refuses the import (Invalid cache key parameter specified); declare it in the operation's parameters", key)
		}
	}
	return nil
}

// functionRef finds the function an integration URI invokes: ${Name.Arn} or
// the alias ${NameAliaslive} in the document as written, or the function ARN,
// qualified or not, once resolved. Locally an alias invokes its function.
var functionRef = regexp.MustCompile(`\$\{(\w+)\.Arn\}|\$\{(\w+)Alias\w+\}|:function:(\w+)(?::[\w-]+)?/invocations`)

// integration returns the function that an operation's aws_proxy integration invokes.
func (g *Gateway) integration(ext map[string]any) (Function, error) {
	var in struct {
		Type string
		URI  any `json:"uri"`
	}
	if err := remarshal(ext["x-amazon-apigateway-integration"], &in); err != nil || in.Type != "aws_proxy" {
		return nil, fmt.Errorf("no aws_proxy integration")
	}
	b, _ := json.Marshal(in.URI)
	m := functionRef.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("integration uri %s names no function", b)
	}
	name := string(m[1]) + string(m[2]) + string(m[3])
	fn, ok := g.functions[name]
	if !ok {
		return nil, fmt.Errorf("integration names %s, which the template does not declare", name)
	}
	return fn, nil
}

// match finds the resource for a path (below the stage) and its path parameters.
func (g *Gateway) match(path string) (*route, map[string]string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := range g.routes {
		r := &g.routes[i]
		if len(r.segments) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for j, s := range r.segments {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				if segs[j] == "" {
					ok = false
					break
				}
				v, err := url.PathUnescape(segs[j])
				if err != nil {
					ok = false
					break
				}
				params[s[1:len(s)-1]] = v
			} else if s != segs[j] {
				ok = false
				break
			}
		}
		if ok {
			return r, params
		}
	}
	return nil, nil
}

// call is one request through the gateway.
type call struct {
	w         http.ResponseWriter
	r         *http.Request
	requestID string
	start     time.Time
}

// ServeHTTP answers a request to the stage.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r, requestID: uuid.NewString(), start: time.Now()}
	prefix := "/" + g.stage
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	if !ok || (path != "" && !strings.HasPrefix(path, "/")) {
		g.gatewayError(c, "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token", "")
		return
	}
	if path == "" {
		path = "/"
	}
	rt, params := g.match(path)
	if rt == nil {
		g.gatewayError(c, "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token", "")
		return
	}
	op := rt.item.GetOperation(r.Method)
	var ext map[string]any
	security := g.doc.Security // a method without its own security has the root's
	if op != nil {
		ext = op.Extensions
		if op.Security != nil {
			security = *op.Security
		}
	} else if anyMethod, ok := rt.item.Extensions["x-amazon-apigateway-any-method"].(map[string]any); ok {
		ext = anyMethod
		if own, ok := anyMethod["security"]; ok {
			security = nil
			if err := remarshal(own, &security); err != nil {
				g.gatewayError(c, "DEFAULT_5XX", 500, "Internal server error", "")
				return
			}
		}
	} else {
		g.gatewayError(c, "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token", "")
		return
	}
	// The authorizer, the key and its usage plan come first, whatever the
	// integration, the catch-all method's included.
	authContext, ok := g.edge(c, security, rt.template, params)
	if !ok {
		return
	}
	if isMock(ext) && g.mock(c, ext, rt.template) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20+1))
	if err != nil {
		g.gatewayError(c, "DEFAULT_4XX", 400, "Could not read the request body", "")
		return
	}
	if len(body) > 10<<20 {
		g.gatewayError(c, "REQUEST_TOO_LARGE", 413, "Request Too Long", "")
		return
	}
	if op != nil {
		if msg, kind := g.validate(r, op, rt, params, body); msg != "" {
			if kind == "BAD_REQUEST_BODY" {
				g.gatewayError(c, kind, 400, "Invalid request body", msg)
			} else {
				g.gatewayError(c, kind, 400, msg, "")
			}
			return
		}
	}
	fn, err := g.integration(ext)
	if err != nil {
		g.gatewayError(c, "DEFAULT_5XX", 500, "Internal server error", "")
		return
	}
	upstream := r.Header.Get("X-Amzn-Trace-Id") // its Parent is the stage's segment (xray.Daemon.API)
	trace := traceheader.Invocation(upstream)
	event := g.event(c, rt.template, path, params, body, trace)
	event.RequestContext.Authorizer = authContext
	payload, _ := json.Marshal(event)

	ctx, cancel := context.WithTimeout(r.Context(), g.timeout)
	defer cancel()
	done := make(chan runtimeapi.Result, 1)
	errc := make(chan error, 1)
	go func() {
		res, err := fn.Invoke(context.WithoutCancel(ctx), payload, trace, upstream)
		if err != nil {
			errc <- err
			return
		}
		done <- res
	}()
	select {
	case <-ctx.Done():
		g.gatewayError(c, "INTEGRATION_TIMEOUT", 504, "Endpoint request timed out", "")
	case err := <-errc:
		g.log.Error("invoke failed", "err", err)
		g.gatewayError(c, "INTEGRATION_FAILURE", 502, "Internal server error", "")
	case res := <-done:
		g.respond(c, res)
	}
}

// validate applies the operation's request validator, as API Gateway does
// before it invokes anything. It returns the error message and the gateway
// response type, or "".
func (g *Gateway) validate(r *http.Request, op *openapi3.Operation, rt *route, params map[string]string, body []byte) (string, string) {
	name := g.defaultValidator
	if n, ok := op.Extensions["x-amazon-apigateway-request-validator"].(string); ok {
		name = n
	}
	v := g.validators[name]
	if v.params {
		var missing []string
		for _, p := range append(rt.item.Parameters, op.Parameters...) {
			if p.Value == nil || !p.Value.Required {
				continue
			}
			switch p.Value.In {
			case "query":
				if !r.URL.Query().Has(p.Value.Name) {
					missing = append(missing, p.Value.Name)
				}
			case "header":
				if r.Header.Get(p.Value.Name) == "" {
					missing = append(missing, p.Value.Name)
				}
			}
		}
		if len(missing) > 0 {
			return "Missing required request parameters: [" + strings.Join(missing, ", ") + "]", "BAD_REQUEST_PARAMETERS"
		}
	}
	if v.body && op.RequestBody != nil && op.RequestBody.Value != nil {
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			ct = "application/json"
		}
		mt := strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
		if op.RequestBody.Value.Content.Get(mt) == nil {
			return "", "" // no model for this media type: API Gateway passes it through
		}
		if mt == "application/json" && !readable(body) {
			// API Gateway's own words, never a Go parser's.
			return invalidBody, "BAD_REQUEST_BODY"
		}
		req := r.Clone(r.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.Header.Set("Content-Type", mt)
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params,
			Options: &openapi3filter.Options{MultiError: true, ExcludeReadOnlyValidations: true}}
		if err := openapi3filter.ValidateRequestBody(r.Context(), in, op.RequestBody.Value); err != nil {
			var parse *openapi3filter.ParseError
			if errors.As(err, &parse) {
				return invalidBody, "BAD_REQUEST_BODY" // JSON, but no value a parser takes (1e400)
			}
			return validationMessage(err), "BAD_REQUEST_BODY"
		}
	}
	return "", ""
}

// invalidBody is API Gateway's message for a body its validator cannot read.
const invalidBody = "Invalid request body"

// readable reports whether body is one JSON value whose numbers are all
// float64s: not empty, no syntax error, no nesting deeper than a parser
// takes, no number out of range (1e400), which the schema validator would
// report in Go's words.
func readable(body []byte) bool {
	if !json.Valid(body) {
		return false
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return false
	}
	var finite func(any) bool
	finite = func(v any) bool {
		switch t := v.(type) {
		case json.Number:
			_, err := t.Float64()
			return err == nil
		case []any:
			for _, e := range t {
				if !finite(e) {
					return false
				}
			}
		case map[string]any:
			for _, e := range t {
				if !finite(e) {
					return false
				}
			}
		}
		return true
	}
	return finite(v)
}

// validationMessage shortens kin-openapi's error to the rule broken.
func validationMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "Schema:"); i > 0 {
		msg = msg[:i]
	}
	msg = strings.ReplaceAll(msg, "\n", " ")
	if i := strings.Index(msg, "Error at "); i >= 0 {
		msg = msg[i+len("Error at "):]
	}
	msg = strings.TrimSpace(msg)
	return "[" + msg + "]"
}

// event builds the REST API (v1) proxy event.
func (g *Gateway) event(c *call, resource, path string, params map[string]string, body []byte, trace string) events.APIGatewayProxyRequest {
	r := c.r
	headers, mvHeaders := map[string]string{}, map[string][]string{}
	for k, vs := range r.Header {
		headers[k] = vs[len(vs)-1]
		mvHeaders[k] = vs
	}
	headers["X-Amzn-Trace-Id"], mvHeaders["X-Amzn-Trace-Id"] = trace, []string{trace}
	host, proto, port := r.Host, "http", "80"
	if g.endpoint != nil {
		host, proto, port = g.endpoint.Host, g.endpoint.Scheme, g.endpoint.Port()
	}
	if port == "" {
		port = map[string]string{"https": "443"}[proto]
		port = cmp.Or(port, "80")
	}
	for k, v := range map[string]string{"Host": host, "X-Forwarded-Proto": proto, "X-Forwarded-Port": port} {
		headers[k], mvHeaders[k] = v, []string{v}
	}
	ip := r.RemoteAddr
	if i := strings.LastIndexByte(ip, ':'); i > 0 {
		ip = strings.Trim(ip[:i], "[]")
	}
	headers["X-Forwarded-For"], mvHeaders["X-Forwarded-For"] = ip, []string{ip}
	var qs map[string]string
	var mvqs map[string][]string
	if q := r.URL.Query(); len(q) > 0 {
		qs, mvqs = map[string]string{}, map[string][]string{}
		for k, vs := range q {
			qs[k], mvqs[k] = vs[len(vs)-1], vs
		}
	}
	if len(params) == 0 {
		params = nil
	}
	unescaped, _ := url.PathUnescape(path)
	ev := events.APIGatewayProxyRequest{
		Resource: resource, Path: unescaped, HTTPMethod: r.Method, Headers: headers, MultiValueHeaders: mvHeaders,
		QueryStringParameters: qs, MultiValueQueryStringParameters: mvqs, PathParameters: params,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID: stack.Account, ResourceID: resource, Stage: g.stage, RequestID: c.requestID,
			ExtendedRequestID: c.requestID, RequestTime: c.start.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch: c.start.UnixMilli(), Path: "/" + g.stage + unescaped, ResourcePath: resource,
			HTTPMethod: r.Method, APIID: g.apiID, Protocol: r.Proto, DomainName: host,
			Identity: events.APIGatewayRequestIdentity{SourceIP: ip, UserAgent: r.UserAgent()},
		},
	}
	// The bytes as the client sent them. A JSON string cannot hold bytes that
	// are not UTF-8 (encoding them would replace each with U+FFFD, a character
	// the client never sent), so such a body goes base64-encoded, which the
	// functions decode (apigw.Body) and judge themselves.
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return ev
}

// respond maps the function's proxy response back to HTTP.
func (g *Gateway) respond(c *call, res runtimeapi.Result) {
	if res.FunctionError != "" {
		g.log.Warn("function error", "request_id", c.requestID, "error", string(res.Payload))
		g.gatewayError(c, "INTEGRATION_FAILURE", 502, "Internal server error", "")
		return
	}
	var out struct {
		StatusCode        *int                `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Body              string              `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
	}
	dec := json.NewDecoder(bytes.NewReader(res.Payload))
	if err := dec.Decode(&out); err != nil || out.StatusCode == nil || *out.StatusCode < 100 || *out.StatusCode > 599 {
		g.log.Warn("malformed Lambda proxy response", "request_id", c.requestID)
		g.gatewayError(c, "INTEGRATION_FAILURE", 502, "Internal server error", "")
		return
	}
	body := []byte(out.Body)
	if out.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(out.Body); err != nil {
			g.gatewayError(c, "INTEGRATION_FAILURE", 502, "Internal server error", "")
			return
		}
	}
	h := c.w.Header()
	for k, vs := range out.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range out.Headers {
		h.Set(k, v)
	}
	g.commonHeaders(c)
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(*out.StatusCode)
	_, _ = c.w.Write(body)
}

func (g *Gateway) commonHeaders(c *call) {
	h := c.w.Header()
	h.Set("X-Amzn-RequestId", c.requestID)
	h.Set("X-Amz-Apigw-Id", c.requestID[:16])
}

// gatewayError answers with the document's gateway response of type typ
// (falling back to DEFAULT_4XX or DEFAULT_5XX, then to API Gateway's own
// {"message": ...}), substituting the $context variables it uses.
func (g *Gateway) gatewayError(c *call, typ string, status int, message, validation string) {
	gr, ok := g.responses[typ]
	if !ok {
		fallback := "DEFAULT_4XX"
		if status >= 500 {
			fallback = "DEFAULT_5XX"
		}
		gr, ok = g.responses[fallback]
	}
	h := c.w.Header()
	g.commonHeaders(c)
	h.Set("X-Amzn-ErrorType", errorTypeName(typ))
	body := `{"message":` + quote(message) + `}`
	h.Set("Content-Type", "application/json")
	if ok {
		if gr.StatusCode != "" {
			if s, err := strconv.Atoi(gr.StatusCode); err == nil {
				status = s
			}
		}
		mapHeaders(h, gr.ResponseParameters, "gatewayresponse.header.", c.r)
		if tpl, ok := gr.ResponseTemplates["application/json"]; ok {
			esc := quote(validation)
			body = strings.NewReplacer(
				"$context.requestId", c.requestID,
				"$context.error.messageString", quote(message),
				"$context.error.validationErrorString", esc[1:len(esc)-1],
				"$context.error.message", strings.Trim(quote(message), `"`),
				"$context.error.responseType", typ,
			).Replace(tpl)
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(status)
	_, _ = io.WriteString(c.w, body)
}

// mapHeaders sets the response headers that parameters map, as API Gateway
// maps a method's or a gateway response's responseParameters: each key is
// prefix followed by the header's name ("method.response.header.",
// "gatewayresponse.header."), each value a 'quoted literal' or
// method.request.header.<name>, the request's header (no header when the
// request has none). Other keys and values are not emulated.
func mapHeaders(h http.Header, parameters map[string]string, prefix string, r *http.Request) {
	for k, v := range parameters {
		name, isHeader := strings.CutPrefix(k, prefix)
		if !isHeader {
			continue
		}
		if lit, quoted := strings.CutPrefix(v, "'"); quoted {
			h.Set(name, strings.TrimSuffix(lit, "'"))
		} else if hdr, ok := strings.CutPrefix(v, "method.request.header."); ok && r.Header.Get(hdr) != "" {
			h.Set(name, r.Header.Get(hdr))
		}
	}
}

func errorTypeName(typ string) string {
	switch typ {
	case "UNAUTHORIZED":
		return "UnauthorizedException"
	case "ACCESS_DENIED", "INVALID_API_KEY":
		return "AccessDeniedException"
	case "THROTTLED", "QUOTA_EXCEEDED":
		return "TooManyRequestsException"
	case "MISSING_AUTHENTICATION_TOKEN":
		return "MissingAuthenticationTokenException"
	case "BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS":
		return "BadRequestException"
	}
	return "InternalServerErrorException"
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func isMock(ext map[string]any) bool {
	in, _ := ext["x-amazon-apigateway-integration"].(map[string]any)
	return in != nil && in["type"] == "mock"
}

// edge applies the method's security as API Gateway does, in its order:
// the Lambda authorizer, then the API key and its usage plan. It answers the
// request itself and returns false when the request may not go on; else it
// returns the authorizer's context for the proxy event.
func (g *Gateway) edge(c *call, reqs openapi3.SecurityRequirements, resource string, params map[string]string) (map[string]any, bool) {
	var schemes []string
	if len(reqs) > 0 {
		for name := range reqs[0] {
			schemes = append(schemes, name)
		}
		sort.Strings(schemes)
	}
	var authContext map[string]any
	for _, name := range schemes {
		a, ok := g.auth[name]
		if !ok {
			continue
		}
		res := g.authorize(c.r.Context(), a, c, resource, params)
		switch res.status {
		case 0:
		case http.StatusUnauthorized:
			g.gatewayError(c, "UNAUTHORIZED", 401, "Unauthorized", "")
			return nil, false
		case http.StatusForbidden:
			g.gatewayError(c, "ACCESS_DENIED", 403, "User is not authorized to access this resource", "")
			return nil, false
		default:
			g.gatewayError(c, "AUTHORIZER_FAILURE", 500, "Authorizer error", "")
			return nil, false
		}
		authContext = map[string]any{"principalId": res.principal}
		for k, v := range res.context {
			authContext[k] = v
		}
	}
	for _, name := range schemes {
		if !g.apiKeySchemes[name] {
			continue
		}
		k, ok := g.keys[c.r.Header.Get("X-Api-Key")]
		if !ok {
			g.gatewayError(c, "INVALID_API_KEY", 403, "Forbidden", "")
			return nil, false
		}
		if typ, wait := k.take(time.Now()); typ != "" {
			c.w.Header().Set("Retry-After", strconv.Itoa(max(wait, 1)))
			msg := "Too Many Requests"
			if typ == "QUOTA_EXCEEDED" {
				msg = "Limit Exceeded"
			}
			g.gatewayError(c, typ, 429, msg, "")
			return nil, false
		}
	}
	return authContext, true
}
