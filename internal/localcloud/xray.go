package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/usersapi/usersapi/internal/runtimeapi"
)

// Limits of what XRay keeps: the most recent traces, and the segments of one.
const (
	xrayMaxTraces   = 500
	xrayMaxSegments = 1000
)

// XRay is the local X-Ray: a daemon that takes the segment documents the
// functions' X-Ray SDK sends over UDP, the segments that the local services
// record as API Gateway and Lambda would send them, and a service map and a
// searchable list of traces computed from both.
//
// Its methods do nothing (Invoke and API just call through) on a nil *XRay,
// so that a gateway or a poller built without one works as before.
type XRay struct {
	conn net.PacketConn
	done chan struct{}

	mu      sync.Mutex
	traces  map[string]*xrayTrace
	order   []string      // trace ids, oldest first
	dropped int           // datagrams that were not segment documents
	changed chan struct{} // closed, and replaced, whenever a segment is stored
}

type xrayTrace struct {
	id       string
	segments map[string]*Segment // segments and subsegments, flattened, by id
}

// Segment is an X-Ray segment document, or a subsegment: the fields of
// https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html
// that the local X-Ray uses. Times are epoch seconds, as X-Ray has them.
type Segment struct {
	ID          string          `json:"id"`
	TraceID     string          `json:"trace_id,omitempty"`
	ParentID    string          `json:"parent_id,omitempty"`
	Name        string          `json:"name"`
	Type        string          `json:"type,omitempty"` // "subsegment" for a subsegment sent on its own
	Origin      string          `json:"origin,omitempty"`
	Namespace   string          `json:"namespace,omitempty"` // "aws" or "remote" for a call to another service
	StartTime   float64         `json:"start_time"`
	EndTime     float64         `json:"end_time,omitempty"`
	InProgress  bool            `json:"in_progress,omitempty"`
	Error       bool            `json:"error,omitempty"`    // a client error (4xx)
	Fault       bool            `json:"fault,omitempty"`    // a server error (5xx)
	Throttle    bool            `json:"throttle,omitempty"` // 429
	Cause       json.RawMessage `json:"cause,omitempty"`
	ResourceARN string          `json:"resource_arn,omitempty"`
	HTTP        *SegmentHTTP    `json:"http,omitempty"`
	AWS         map[string]any  `json:"aws,omitempty"`
	Annotations map[string]any  `json:"annotations,omitempty"`
	Subsegments []Segment       `json:"subsegments,omitempty"`
}

// SegmentHTTP is the http object of a segment.
type SegmentHTTP struct {
	Request  *HTTPRequest  `json:"request,omitempty"`
	Response *HTTPResponse `json:"response,omitempty"`
}

