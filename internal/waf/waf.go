package waf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/usersapi/usersapi/internal/stack"
)

// ACL is a web ACL: rules evaluated in priority order, then the default
// action. It is safe for concurrent use.
type ACL struct {
	name         string
	rules        []*rule
	defaultBlock *response // nil: the default action is Allow
	inspect      int       // body bytes AWS WAF sees: the association's size inspection limit
	bodyRules    bool      // some rule inspects the body
	now          func() time.Time
}

// rule is one rule of the ACL with the statement the local cloud emulates.
type rule struct {
	name   string
	action string    // Block, Allow or Count
	block  *response // Block's response
	size   *sizeConstraint
	rate   *rateLimit
}

// response is how a Block answers: its status, headers and body.
type response struct {
	status      int
	headers     [][2]string
	body        string
	contentType string
}

// webACL is the part of AWS::WAFv2::WebACL's Properties emulated here.
type webACL struct {
	Name              string
	DefaultAction     map[string]json.RawMessage
	AssociationConfig struct {
		RequestBody map[string]struct{ DefaultSizeInspectionLimit string }
	}
	CustomResponseBodies map[string]struct{ ContentType, Content string }
	Rules                []webRule
}

type webRule struct {
	Name      string
	Priority  number
	Action    map[string]action
	Statement map[string]json.RawMessage
}

type action struct {
	CustomResponse *struct {
		ResponseCode          number
		CustomResponseBodyKey string
		ResponseHeaders       []struct{ Name, Value string }
	}
}

// number is a template number, written as a number or, by a parameter, a string.
type number int

func (n *number) UnmarshalJSON(b []byte) error {
	i, err := strconv.Atoi(strings.Trim(string(b), `"`))
	*n = number(i)
	return err
}

// FromStack returns the web ACL that the template associates with the REST
// API's stage, or nil when it associates none. Rules whose statements the
// local cloud does not emulate are logged and left out.
func FromStack(s *stack.Stack, log *slog.Logger) (*ACL, error) {
	for _, id := range s.IDs("AWS::WAFv2::WebACLAssociation") {
		var assoc struct{ ResourceArn, WebACLArn string }
		if err := s.Decode(id, &assoc); err != nil {
			return nil, err
		}
		if !strings.Contains(assoc.ResourceArn, ":apigateway:") || !strings.Contains(assoc.ResourceArn, "/restapis/") {
			continue
		}
		aclID, res := s.ByAttr("Arn", assoc.WebACLArn)
		if res == nil || res.Type != "AWS::WAFv2::WebACL" {
			return nil, fmt.Errorf("%s: WebACLArn %s names no web ACL of the template", id, assoc.WebACLArn)
		}
		var w webACL
		if err := s.Decode(aclID, &w); err != nil {
			return nil, err
		}
		acl, err := build(w, log)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", aclID, err)
		}
		return acl, nil
	}
	return nil, nil
}

// inspectionLimits are AWS WAF's body inspection limits for API Gateway.
var inspectionLimits = map[string]int{"": 16 * 1024, "KB_16": 16 * 1024, "KB_32": 32 * 1024, "KB_48": 48 * 1024, "KB_64": 64 * 1024}

func build(w webACL, log *slog.Logger) (*ACL, error) {
	limit, ok := inspectionLimits[w.AssociationConfig.RequestBody["API_GATEWAY"].DefaultSizeInspectionLimit]
	if !ok {
		return nil, fmt.Errorf("DefaultSizeInspectionLimit %q is not one of KB_16, KB_32, KB_48, KB_64", w.AssociationConfig.RequestBody["API_GATEWAY"].DefaultSizeInspectionLimit)
	}
	acl := &ACL{name: w.Name, inspect: limit, now: time.Now}
	if _, ok := w.DefaultAction["Block"]; ok {
		var a action
		_ = json.Unmarshal(w.DefaultAction["Block"], &a)
		r, err := a.response(w)
		if err != nil {
			return nil, fmt.Errorf("DefaultAction: %w", err)
		}
		acl.defaultBlock = r
	}
	rules := slices.Clone(w.Rules)
	slices.SortStableFunc(rules, func(a, b webRule) int { return int(a.Priority - b.Priority) })
	for _, wr := range rules {
		r := &rule{name: wr.Name}
		for name, a := range wr.Action {
			r.action = name
			if name == "Block" {
				var err error
				if r.block, err = a.response(w); err != nil {
					return nil, fmt.Errorf("rule %s: %w", wr.Name, err)
				}
			}
		}
		if r.action != "Block" && r.action != "Allow" && r.action != "Count" {
			log.Warn("AWS WAF rule not emulated: its action is not Block, Allow or Count", "rule", wr.Name, "action", r.action)
			continue
		}
		var err error
		switch {
		case wr.Statement["SizeConstraintStatement"] != nil:
			r.size, err = newSizeConstraint(wr.Statement["SizeConstraintStatement"])
			acl.bodyRules = acl.bodyRules || r.size != nil && r.size.field == "Body"
		case wr.Statement["RateBasedStatement"] != nil:
			r.rate, err = newRateLimit(wr.Statement["RateBasedStatement"])
		default:
			log.Warn("AWS WAF rule not emulated: only size constraints and rate-based rules are", "rule", wr.Name)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", wr.Name, err)
		}
		acl.rules = append(acl.rules, r)
	}
	return acl, nil
}

