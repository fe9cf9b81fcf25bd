package api_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/usersapi/usersapi/api"
)

// These tests hold the document and the template to rules API Gateway enforces only when
// a stack is deployed (or not at all), which neither cfn-lint nor Redocly can see. They run
// in `make test` and in `make lint` (scripts/lint-template.sh).

// methods are the operations of a path item that API Gateway makes methods of.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}

// operation is one method of the document, as API Gateway imports it.
type operation struct {
	path, method string
	op           map[string]any
	pathParams   []any // the path item's own parameters, which every operation inherits
}

func document(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	return doc
}

func operations(t *testing.T, doc map[string]any) []operation {
	t.Helper()
	var ops []operation
	for path, item := range doc["paths"].(map[string]any) {
		item := item.(map[string]any)
		pathParams, _ := item["parameters"].([]any)
		for _, m := range methods {
			if op, ok := item[m].(map[string]any); ok {
				ops = append(ops, operation{path, m, op, pathParams})
			}
		}
	}
	if len(ops) == 0 {
		t.Fatal("api/openapi.yaml has no operations")
	}
	return ops
}

// resolve follows a local $ref ("#/components/parameters/UserId").
func resolve(doc map[string]any, v any) map[string]any {
	m, _ := v.(map[string]any)
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	var node any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		node = node.(map[string]any)[part]
	}
	return resolve(doc, node)
}

// requestParameters returns the method request parameters an operation declares, in
// API Gateway's spelling: method.request.path.id, method.request.header.If-None-Match.
func requestParameters(doc map[string]any, o operation) []string {
	location := map[string]string{"path": "path", "query": "querystring", "header": "header"}
	var names []string
	ops, _ := o.op["parameters"].([]any)
	for _, p := range append(slices.Clone(o.pathParams), ops...) {
		p := resolve(doc, p)
		if loc, ok := location[p["in"].(string)]; ok {
			names = append(names, "method.request."+loc+"."+p["name"].(string))
		}
	}
	return names
}

func integration(o operation) map[string]any {
	i, _ := o.op["x-amazon-apigateway-integration"].(map[string]any)
	return i
}

// TestCacheKeysAreDeclared: API Gateway takes a cache key only if it is a request
// parameter of its method ("these parameters must also be specified for Method
// requestParameters", API_Integration); the import of a document that breaks this is
// refused, and a key dropped would let the cache serve one caller's user to another.
// The same holds for what the integration maps from the method request.
func TestCacheKeysAreDeclared(t *testing.T) {
	doc := document(t)
	keyed := 0
	for _, o := range operations(t, doc) {
		declared := requestParameters(doc, o)
		in := integration(o)
		keys, _ := in["cacheKeyParameters"].([]any)
		for _, k := range keys {
			keyed++
			if !slices.Contains(declared, k.(string)) {
				t.Errorf("%s %s: cache key %s is not a declared request parameter (declared: %v)", o.method, o.path, k, declared)
			}
		}
		mapped, _ := in["requestParameters"].(map[string]any)
		for to, from := range mapped {
			if s, ok := from.(string); ok && strings.HasPrefix(s, "method.request.") && !slices.Contains(declared, s) {
				t.Errorf("%s %s: %s maps %s, which is not a declared request parameter", o.method, o.path, to, s)
			}
		}
		for _, k := range keys {
			if _, ok := mapped[strings.Replace(k.(string), "method.", "integration.", 1)]; !ok {
				t.Errorf("%s %s: cache key %s is not mapped to the integration request", o.method, o.path, k)
			}
		}
	}
	if keyed == 0 {
		t.Error("no operation has cache keys: GET /users/{id} is cached in prod")
	}
	// The headers the read function's answer depends on are all keys of the cached method.
	for _, o := range operations(t, doc) {
		if o.path != "/users/{id}" || o.method != "get" {
			continue
		}
		keys, _ := integration(o)["cacheKeyParameters"].([]any)
		for _, want := range []string{"method.request.path.id", "method.request.header.If-None-Match", "method.request.header.Authorization", "method.request.header.Origin"} {
			if !slices.Contains(keys, any(want)) {
				t.Errorf("GET /users/{id}: %s is not a cache key", want)
			}
		}
	}
}

