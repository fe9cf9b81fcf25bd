package apigateway

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/usersapi/usersapi/internal/stack"
	"github.com/usersapi/usersapi/internal/traceheader"
)

// The API's edge as API Gateway enforces it before any integration runs:
// Lambda authorizers (with their result cache), API keys with usage plans
// (throttling and quotas), and mock integrations (CORS preflight).

// authorizer is a Lambda authorizer that the document declares as a
// security scheme (x-amazon-apigateway-authorizer).
type authorizer struct {
	name    string
	kind    string   // "request" or "token"
	sources []string // identity sources: "method.request.header.Authorization"
	fn      Function
	ttl     time.Duration
	mu      sync.Mutex
	cache   map[string]authResult
}

type authResult struct {
	status    int // 0: allowed; 401, 403 or 500 otherwise
	principal string
	context   map[string]any
	policy    policyDoc
	expires   time.Time
}

type policyDoc struct {
	Statement []struct {
		Effect   string
		Action   any
		Resource any
	}
}

// authorizers reads the document's Lambda authorizers.
func (g *Gateway) authorizers(doc *openapi3.T) (map[string]*authorizer, error) {
	out := map[string]*authorizer{}
	if doc.Components == nil {
		return out, nil
	}
	for name, ref := range doc.Components.SecuritySchemes {
		if ref.Value == nil {
			continue
		}
		raw, ok := ref.Value.Extensions["x-amazon-apigateway-authorizer"]
		if !ok {
			continue
		}
		var a struct {
			Type                         string
			IdentitySource               string
			AuthorizerURI                any  `json:"authorizerUri"`
			AuthorizerResultTTLInSeconds *int `json:"authorizerResultTtlInSeconds"`
		}
		if err := remarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("authorizer %s: %w", name, err)
		}
		fn, err := g.integration(map[string]any{"x-amazon-apigateway-integration": map[string]any{"type": "aws_proxy", "uri": a.AuthorizerURI}})
		if err != nil {
			return nil, fmt.Errorf("authorizer %s: %w", name, err)
		}
		ttl := 300
		if a.AuthorizerResultTTLInSeconds != nil {
			ttl = *a.AuthorizerResultTTLInSeconds
		}
		au := &authorizer{name: name, kind: strings.ToLower(cmp.Or(a.Type, "token")), fn: fn, ttl: time.Duration(ttl) * time.Second, cache: map[string]authResult{}}
		for _, s := range strings.Split(cmp.Or(a.IdentitySource, "method.request.header.Authorization"), ",") {
			au.sources = append(au.sources, strings.TrimSpace(s))
		}
		out[name] = au
	}
	return out, nil
}

// identity returns the values of the identity sources, the last of each as
// the authorizer's event carries it; whether one of them was sent more than
// once; and false when one is missing (API Gateway then answers 401 without
// invoking the authorizer).
func (a *authorizer) identity(r *http.Request) (vals []string, repeated, ok bool) {
	for _, s := range a.sources {
		var vs []string
		switch {
		case strings.HasPrefix(s, "method.request.header."):
			vs = r.Header.Values(strings.TrimPrefix(s, "method.request.header."))
		case strings.HasPrefix(s, "method.request.querystring."):
			vs = r.URL.Query()[strings.TrimPrefix(s, "method.request.querystring.")]
		}
		if len(vs) == 0 || vs[len(vs)-1] == "" {
			return nil, false, false
		}
		vals = append(vals, vs[len(vs)-1])
		repeated = repeated || len(vs) > 1
	}
	return vals, repeated, true
}

// authorize runs the authorizer for a request (or takes its cached result)
// and checks the policy against the method's ARN.
func (g *Gateway) authorize(ctx context.Context, a *authorizer, c *call, resource string, params map[string]string) authResult {
	ids, repeated, ok := a.identity(c.r)
	if !ok {
		return authResult{status: http.StatusUnauthorized}
	}
	methodARN := fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s%s", stack.Region, stack.Account, g.apiID, g.stage, c.r.Method, c.r.URL.Path[len(g.stage)+1:])
	key := strings.Join(ids, "\x00")
	a.mu.Lock()
	res, hit := a.cache[key]
	a.mu.Unlock()
	// A request that repeats an identity source is judged on its own and
	// its verdict is kept by no one: cached under one of its values, it
	// would answer the holder of that value alone (a refusal locking out a
	// valid token, an approval letting in another).
	if repeated || !hit || time.Now().After(res.expires) {
		res = g.invokeAuthorizer(ctx, a, c, resource, params, methodARN, ids)
		if a.ttl > 0 && !repeated && res.status != http.StatusInternalServerError {
			res.expires = time.Now().Add(a.ttl)
			a.mu.Lock()
			a.cache[key] = res
			a.mu.Unlock()
		}
	}
	if res.status != 0 {
		return res
	}
	if !res.policy.allows(methodARN) {
		res.status = http.StatusForbidden
	}
	return res
}