// response is the answer of a Block action: its custom response, or AWS
// WAF's own 403.
func (a action) response(w webACL) (*response, error) {
	cr := a.CustomResponse
	if cr == nil {
		return &response{status: http.StatusForbidden, contentType: "application/json", body: `{"message":"Forbidden"}`}, nil
	}
	r := &response{status: int(cr.ResponseCode)}
	if r.status < 200 || r.status > 599 {
		return nil, fmt.Errorf("ResponseCode %d is not a status AWS WAF can answer", r.status)
	}
	for _, h := range cr.ResponseHeaders {
		r.headers = append(r.headers, [2]string{h.Name, h.Value})
	}
	if cr.CustomResponseBodyKey != "" {
		b, ok := w.CustomResponseBodies[cr.CustomResponseBodyKey]
		if !ok {
			return nil, fmt.Errorf("CustomResponseBodyKey %s is not in CustomResponseBodies", cr.CustomResponseBodyKey)
		}
		ct, ok := map[string]string{"APPLICATION_JSON": "application/json", "TEXT_PLAIN": "text/plain", "TEXT_HTML": "text/html"}[b.ContentType]
		if !ok {
			return nil, fmt.Errorf("custom response body %s: ContentType %q is not APPLICATION_JSON, TEXT_PLAIN or TEXT_HTML", cr.CustomResponseBodyKey, b.ContentType)
		}
		r.body, r.contentType = b.Content, ct
	}
	return r, nil
}