// HTTPRequest is the request of a segment's http object.
type HTTPRequest struct {
	Method    string `json:"method,omitempty"`
	URL       string `json:"url,omitempty"`
	ClientIP  string `json:"client_ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// HTTPResponse is the response of a segment's http object.
type HTTPResponse struct {
	Status        int `json:"status,omitempty"`
	ContentLength int `json:"content_length,omitempty"`
}

// Origins of the segments that the local services record.
const (
	OriginAPIGateway = "AWS::ApiGateway::Stage"
	OriginLambda     = "AWS::Lambda::Function"
)

// NewXRay starts the daemon on a free UDP port of 127.0.0.1.
func NewXRay() (*XRay, error) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("x-ray daemon: %w", err)
	}
	x := &XRay{conn: conn, done: make(chan struct{}), traces: map[string]*xrayTrace{}, changed: make(chan struct{})}
	go x.serve()
	return x, nil
}

// Addr returns the daemon's address, for AWS_XRAY_DAEMON_ADDRESS.
func (x *XRay) Addr() string { return x.conn.LocalAddr().String() }

// Close stops the daemon. What it kept stays readable.
func (x *XRay) Close() error {
	if x == nil {
		return nil
	}
	err := x.conn.Close()
	<-x.done
	return err
}

func (x *XRay) serve() {
	defer close(x.done)
	buf := make([]byte, 64<<10) // a UDP datagram's most
	for {
		n, _, err := x.conn.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		if err := x.receive(buf[:n]); err != nil {
			x.mu.Lock()
			x.dropped++
			x.mu.Unlock()
		}
	}
}

// receive stores the segment document of one datagram, which the SDK writes
// as a JSON header line, {"format": "json", "version": 1}, then the document.
func (x *XRay) receive(datagram []byte) error {
	line, doc, ok := bytes.Cut(datagram, []byte("\n"))
	if !ok {
		return errors.New("no header line")
	}
	var h struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(line, &h); err != nil || h.Format != "json" || h.Version != 1 {
		return fmt.Errorf("header %q is not the X-Ray daemon protocol", line)
	}
	var s Segment
	if err := json.Unmarshal(doc, &s); err != nil {
		return fmt.Errorf("segment document: %w", err)
	}
	if s.ID == "" || s.TraceID == "" {
		return errors.New("segment document without id or trace_id")
	}
	x.Segment(s)
	return nil
}

// Segment records a segment document as a service sends it to X-Ray: a
// segment, or a subsegment sent on its own (type "subsegment", with trace_id
// and parent_id), either with its subsegments nested. A document with the id
// of one already kept replaces it, as a completed segment replaces the
// in-progress one.
func (x *XRay) Segment(s Segment) {
	if x == nil || s.ID == "" || s.TraceID == "" {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	t := x.traces[s.TraceID]
	if t == nil {
		t = &xrayTrace{id: s.TraceID, segments: map[string]*Segment{}}
		x.traces[s.TraceID] = t
		x.order = append(x.order, s.TraceID)
		if len(x.order) > xrayMaxTraces {
			delete(x.traces, x.order[0])
			x.order = x.order[1:]
		}
	}
	t.add(s, "")
	close(x.changed)
	x.changed = make(chan struct{})
}

// add flattens s and its nested subsegments into t; parent is the id of the
// subsegment or segment that s is nested in, or "".
func (t *xrayTrace) add(s Segment, parent string) {
	subs := s.Subsegments
	s.Subsegments = nil
	s.TraceID = t.id
	if parent != "" {
		s.ParentID, s.Type = parent, "subsegment"
	}
	if _, known := t.segments[s.ID]; !known && len(t.segments) >= xrayMaxSegments {
		return
	}
	t.segments[s.ID] = &s
	for _, sub := range subs {
		t.add(sub, s.ID)
	}
}

// changes returns a channel that is closed when the next segment is stored.
func (x *XRay) changes() <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.changed
}

// API wraps the gateway of a REST API stage in the segment that API Gateway
// records for each request (named apiName/stage, as X-Ray names it): it
// continues the caller's X-Amzn-Trace-Id or starts a trace, hands the gateway
// a header whose Parent is that segment (so that the function's segment, see
// Invoke, hangs below it), and answers with the trace id. Every request is
// sampled.
func (x *XRay) API(apiName, stage string, gateway http.Handler) http.Handler {
	if x == nil {
		return gateway
	}
	name := apiName + "/" + stage
	arn := fmt.Sprintf("arn:aws:apigateway:%s::/restapis/local/stages/%s", regionName, stage)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := r.Header.Get("X-Amzn-Trace-Id")
		root, parent := traceRoot(in), traceParent(in)
		if !traceIDPattern.MatchString(root) {
			root, parent = newTraceID(), "" // none, or not X-Ray's: API Gateway starts a trace
		}
		if !segmentIDPattern.MatchString(parent) {
			parent = ""
		}
		id := newSegmentID()
		r = r.Clone(r.Context())
		r.Header.Set("X-Amzn-Trace-Id", "Root="+root+";Parent="+id+";Sampled=1")
		w.Header().Set("X-Amzn-Trace-Id", "Root="+root+";Sampled=1")
		rec := &responseRecorder{ResponseWriter: w}
		start := time.Now()
		gateway.ServeHTTP(rec, r)
		end := time.Now()
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s := Segment{ID: id, TraceID: root, ParentID: parent, Name: name, Origin: OriginAPIGateway,
			StartTime: epoch(start), EndTime: epoch(end), ResourceARN: arn,
			AWS: map[string]any{"api_id": "local", "stage": stage},
			HTTP: &SegmentHTTP{
				Request: &HTTPRequest{Method: r.Method, URL: "http://" + r.Host + r.URL.Path,
					ClientIP: hostOf(r.RemoteAddr), UserAgent: r.UserAgent()},
				Response: &HTTPResponse{Status: rec.status, ContentLength: rec.written},
			},
		}
		if reqID := w.Header().Get("X-Amzn-RequestId"); reqID != "" {
			s.AWS["request_id"] = reqID
		}
		s.Error, s.Fault, s.Throttle = rec.status >= 400 && rec.status < 500, rec.status >= 500, rec.status == http.StatusTooManyRequests
		x.Segment(s)
	})
}

// responseRecorder notes the status and length of a response on its way.
type responseRecorder struct {
	http.ResponseWriter
	status, written int
}

func (r *responseRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *responseRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.written += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *responseRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Invoker runs invocations of one function.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte, trace string) (runtimeapi.Result, error)
	ARN() string
}

var _ Invoker = (*runtimeapi.Pool)(nil)

// Invoke runs one invocation of fn as Lambda does with active tracing, and
// records the function's segment as Lambda sends it: trace is the header the
// invocation gets (invocationTrace(upstream)); the segment's id is its
// Parent, which the SDK's subsegments name as their parent; its parent is
// upstream's Parent. The event source (an SQS queue, a table's stream) is
// read from the payload's records, as the map draws it.
func (x *XRay) Invoke(ctx context.Context, fn Invoker, payload []byte, trace, upstream string) (runtimeapi.Result, error) {
	if x == nil {
		return fn.Invoke(ctx, payload, trace)
	}
	start := time.Now()
	res, err := fn.Invoke(ctx, payload, trace)
	end := time.Now()
	root, id := traceRoot(trace), traceParent(trace)
	if root == "" || id == "" {
		return res, err
	}
	arn := fn.ARN()
	s := Segment{ID: id, TraceID: root, Name: arn[strings.LastIndexByte(arn, ':')+1:], Origin: OriginLambda,
		ResourceARN: arn, StartTime: epoch(start), EndTime: epoch(end),
		AWS: map[string]any{"function_arn": arn, "account_id": accountID}}
	if traceRoot(upstream) == root {
		s.ParentID = traceParent(upstream)
	}
	if src, srcARN := eventSource(payload); src != "" {
		s.AWS["event_source"], s.AWS["event_source_arn"] = src, srcARN
	}
	if res.RequestID != "" {
		s.AWS["request_id"] = res.RequestID
	}
	if res.InitDuration > 0 {
		s.Subsegments = append(s.Subsegments, Segment{ID: newSegmentID(), Name: "Initialization",
			StartTime: epoch(start), EndTime: epoch(start.Add(res.InitDuration))})
	}
	if res.Duration > 0 {
		s.Subsegments = append(s.Subsegments, Segment{ID: newSegmentID(), Name: "Invocation",
			StartTime: epoch(end.Add(-res.Duration)), EndTime: epoch(end), Fault: res.FunctionError != ""})
	}
	switch {
	case err != nil:
		s.Fault, s.Cause = true, cause("Lambda.InvokeError", err.Error())
	case res.FunctionError != "":
		var e struct{ ErrorType, ErrorMessage string }
		_ = json.Unmarshal(res.Payload, &e)
		s.Fault, s.Cause = true, cause(first(e.ErrorType, res.FunctionError), e.ErrorMessage)
	}
	x.Segment(s)
	return res, err
}

func cause(typ, msg string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"exceptions": []map[string]string{{"id": newSegmentID(), "type": typ, "message": msg}}})
	return b
}

// eventSource returns the eventSource ("aws:sqs", "aws:dynamodb") and ARN of
// an event's first record, or "" for an event without records.
func eventSource(payload []byte) (source, arn string) {
	var ev struct {
		Records []struct {
			EventSource    string `json:"eventSource"`
			EventSourceARN string `json:"eventSourceARN"`
		} `json:"Records"`
	}
	if json.Unmarshal(payload, &ev) != nil || len(ev.Records) == 0 {
		return "", ""
	}
	return ev.Records[0].EventSource, ev.Records[0].EventSourceARN
}

// streamUpstream returns the trace header that the first of recs with one
// carries in its new image's trace attribute (the worker writes the
// request's trace there), or "". Lambda does not carry a trace across a
// stream; locally the stream function's segment joins the trace of the
// request that made the change, so that one trace shows a request end to end.
func streamUpstream(recs []lambdaStreamRecord) string {
	for _, r := range recs {
		img, _ := r.Dynamodb["NewImage"].(map[string]any)
		attr, _ := img["trace"].(map[string]any)
		if s, _ := attr["S"].(string); s != "" {
			return s
		}
	}
	return ""
}

var (
	traceIDPattern   = regexp.MustCompile(`^1-[0-9a-f]{8}-[0-9a-f]{24}$`)
	segmentIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// traceParent returns the Parent of a trace header, or "".
func traceParent(h string) string {
	for _, part := range strings.Split(h, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Parent="); ok {
			return v
		}
	}
	return ""
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// ServiceMap is the service graph of the traces kept: who called whom, how
// often, how fast, and how many of the calls failed.
type ServiceMap struct {
	Nodes   []MapNode `json:"nodes"`
	Edges   []MapEdge `json:"edges"`
	Traces  int       `json:"traces"`
	Dropped int       `json:"dropped"` // datagrams that were not segment documents
}

// MapNode is a service: the client, an API stage, a function, or an AWS
// service that a function called.
type MapNode struct {
	Name string `json:"name"`
	Type string `json:"type"` // "client", an origin (AWS::Lambda::Function), or AWS::<service>
	// Rank is the node's column when the map is drawn from left to right:
	// the length of the longest path to it from a node that nothing calls.
	Rank int `json:"rank"`
	Stats
}

// MapEdge is the calls of one service to another.
type MapEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Stats
}

// Stats sums up calls: for an edge, the calls along it, timed by the callee's
// segment or the caller's subsegment; for a node, the calls it served (the
// client: the calls it made).
type Stats struct {
	Count     int     `json:"count"`
	Errors    int     `json:"errors"`    // 4xx
	Faults    int     `json:"faults"`    // 5xx, function errors
	Throttles int     `json:"throttles"` // 429
	AvgMs     float64 `json:"avg_ms"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
}

