package xray

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/usersapi/usersapi/internal/runtimeapi"
	"github.com/usersapi/usersapi/internal/stack"
	"github.com/usersapi/usersapi/internal/traceheader"
)

// Limits of what a Daemon keeps: the most recent traces, and the segments of one.
const (
	maxTraces   = 500
	maxSegments = 1000
)

// Daemon is the local X-Ray: a daemon that takes the segment documents the
// functions' X-Ray SDK sends over UDP, the segments that the local services
// record as API Gateway and Lambda would send them, and a service map and a
// searchable list of traces computed from both.
//
// Its methods do nothing (Invoke and API just call through) on a nil *Daemon,
// so that a gateway or a poller built without one works as before.
type Daemon struct {
	conn net.PacketConn
	done chan struct{}

	mu      sync.Mutex
	traces  map[string]*kept
	order   []string // trace ids, oldest first
	dropped int      // datagrams that were not segment documents
}

// kept is a trace as the daemon keeps it.
type kept struct {
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

// NewDaemon starts the daemon on a free UDP port of 127.0.0.1.
func NewDaemon() (*Daemon, error) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("x-ray daemon: %w", err)
	}
	x := &Daemon{conn: conn, done: make(chan struct{}), traces: map[string]*kept{}}
	go x.serve()
	return x, nil
}

// Addr returns the daemon's address, for AWS_XRAY_DAEMON_ADDRESS.
func (x *Daemon) Addr() string { return x.conn.LocalAddr().String() }

// Close stops the daemon. What it kept stays readable.
func (x *Daemon) Close() error {
	if x == nil {
		return nil
	}
	err := x.conn.Close()
	<-x.done
	return err
}

func (x *Daemon) serve() {
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
func (x *Daemon) receive(datagram []byte) error {
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
func (x *Daemon) Segment(s Segment) {
	if x == nil || s.ID == "" || s.TraceID == "" {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	t := x.traces[s.TraceID]
	if t == nil {
		t = &kept{id: s.TraceID, segments: map[string]*Segment{}}
		x.traces[s.TraceID] = t
		x.order = append(x.order, s.TraceID)
		if len(x.order) > maxTraces {
			delete(x.traces, x.order[0])
			x.order = x.order[1:]
		}
	}
	t.add(s, "")
}

// add flattens s and its nested subsegments into t; parent is the id of the
// subsegment or segment that s is nested in, or "".
func (t *kept) add(s Segment, parent string) {
	subs := s.Subsegments
	s.Subsegments = nil
	s.TraceID = t.id
	if parent != "" {
		s.ParentID, s.Type = parent, "subsegment"
	}
	if _, known := t.segments[s.ID]; !known && len(t.segments) >= maxSegments {
		return
	}
	t.segments[s.ID] = &s
	for _, sub := range subs {
		t.add(sub, s.ID)
	}
}

// API wraps the gateway of a REST API stage in the segment that API Gateway
// records for each request (named apiName/stage, as X-Ray names it): it
// continues the caller's X-Amzn-Trace-Id or starts a trace, hands the gateway
// a header whose Parent is that segment (so that the function's segment, see
// Invoke, hangs below it), and answers with the trace id. Every request is
// sampled.
func (x *Daemon) API(apiName, stage string, gateway http.Handler) http.Handler {
	if x == nil {
		return gateway
	}
	name := apiName + "/" + stage
	arn := fmt.Sprintf("arn:aws:apigateway:%s::/restapis/local/stages/%s", stack.Region, stage)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := r.Header.Get("X-Amzn-Trace-Id")
		root, parent := traceheader.Root(in), traceheader.Parent(in)
		if !traceIDPattern.MatchString(root) {
			root, parent = traceheader.NewTraceID(), "" // none, or not X-Ray's: API Gateway starts a trace
		}
		if !segmentIDPattern.MatchString(parent) {
			parent = ""
		}
		id := traceheader.NewSegmentID()
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
// invocation gets (traceheader.Invocation(upstream)); the segment's id is its
// Parent, which the SDK's subsegments name as their parent; its parent is
// upstream's Parent. The event source (an SQS queue, a table's stream) is
// read from the payload's records, as the map draws it.
func (x *Daemon) Invoke(ctx context.Context, fn Invoker, payload []byte, trace, upstream string) (runtimeapi.Result, error) {
	if x == nil {
		return fn.Invoke(ctx, payload, trace)
	}
	start := time.Now()
	res, err := fn.Invoke(ctx, payload, trace)
	end := time.Now()
	root, id := traceheader.Root(trace), traceheader.Parent(trace)
	if root == "" || id == "" {
		return res, err
	}
	arn := fn.ARN()
	s := Segment{ID: id, TraceID: root, Name: arn[strings.LastIndexByte(arn, ':')+1:], Origin: OriginLambda,
		ResourceARN: arn, StartTime: epoch(start), EndTime: epoch(end),
		AWS: map[string]any{"function_arn": arn, "account_id": stack.Account}}
	if traceheader.Root(upstream) == root {
		s.ParentID = traceheader.Parent(upstream)
	}
	if src, srcARN := eventSource(payload); src != "" {
		s.AWS["event_source"], s.AWS["event_source_arn"] = src, srcARN
	}
	if res.RequestID != "" {
		s.AWS["request_id"] = res.RequestID
	}
	if res.InitDuration > 0 {
		s.Subsegments = append(s.Subsegments, Segment{ID: traceheader.NewSegmentID(), Name: "Initialization",
			StartTime: epoch(start), EndTime: epoch(start.Add(res.InitDuration))})
	}
	if res.Duration > 0 {
		s.Subsegments = append(s.Subsegments, Segment{ID: traceheader.NewSegmentID(), Name: "Invocation",
			StartTime: epoch(end.Add(-res.Duration)), EndTime: epoch(end), Fault: res.FunctionError != ""})
	}
	switch {
	case err != nil:
		s.Fault, s.Cause = true, cause("Lambda.InvokeError", err.Error())
	case res.FunctionError != "":
		var e struct{ ErrorType, ErrorMessage string }
		_ = json.Unmarshal(res.Payload, &e)
		s.Fault, s.Cause = true, cause(cmp.Or(e.ErrorType, res.FunctionError), e.ErrorMessage)
	}
	x.Segment(s)
	return res, err
}

// Function is a function whose invocations a Daemon records: what the
// gateway and the event source mappings invoke.
type Function struct {
	x  *Daemon
	fn Invoker
}

// Traced returns fn with each of its invocations recorded as Invoke
// records them; on a nil *Daemon, fn is invoked untraced.
func (x *Daemon) Traced(fn Invoker) Function { return Function{x: x, fn: fn} }

// Invoke runs one invocation of the function: see Daemon.Invoke.
func (f Function) Invoke(ctx context.Context, payload []byte, trace, upstream string) (runtimeapi.Result, error) {
	return f.x.Invoke(ctx, f.fn, payload, trace, upstream)
}

func cause(typ, msg string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"exceptions": []map[string]string{{"id": traceheader.NewSegmentID(), "type": typ, "message": msg}}})
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

var (
	traceIDPattern   = regexp.MustCompile(`^1-[0-9a-f]{8}-[0-9a-f]{24}$`)
	segmentIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