func (g *Gateway) invokeAuthorizer(ctx context.Context, a *authorizer, c *call, resource string, params map[string]string, methodARN string, ids []string) authResult {
	var event map[string]any
	if a.kind == "token" {
		event = map[string]any{"type": "TOKEN", "authorizationToken": ids[0], "methodArn": methodARN}
	} else {
		headers, mv := map[string]string{}, map[string][]string{}
		for k, vs := range c.r.Header {
			headers[k], mv[k] = vs[len(vs)-1], vs
		}
		qs := map[string]string{}
		for k, vs := range c.r.URL.Query() {
			qs[k] = vs[len(vs)-1]
		}
		event = map[string]any{
			"type": "REQUEST", "methodArn": methodARN, "resource": resource, "path": c.r.URL.Path[len(g.stage)+1:],
			"httpMethod": c.r.Method, "headers": headers, "multiValueHeaders": mv, "queryStringParameters": qs,
			"pathParameters": params, "stageVariables": map[string]string{},
			"requestContext": map[string]any{"accountId": stack.Account, "apiId": g.apiID, "stage": g.stage, "requestId": c.requestID,
				"resourcePath": resource, "httpMethod": c.r.Method, "path": c.r.URL.Path,
				"identity": map[string]any{"sourceIp": sourceIP(c.r), "userAgent": c.r.UserAgent()}},
		}
	}
	payload, _ := json.Marshal(event)
	upstream := c.r.Header.Get("X-Amzn-Trace-Id")
	res, err := a.fn.Invoke(ctx, payload, traceheader.Invocation(upstream), upstream)
	if err != nil {
		return authResult{status: http.StatusInternalServerError}
	}
	if res.FunctionError != "" {
		var fe struct{ ErrorMessage string }
		_ = json.Unmarshal(res.Payload, &fe)
		if fe.ErrorMessage == "Unauthorized" {
			return authResult{status: http.StatusUnauthorized}
		}
		return authResult{status: http.StatusInternalServerError}
	}
	var out struct {
		PrincipalID    string         `json:"principalId"`
		PolicyDocument policyDoc      `json:"policyDocument"`
		Context        map[string]any `json:"context"`
	}
	if err := json.Unmarshal(res.Payload, &out); err != nil || out.PrincipalID == "" {
		return authResult{status: http.StatusInternalServerError}
	}
	return authResult{principal: out.PrincipalID, context: out.Context, policy: out.PolicyDocument}
}

// allows evaluates an IAM policy for execute-api:Invoke on arn: an explicit
// Deny wins, then any Allow.
func (p policyDoc) allows(arn string) bool {
	allowed := false
	for _, st := range p.Statement {
		if !matchAnyOf(st.Action, "execute-api:Invoke") || !matchAnyOf(st.Resource, arn) {
			continue
		}
		switch st.Effect {
		case "Deny":
			return false
		case "Allow":
			allowed = true
		}
	}
	return allowed
}