// calls gathers the calls of an edge or a node before Stats sums them up.
type calls struct {
	durations                 []float64 // milliseconds
	errors, faults, throttles int
}

func (c *calls) add(s *Segment) {
	c.durations = append(c.durations, math.Max(0, (s.EndTime-s.StartTime)*1000))
	if s.Error {
		c.errors++
	}
	if s.Fault {
		c.faults++
	}
	if s.Throttle {
		c.throttles++
	}
}

func (c *calls) merge(o *calls) {
	c.durations = append(c.durations, o.durations...)
	c.errors, c.faults, c.throttles = c.errors+o.errors, c.faults+o.faults, c.throttles+o.throttles
}

func (c *calls) stats() Stats {
	s := Stats{Count: len(c.durations), Errors: c.errors, Faults: c.faults, Throttles: c.throttles}
	if s.Count == 0 {
		return s
	}
	d := append([]float64(nil), c.durations...)
	sort.Float64s(d)
	sum := 0.0
	for _, v := range d {
		sum += v
	}
	rank := func(p float64) float64 { return d[max(0, int(math.Ceil(p*float64(len(d))))-1)] }
	round := func(v float64) float64 { return math.Round(v*100) / 100 }
	s.AvgMs, s.P50Ms, s.P99Ms = round(sum/float64(len(d))), round(rank(0.50)), round(rank(0.99))
	return s
}