// Wrap returns next behind the ACL: a request a rule blocks gets the rule's
// response and never reaches next. A nil ACL passes everything.
func (a *ACL) Wrap(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := &request{r: r}
		if a.bodyRules {
			// AWS WAF sees the first inspect bytes; the API gets the whole body.
			head, err := io.ReadAll(io.LimitReader(r.Body, int64(a.inspect)+1))
			if err != nil {
				http.Error(w, "could not read the request body", http.StatusBadRequest)
				return
			}
			in.body, in.oversize = head, len(head) > a.inspect
			if in.oversize {
				in.body = head[:a.inspect]
			}
			r.Body = readCloser{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
		}
		if blocked := a.evaluate(in); blocked != nil {
			blocked.write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type readCloser struct {
	io.Reader
	io.Closer
}

// request is what the rules inspect.
type request struct {
	r        *http.Request
	body     []byte // the part AWS WAF sees
	oversize bool   // the body is longer than that
}

// evaluate runs the rules in priority order and returns the response of the
// first that blocks, or nil when the request goes on.
func (a *ACL) evaluate(in *request) *response {
	now := a.now()
	for _, r := range a.rules {
		var match bool
		switch {
		case r.size != nil:
			match = r.size.matches(in)
		case r.rate != nil:
			match = r.rate.add(clientIP(in.r), now)
		}
		if !match {
			continue
		}
		switch r.action {
		case "Block":
			return r.block
		case "Allow":
			return nil
		}
	}
	return a.defaultBlock
}

func (resp *response) write(w http.ResponseWriter) {
	h := w.Header()
	for _, kv := range resp.headers {
		h.Set(kv[0], kv[1])
	}
	if resp.body != "" {
		h.Set("Content-Type", resp.contentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	_, _ = io.WriteString(w, resp.body)
}

// clientIP is the address AWS WAF aggregates by: the connection's peer.
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// sizeConstraint is a SizeConstraintStatement.
type sizeConstraint struct {
	field    string // Body, UriPath, QueryString or SingleHeader
	header   string // SingleHeader's name
	oversize string // Body's OversizeHandling: CONTINUE, MATCH or NO_MATCH
	compare  func(n int) bool
}

func newSizeConstraint(raw json.RawMessage) (*sizeConstraint, error) {
	var st struct {
		FieldToMatch struct {
			Body         *struct{ OversizeHandling string }
			UriPath      *struct{}
			QueryString  *struct{}
			SingleHeader *struct{ Name string }
		}
		ComparisonOperator  string
		Size                number
		TextTransformations []struct{ Type string }
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, err
	}
	for _, t := range st.TextTransformations {
		if t.Type != "NONE" {
			return nil, fmt.Errorf("text transformation %s is not emulated (only NONE)", t.Type)
		}
	}
	size := int(st.Size)
	ops := map[string]func(int) bool{
		"EQ": func(n int) bool { return n == size }, "NE": func(n int) bool { return n != size },
		"LE": func(n int) bool { return n <= size }, "LT": func(n int) bool { return n < size },
		"GE": func(n int) bool { return n >= size }, "GT": func(n int) bool { return n > size },
	}
	c := &sizeConstraint{compare: ops[st.ComparisonOperator]}
	if c.compare == nil {
		return nil, fmt.Errorf("ComparisonOperator %q is not one of EQ, NE, LE, LT, GE, GT", st.ComparisonOperator)
	}
	f := st.FieldToMatch
	switch {
	case f.Body != nil:
		c.field, c.oversize = "Body", f.Body.OversizeHandling
		if c.oversize == "" {
			c.oversize = "CONTINUE"
		}
	case f.UriPath != nil:
		c.field = "UriPath"
	case f.QueryString != nil:
		c.field = "QueryString"
	case f.SingleHeader != nil:
		c.field, c.header = "SingleHeader", f.SingleHeader.Name
	default:
		return nil, fmt.Errorf("FieldToMatch is not emulated (only Body, UriPath, QueryString, SingleHeader)")
	}
	return c, nil
}

func (c *sizeConstraint) matches(in *request) bool {
	switch c.field {
	case "Body":
		if in.oversize {
			switch c.oversize {
			case "MATCH":
				return true
			case "NO_MATCH":
				return false
			}
		}
		return c.compare(len(in.body))
	case "UriPath":
		return c.compare(len(in.r.URL.EscapedPath()))
	case "QueryString":
		return c.compare(len(in.r.URL.RawQuery))
	}
	return c.compare(len(in.r.Header.Get(c.header)))
}

// rateLimit is a RateBasedStatement aggregated by IP: more than limit
// requests from one address in the last window match, as long as that lasts.
type rateLimit struct {
	limit  int
	window time.Duration
	mu     sync.Mutex
	seen   map[string]*counts
	swept  time.Time
}

// counts are one address's requests in buckets of a tenth of the window.
type counts struct {
	start [buckets]time.Time
	n     [buckets]int
}

const buckets = 10

func newRateLimit(raw json.RawMessage) (*rateLimit, error) {
	var st struct {
		AggregateKeyType    string
		Limit               number
		EvaluationWindowSec number
		ScopeDownStatement  json.RawMessage
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, err
	}
	if st.AggregateKeyType != "IP" {
		return nil, fmt.Errorf("AggregateKeyType %s is not emulated (only IP)", st.AggregateKeyType)
	}
	if st.ScopeDownStatement != nil {
		return nil, fmt.Errorf("a ScopeDownStatement is not emulated")
	}
	if st.Limit < 1 {
		return nil, fmt.Errorf("the rate limit %d is below 1", st.Limit)
	}
	window := time.Duration(max(int(st.EvaluationWindowSec), 0)) * time.Second
	if window == 0 {
		window = 5 * time.Minute // AWS WAF's default
	}
	return &rateLimit{limit: int(st.Limit), window: window, seen: map[string]*counts{}}, nil
}

// add counts a request from ip at now and reports whether the address is
// over the limit.
func (l *rateLimit) add(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > l.window {
		for k, c := range l.seen {
			if now.Sub(slices.MaxFunc(c.start[:], time.Time.Compare)) >= l.window {
				delete(l.seen, k)
			}
		}
		l.swept = now
	}
	c := l.seen[ip]
	if c == nil {
		c = &counts{}
		l.seen[ip] = c
	}
	width := l.window / buckets
	idx := now.UnixNano() / int64(width)
	slot := int(idx % buckets)
	if start := time.Unix(0, idx*int64(width)); !c.start[slot].Equal(start) {
		c.start[slot], c.n[slot] = start, 0
	}
	c.n[slot]++
	total := 0
	for i := range buckets {
		if now.Sub(c.start[i]) < l.window {
			total += c.n[i]
		}
	}
	return total > l.limit
}