// aliasURI is how every integration and the authorizer name a function: its alias "live"
// (the logical id SAM gives it), never the function itself, which would skip the canary.
var aliasURI = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:apigateway:\$\{AWS::Region\}:lambda:path/2015-03-31/functions/\$\{[A-Za-z]+FunctionAliaslive\}/invocations$`)

func subString(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["Fn::Sub"].(string)
	return s
}

// TestEverythingTargetsLive: integrations, the authorizer and every Lambda permission of
// the template name the alias "live".
func TestEverythingTargetsLive(t *testing.T) {
	doc := document(t)
	for _, o := range operations(t, doc) {
		in := integration(o)
		if in == nil {
			t.Errorf("%s %s: no integration", o.method, o.path)
			continue
		}
		if in["type"] == "mock" {
			continue // invokes nothing (TestOtherMethodsAreMocks)
		}
		if uri := subString(in["uri"]); !aliasURI.MatchString(uri) {
			t.Errorf("%s %s: integration uri %q is not a function's alias live", o.method, o.path, uri)
		}
	}
	schemes := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)
	authorizers := 0
	for name, s := range schemes {
		a, ok := s.(map[string]any)["x-amazon-apigateway-authorizer"].(map[string]any)
		if !ok {
			continue
		}
		authorizers++
		if uri := subString(a["authorizerUri"]); !aliasURI.MatchString(uri) {
			t.Errorf("authorizer %s: uri %q is not a function's alias live", name, uri)
		}
	}
	if authorizers == 0 {
		t.Error("the document declares no authorizer")
	}

	permissions := 0
	for name, r := range templateResources(t) {
		if r.kind != "AWS::Lambda::Permission" {
			continue
		}
		permissions++
		fn := r.props["FunctionName"]
		if fn == nil || fn.Tag != "!Ref" || !strings.HasSuffix(fn.Value, ".Alias") {
			t.Errorf("%s: FunctionName is not !Ref <Function>.Alias (the alias live)", name)
		}
	}
	if permissions == 0 {
		t.Error("template.yaml has no Lambda permissions")
	}
}

// resource is a template resource: its type and its properties as YAML nodes (which keep
// the short-form tags, !Ref, that a plain decode would lose).
type resource struct {
	kind  string
	props map[string]*yaml.Node
}

func templateResources(t *testing.T) map[string]resource {
	t.Helper()
	b, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatalf("template: %v", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	out := map[string]resource{}
	resources := mapping(root.Content[0])["Resources"]
	if resources == nil {
		t.Fatal("template.yaml has no Resources")
	}
	for name, n := range mapping(resources) {
		m := mapping(n)
		r := resource{props: map[string]*yaml.Node{}}
		if m["Type"] != nil {
			r.kind = m["Type"].Value
		}
		if m["Properties"] != nil {
			r.props = mapping(m["Properties"])
		}
		out[name] = r
	}
	return out
}

func mapping(n *yaml.Node) map[string]*yaml.Node {
	m := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		m[n.Content[i].Value] = n.Content[i+1]
	}
	return m
}

// TestSecurity: the documentation is public (every method), the CORS preflight needs no
// credentials, and everything else needs the API key and the JWT, both.
func TestSecurity(t *testing.T) {
	doc := document(t)
	root, _ := doc["security"].([]any)
	if len(root) != 1 {
		t.Fatalf("root security %v: want one requirement, the API key and the JWT", root)
	}
	req := root[0].(map[string]any)
	if _, ok := req["api_key"]; !ok || len(req) != 2 {
		t.Fatalf("root security %v: want {api_key, jwt}", req)
	}
	if _, ok := req["jwt"]; !ok {
		t.Fatalf("root security %v: want {api_key, jwt}", req)
	}
	public := []string{"/openapi.json", "/docs", "/docs/{file}"}
	for _, o := range operations(t, doc) {
		sec, declared := o.op["security"].([]any)
		open := declared && len(sec) == 0
		switch {
		case slices.Contains(public, o.path):
			if !open {
				t.Errorf("%s %s: the documentation must be public (security: [])", o.method, o.path)
			}
			if o.method == "get" {
				if _, ok := doc["paths"].(map[string]any)[o.path].(map[string]any)["head"]; !ok {
					t.Errorf("%s: no HEAD method, so HEAD falls to the catch-all method", o.path)
				}
			}
		case o.method == "options":
			if !open {
				t.Errorf("OPTIONS %s: the preflight must need no credentials (security: [])", o.path)
			}
		default:
			if declared {
				t.Errorf("%s %s: overrides the root security (%v): it must need the API key and the JWT", o.method, o.path, sec)
			}
		}
	}
}

// TestOtherMethodsAreMocks: a method no operation serves gets 405 from a mock integration,
// so that it invokes no function, with an Allow header listing exactly the path's methods;
// and HEAD is declared wherever GET is, so that it never falls to the 405.
func TestOtherMethodsAreMocks(t *testing.T) {
	doc := document(t)
	for path, item := range doc["paths"].(map[string]any) {
		item := item.(map[string]any)
		var declared []string
		for _, m := range methods {
			if _, ok := item[m]; ok && m != "x-amazon-apigateway-any-method" {
				declared = append(declared, strings.ToUpper(m))
			}
		}
		if slices.Contains(declared, "GET") && !slices.Contains(declared, "HEAD") {
			t.Errorf("%s: GET without HEAD, so HEAD gets the 405", path)
		}
		anyMethod, _ := item["x-amazon-apigateway-any-method"].(map[string]any)
		in, _ := anyMethod["x-amazon-apigateway-integration"].(map[string]any)
		if in["type"] != "mock" {
			t.Errorf("%s: the catch-all method is not a mock integration: %v", path, in)
			continue
		}
		def, _ := in["responses"].(map[string]any)["default"].(map[string]any)
		params, _ := def["responseParameters"].(map[string]any)
		allow, _ := params["method.response.header.Allow"].(string)
		got := strings.Split(strings.Trim(allow, "'"), ", ")
		slices.Sort(got)
		slices.Sort(declared)
		if def["statusCode"] != "405" || !slices.Equal(got, declared) {
			t.Errorf("%s: the catch-all answers %v with Allow %q, want 405 with %v", path, def["statusCode"], allow, declared)
		}
		headers, _ := anyMethod["responses"].(map[string]any)["405"].(map[string]any)["headers"].(map[string]any)
		for k := range params {
			if name, ok := strings.CutPrefix(k, "method.response.header."); ok && headers[name] == nil {
				t.Errorf("%s: the 405 maps %s, which its method response does not declare (the import refuses it)", path, name)
			}
		}
		tpl, _ := def["responseTemplates"].(map[string]any)["application/json"].(string)
		if !strings.Contains(tpl, `"type":"https://usersapi.dev/problems/method-not-allowed"`) {
			t.Errorf("%s: the 405's body is not the method-not-allowed problem: %s", path, tpl)
		}
	}
}