// Map computes the service map of the traces kept. A segment is called by
// the service that owns its parent (the client when it has none): a
// function's segment, though, by its event source (SQS, DynamoDB) when it has
// one, as Lambda's poller is what calls it. A subsegment in the "aws" or
// "remote" namespace is a call from the service that owns it to the service
// it names (DynamoDB, SQS, EventBridge).
func (x *XRay) Map() ServiceMap {
	m := ServiceMap{Nodes: []MapNode{}, Edges: []MapEdge{}}
	if x == nil {
		return m
	}
	type edgeKey struct{ from, to string }
	edges := map[edgeKey]*calls{}
	types := map[string]string{"client": "client"}
	call := func(from, to string, s *Segment) {
		k := edgeKey{from, to}
		if edges[k] == nil {
			edges[k] = &calls{}
		}
		edges[k].add(s)
	}

	x.mu.Lock()
	m.Traces, m.Dropped = len(x.traces), x.dropped
	for _, t := range x.traces {
		for _, s := range t.segments {
			if s.InProgress || s.EndTime == 0 {
				continue
			}
			switch {
			case s.Type != "subsegment":
				types[s.Name] = first(s.Origin, types[s.Name], "service")
				from := "client"
				if src, _ := s.AWS["event_source"].(string); src != "" {
					from = serviceOfSource(src)
					types[from] = first(types[from], serviceType(from))
				} else if owner := t.owner(s.ParentID); owner != nil {
					from = owner.Name
				}
				call(from, s.Name, s)
			case s.Namespace == "aws" || s.Namespace == "remote":
				owner := t.owner(s.ParentID)
				if owner == nil {
					continue // its function's segment has not come (yet)
				}
				if s.Namespace == "aws" {
					types[s.Name] = first(types[s.Name], serviceType(s.Name))
				} else {
					types[s.Name] = first(types[s.Name], "remote")
				}
				call(owner.Name, s.Name, s)
			}
		}
	}
	x.mu.Unlock()

	served := map[string]*calls{}
	made := &calls{}
	for k, c := range edges {
		if served[k.to] == nil {
			served[k.to] = &calls{}
		}
		served[k.to].merge(c)
		if k.from == "client" {
			made.merge(c)
		}
		m.Edges = append(m.Edges, MapEdge{From: k.from, To: k.to, Stats: c.stats()})
	}
	served["client"] = made

	// Ranks: longest paths, relaxed at most once per node so that a cycle ends.
	rank := map[string]int{}
	for range types {
		for _, e := range m.Edges {
			if r := rank[e.From] + 1; r > rank[e.To] && r <= len(types) {
				rank[e.To] = r
			}
		}
	}
	for name, typ := range types {
		if name == "client" && len(made.durations) == 0 {
			continue
		}
		c := served[name]
		if c == nil {
			c = &calls{}
		}
		m.Nodes = append(m.Nodes, MapNode{Name: name, Type: typ, Rank: rank[name], Stats: c.stats()})
	}
	sort.Slice(m.Nodes, func(i, j int) bool {
		a, b := m.Nodes[i], m.Nodes[j]
		return a.Rank < b.Rank || a.Rank == b.Rank && a.Name < b.Name
	})
	sort.Slice(m.Edges, func(i, j int) bool {
		a, b := m.Edges[i], m.Edges[j]
		if rank[a.From] != rank[b.From] {
			return rank[a.From] < rank[b.From]
		}
		return a.From < b.From || a.From == b.From && a.To < b.To
	})
	return m
}