func matchAnyOf(v any, s string) bool {
	var pats []string
	switch t := v.(type) {
	case string:
		pats = []string{t}
	case []any:
		for _, e := range t {
			if es, ok := e.(string); ok {
				pats = append(pats, es)
			}
		}
	}
	for _, p := range pats {
		if ok, _ := path.Match(strings.ReplaceAll(p, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00")); ok || p == "*" || wildcard(p, s) {
			return true
		}
	}
	return false
}

// wildcard matches IAM's * (any run of characters, slashes included) and ?.
func wildcard(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcard(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcard(p[1:], s[1:])
	}
	return s != "" && p[0] == s[0] && wildcard(p[1:], s[1:])
}

// UsagePlan is an API Gateway usage plan of the template.
type UsagePlan struct {
	Name        string
	RateLimit   float64 // requests per second
	BurstLimit  int
	QuotaLimit  int    // requests per QuotaPeriod; 0: none
	QuotaPeriod string // DAY, WEEK or MONTH
}

// APIKey is an API key of the template and the plan it belongs to.
type APIKey struct {
	Name  string
	Value string
	Plan  *UsagePlan
}

// keyState is one key's token bucket and quota count.
type keyState struct {
	key           *APIKey
	mu            sync.Mutex
	tokens        float64
	last          time.Time
	used          int
	periodStarted time.Time
}

// take charges one request to the key. It returns the gateway response type
// when the request is over the plan's limits, with the seconds to wait.
func (k *keyState) take(now time.Time) (string, int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	p := k.key.Plan
	if p == nil {
		return "", 0
	}
	if p.QuotaLimit > 0 {
		period := map[string]time.Duration{"DAY": 24 * time.Hour, "WEEK": 7 * 24 * time.Hour, "MONTH": 30 * 24 * time.Hour}[p.QuotaPeriod]
		if period == 0 {
			period = 24 * time.Hour
		}
		if now.Sub(k.periodStarted) >= period {
			k.periodStarted, k.used = now, 0
		}
		if k.used >= p.QuotaLimit {
			return "QUOTA_EXCEEDED", int(math.Ceil(k.periodStarted.Add(period).Sub(now).Seconds()))
		}
	}
	if p.RateLimit > 0 {
		if k.last.IsZero() {
			k.tokens = float64(max(p.BurstLimit, 1))
		} else {
			k.tokens = math.Min(float64(max(p.BurstLimit, 1)), k.tokens+now.Sub(k.last).Seconds()*p.RateLimit)
		}
		k.last = now
		if k.tokens < 1 {
			return "THROTTLED", int(math.Ceil((1 - k.tokens) / p.RateLimit))
		}
		k.tokens--
	}
	k.used++
	return "", 0
}

// mock answers a mock integration from its default response: its status,
// its mapped headers and its application/json template, in which the
// $context variables of the request are substituted (not VTL).
func (g *Gateway) mock(c *call, ext map[string]any, resource string) bool {
	var in struct {
		Type      string
		Responses map[string]struct {
			StatusCode         string
			ResponseParameters map[string]string
			ResponseTemplates  map[string]string
		}
	}
	if remarshal(ext["x-amazon-apigateway-integration"], &in) != nil || in.Type != "mock" {
		return false
	}
	resp, ok := in.Responses["default"]
	status := 200
	if ok {
		if s, err := strconv.Atoi(resp.StatusCode); err == nil {
			status = s
		}
	}
	h := c.w.Header()
	body := strings.NewReplacer(
		"$context.requestId", c.requestID,
		"$context.httpMethod", c.r.Method,
		"$context.resourcePath", resource,
		"$context.stage", g.stage,
	).Replace(resp.ResponseTemplates["application/json"])
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	mapHeaders(h, resp.ResponseParameters, "method.response.header.", c.r)
	g.commonHeaders(c)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(status)
	_, _ = io.WriteString(c.w, body)
	return true
}

func sourceIP(r *http.Request) string {
	ip := r.RemoteAddr
	if i := strings.LastIndexByte(ip, ':'); i > 0 {
		ip = strings.Trim(ip[:i], "[]")
	}
	return ip
}

// TemplateKeys returns the template's API keys with their usage plans. A key
// whose Value the template leaves to CloudFormation gets a fixed local value.
func TemplateKeys(s *stack.Stack) ([]*APIKey, error) {
	plans := map[string]*UsagePlan{}
	for _, id := range s.IDs("AWS::ApiGateway::UsagePlan") {
		var p struct {
			UsagePlanName string
			Throttle      struct {
				RateLimit  float64
				BurstLimit int
			}
			Quota struct {
				Limit  int
				Period string
			}
		}
		if err := s.Decode(id, &p); err != nil {
			return nil, err
		}
		plans[s.Resources[id].Ref] = &UsagePlan{Name: cmp.Or(p.UsagePlanName, id), RateLimit: p.Throttle.RateLimit,
			BurstLimit: p.Throttle.BurstLimit, QuotaLimit: p.Quota.Limit, QuotaPeriod: p.Quota.Period}
	}
	keys := map[string]*APIKey{}
	var out []*APIKey
	for _, id := range s.IDs("AWS::ApiGateway::ApiKey") {
		var k struct{ Value string }
		if err := s.Decode(id, &k); err != nil {
			return nil, err
		}
		key := &APIKey{Name: id, Value: cmp.Or(k.Value, "local-"+strings.ToLower(id)+"-0123456789abcdef")}
		keys[s.Resources[id].Ref] = key
		out = append(out, key)
	}
	for _, id := range s.IDs("AWS::ApiGateway::UsagePlanKey") {
		var pk struct{ KeyId, UsagePlanId string }
		if err := s.Decode(id, &pk); err != nil {
			return nil, err
		}
		if k, ok := keys[pk.KeyId]; ok {
			k.Plan = plans[pk.UsagePlanId]
		}
	}
	return out, nil
}