// owner returns the segment (not subsegment) that the segment or subsegment
// id belongs to, or nil when it is not in the trace.
func (t *xrayTrace) owner(id string) *Segment {
	for range xrayMaxSegments {
		s := t.segments[id]
		if s == nil || s.Type != "subsegment" {
			return s
		}
		id = s.ParentID
	}
	return nil
}

// serviceOfSource names the service of a Lambda event source as the SDK
// names it in its subsegments: aws:sqs is SQS, aws:dynamodb is DynamoDB.
func serviceOfSource(src string) string {
	switch s := strings.TrimPrefix(src, "aws:"); s {
	case "sqs", "sns":
		return strings.ToUpper(s)
	case "dynamodb":
		return "DynamoDB"
	case "kinesis":
		return "Kinesis"
	default:
		return s
	}
}

// serviceType is the X-Ray type of the node of an AWS service.
func serviceType(service string) string {
	switch service {
	case "DynamoDB":
		return "AWS::DynamoDB::Table"
	case "SQS":
		return "AWS::SQS::Queue"
	case "EventBridge":
		return "AWS::Events::EventBus"
	default:
		return "AWS::" + service
	}
}

// TraceSummary is a trace as the list of traces shows it.
type TraceSummary struct {
	ID         string    `json:"id"`
	Start      time.Time `json:"start"`
	DurationMs float64   `json:"duration_ms"`
	Entry      string    `json:"entry"` // the name of the first segment
	// Method, URL and Status are the API request's, when an API stage began the trace.
	Method   string   `json:"method,omitempty"`
	URL      string   `json:"url,omitempty"`
	Status   int      `json:"status,omitempty"`
	Error    bool     `json:"error"` // some segment or subsegment failed
	Fault    bool     `json:"fault"` // some segment or subsegment faulted
	Services []string `json:"services"`
	// Annotations are those of all the trace's (sub)segments: user_id,
	// request_id, operation, outcome.
	Annotations  map[string][]string `json:"annotations"`
	SegmentCount int                 `json:"segment_count"` // segments and subsegments
}

// Trace is one trace with all its segments and subsegments, flattened, in
// the order they started; ParentID makes the tree.
type Trace struct {
	TraceSummary
	Segments []Segment `json:"segments"`
}

// Traces returns the traces kept, newest first, that have every annotation
// of match (key: value; an empty value matches any).
func (x *XRay) Traces(match map[string]string) []TraceSummary {
	out := []TraceSummary{}
	if x == nil {
		return out
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := len(x.order) - 1; i >= 0; i-- {
		sum := x.traces[x.order[i]].summary()
		if sum.has(match) {
			out = append(out, sum)
		}
	}
	return out
}

// Trace returns the trace with id, if it is kept.
func (x *XRay) Trace(id string) (Trace, bool) {
	if x == nil {
		return Trace{}, false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	t := x.traces[id]
	if t == nil {
		return Trace{}, false
	}
	out := Trace{TraceSummary: t.summary()}
	for _, s := range t.sorted() {
		out.Segments = append(out.Segments, *s)
	}
	return out, true
}

func (t *xrayTrace) sorted() []*Segment {
	all := make([]*Segment, 0, len(t.segments))
	for _, s := range t.segments {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].StartTime != all[j].StartTime {
			return all[i].StartTime < all[j].StartTime
		}
		return all[i].ID < all[j].ID
	})
	return all
}

func (t *xrayTrace) summary() TraceSummary {
	sum := TraceSummary{ID: t.id, Annotations: map[string][]string{}, Services: []string{}, SegmentCount: len(t.segments)}
	var start, end float64
	seen := map[string]bool{}
	for _, s := range t.sorted() {
		if start == 0 || s.StartTime < start {
			start = s.StartTime
		}
		end = max(end, s.EndTime, s.StartTime)
		sum.Error = sum.Error || s.Error || s.Throttle
		sum.Fault = sum.Fault || s.Fault
		service := s.Type != "subsegment" || s.Namespace == "aws" || s.Namespace == "remote"
		if service && !seen[s.Name] {
			seen[s.Name] = true
			sum.Services = append(sum.Services, s.Name)
		}
		if s.Type != "subsegment" && sum.Entry == "" && t.segments[s.ParentID] == nil {
			sum.Entry = s.Name
			if s.Origin == OriginAPIGateway && s.HTTP != nil && s.HTTP.Request != nil {
				sum.Method, sum.URL = s.HTTP.Request.Method, s.HTTP.Request.URL
				if s.HTTP.Response != nil {
					sum.Status = s.HTTP.Response.Status
				}
			}
		}
		for k, v := range s.Annotations {
			val := fmt.Sprint(v)
			if !slices.Contains(sum.Annotations[k], val) {
				sum.Annotations[k] = append(sum.Annotations[k], val)
			}
		}
	}
	sum.Start = time.Unix(0, int64(start*1e9)).UTC()
	sum.DurationMs = math.Round((end-start)*1000*100) / 100
	return sum
}

func (s TraceSummary) has(match map[string]string) bool {
	for k, v := range match {
		vals, ok := s.Annotations[k]
		if !ok || v != "" && !slices.Contains(vals, v) {
			return false
		}
	}
	return true
}
