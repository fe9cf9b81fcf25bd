package xray

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/aws/aws-xray-sdk-go/v2/xraylog"
	"github.com/google/uuid"

	localbus "github.com/usersapi/usersapi/internal/eventbridge"
	"github.com/usersapi/usersapi/internal/runtimeapi"
	"github.com/usersapi/usersapi/internal/stack"
	"github.com/usersapi/usersapi/internal/traceheader"
	"github.com/usersapi/usersapi/shared/trace"
)

const testAPIName = "usersapi-local-api"

// fakeFunction runs a handler in the test process as the Lambda Go runtime
// runs one: the invocation's trace header is in the context under
// xray.LambdaTraceHeaderKey, from which the X-Ray SDK makes its facade
// segment. The handler answers an API Gateway proxy response (status, body)
// or fails.
type fakeFunction struct {
	name   string
	handle func(ctx context.Context, payload []byte) (status int, body string, err error)
}

func (f *fakeFunction) ARN() string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", stack.Region, stack.Account, f.name)
}

func (f *fakeFunction) Invoke(ctx context.Context, payload []byte, traceHeader string) (runtimeapi.Result, error) {
	ctx = context.WithValue(ctx, xray.LambdaTraceHeaderKey, traceHeader) //nolint:staticcheck // the Lambda Go runtime's key
	start := time.Now()
	status, body, err := f.handle(ctx, payload)
	res := runtimeapi.Result{RequestID: uuid.NewString(), Duration: time.Since(start)}
	if err != nil {
		res.FunctionError = "Unhandled"
		res.Payload, _ = json.Marshal(map[string]string{"errorType": "errorString", "errorMessage": err.Error()})
		return res, nil
	}
	res.Payload, _ = json.Marshal(map[string]any{"statusCode": status, "body": body})
	return res, nil
}

// pipeline is the usersapi pipeline in the test process, traced as the local
// cloud traces it: the stage behind Daemon.API, fake functions invoked through
// Daemon.Invoke that do what the real ones do with X-Ray (shared/trace's
// Capture, Annotate and Header, and SDK clients instrumented by
// trace.Instrument), fake DynamoDB and SQS endpoints, and a real EventBus.
type pipeline struct {
	x                            *Daemon
	bus                          *localbus.Bus
	api                          http.Handler // the stage's gateway
	queue                        chan queued  // the messages sent
	writes                       chan queued  // the items written: the user id, the trace kept in the item
	ingest, worker, stream, read *fakeFunction
}

// newPipeline starts a Daemon and points the test process's X-Ray
// SDK at it, as AWS_XRAY_DAEMON_ADDRESS does for the functions.
func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	x, err := NewDaemon()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Close() })
	t.Setenv("LAMBDA_TASK_ROOT", t.TempDir())
	t.Setenv("AWS_XRAY_SDK_DISABLED", "false")
	xray.SetLogger(xraylog.NullLogger)
	if err := xray.Configure(xray.Config{DaemonAddr: x.Addr()}); err != nil {
		t.Fatal(err)
	}

	fake := httptest.NewServer(http.HandlerFunc(fakeAWS))
	t.Cleanup(fake.Close)
	p := &pipeline{x: x, bus: localbus.NewBus(nil), queue: make(chan queued, 16), writes: make(chan queued, 16)}
	bus := httptest.NewServer(p.bus)
	t.Cleanup(bus.Close)

	cfg := aws.Config{Region: stack.Region, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	trace.Instrument(&cfg)
	ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint, o.DisableValidateResponseChecksum = &fake.URL, true
	})
	queue := sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		o.BaseEndpoint, o.DisableMessageChecksumValidation = &fake.URL, true
	})
	events := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = &bus.URL })

	p.ingest = &fakeFunction{name: "IngestFunction", handle: func(ctx context.Context, _ []byte) (int, string, error) {
		id := "u-" + uuid.NewString()[:8]
		err := trace.Capture(ctx, "enqueue", func(ctx context.Context) error {
			header := trace.Header(ctx)
			_, err := queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &fake.URL, MessageBody: &id,
				MessageSystemAttributes: map[string]sqstypes.MessageSystemAttributeValue{
					"AWSTraceHeader": {DataType: strPtr("String"), StringValue: &header}}})
			p.queue <- queued{userID: id, trace: header}
			return err
		}, "user_id", id, "operation", "create")
		return http.StatusAccepted, `{"user_id":"` + id + `"}`, err
	}}
	p.worker = &fakeFunction{name: "WorkerFunction", handle: func(ctx context.Context, payload []byte) (int, string, error) {
		var ev struct {
			Records []struct{ Body, MessageID string }
		}
		if err := json.Unmarshal(payload, &ev); err != nil {
			return 0, "", err
		}
		for _, m := range ev.Records {
			err := trace.Capture(ctx, "apply", func(ctx context.Context) error {
				_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: strPtr("users"),
					Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: m.Body}}})
				trace.Annotate(ctx, "outcome", "succeeded")
				return err
			}, "user_id", m.Body, "request_id", "r-"+m.Body, "operation", "create")
			if err != nil {
				return 0, "", err
			}
		}
		return 0, "", nil
	}}
	p.stream = &fakeFunction{name: "StreamFunction", handle: func(ctx context.Context, payload []byte) (int, string, error) {
		upstream, err := imageTrace(payload)
		if err != nil {
			return 0, "", err
		}
		return 0, "", trace.Capture(ctx, "publish", func(ctx context.Context) error {
			_, err := events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
				Source: strPtr("usersapi"), DetailType: strPtr("UserCreated"), Detail: strPtr(`{"id":"x"}`),
				TraceHeader: strPtr(upstream)}}})
			return err
		})
	}}
	p.read = &fakeFunction{name: "ReadFunction", handle: func(ctx context.Context, payload []byte) (int, string, error) {
		var req struct{ PathParameters map[string]string }
		_ = json.Unmarshal(payload, &req)
		id := req.PathParameters["id"]
		if id == "boom" {
			return 0, "", errors.New("the read function failed")
		}
		var found bool
		err := trace.Capture(ctx, "get-user", func(ctx context.Context) error {
			out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: strPtr("users"),
				Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}})
			found = err == nil && out.Item != nil
			return err
		}, "user_id", id)
		if err != nil {
			return 0, "", err
		}
		if !found && id == "missing" {
			return http.StatusNotFound, `{"title":"Not Found"}`, nil
		}
		return http.StatusOK, `{"id":"` + id + `"}`, nil
	}}

	// The stage: POST /dev/users to the ingest function, GET /dev/users/{id}
	// to the read function, as the gateway does it (the invocation's trace
	// made from the header that Daemon.API handed on).
	p.api = x.API(testAPIName, "dev", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn, payload := p.ingest, []byte(`{}`)
		if r.Method == http.MethodGet {
			fn = p.read
			payload, _ = json.Marshal(map[string]any{"pathParameters": map[string]string{"id": strings.TrimPrefix(r.URL.Path, "/dev/users/")}})
		}
		upstream := r.Header.Get("X-Amzn-Trace-Id")
		res, err := x.Invoke(r.Context(), fn, payload, traceheader.Invocation(upstream), upstream)
		if err != nil || res.FunctionError != "" {
			http.Error(w, `{"message":"Internal server error"}`, http.StatusBadGateway)
			return
		}
		var out struct {
			StatusCode int
			Body       string
		}
		_ = json.Unmarshal(res.Payload, &out)
		w.WriteHeader(out.StatusCode)
		_, _ = io.WriteString(w, out.Body)
	}))
	return p
}

// imageTrace returns the trace kept in the new image of a stream event's
// first record, where the worker writes it.
func imageTrace(payload []byte) (string, error) {
	var ev struct {
		Records []struct {
			Dynamodb struct {
				NewImage struct {
					Trace struct{ S string } `json:"trace"`
				}
			} `json:"dynamodb"`
		}
	}
	if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Records) == 0 {
		return "", fmt.Errorf("not a stream event: %v", err)
	}
	return ev.Records[0].Dynamodb.NewImage.Trace.S, nil
}

// queued is a message on the queue, or an item written: whose, and the trace it carries.
type queued struct{ userID, trace string }

func strPtr(s string) *string { return &s }

// fakeAWS answers SQS's SendMessage and DynamoDB's calls, as far as the SDK needs.
func fakeAWS(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.") {
		_, _ = fmt.Fprintf(w, `{"MessageId":%q}`, uuid.NewString())
		return
	}
	_, _ = io.WriteString(w, "{}")
}

// do sends a request to the stage and returns the response's status and body.
func (p *pipeline) do(t *testing.T, method, path string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(`{"name":"Ada"}`))
	rec := httptest.NewRecorder()
	p.api.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// drain runs what the event source mappings would: the worker on each
// message sent, and the stream function on each item written.
func (p *pipeline) drain(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for {
		select {
		case m := <-p.queue:
			payload, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
				"messageId": uuid.NewString(), "body": m.userID, "attributes": map[string]string{"AWSTraceHeader": m.trace},
				"eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:" + stack.Region + ":" + stack.Account + ":users.fifo"}}})
			if _, err := p.x.Invoke(ctx, p.worker, payload, traceheader.Invocation(m.trace), m.trace); err != nil {
				t.Fatal(err)
			}
			p.writes <- m
		case m := <-p.writes:
			recs := []map[string]any{{"eventName": "INSERT", "eventSource": "aws:dynamodb",
				"eventSourceARN": "arn:aws:dynamodb:" + stack.Region + ":" + stack.Account + ":table/users/stream/1",
				"dynamodb": map[string]any{"NewImage": map[string]any{
					"id": map[string]any{"S": m.userID}, "trace": map[string]any{"S": m.trace}}}}}
			payload, _ := json.Marshal(map[string]any{"Records": recs})
			// The stream's poller joins the trace kept in the item (see eventsource).
			if _, err := p.x.Invoke(ctx, p.stream, payload, traceheader.Invocation(m.trace), m.trace); err != nil {
				t.Fatal(err)
			}
		default:
			return
		}
	}
}

// scenario sends the requests whose traces the tests read: a POST that goes
// all the way to EventBridge, a GET of that user, a GET of a missing user
// (404), and a GET that the function fails (502). It waits until the SDK's
// subsegments have all come, and returns the user's id.
func (p *pipeline) scenario(t *testing.T) string {
	t.Helper()
	status, body := p.do(t, http.MethodPost, "/dev/users")
	if status != http.StatusAccepted {
		t.Fatalf("POST: %d %s", status, body)
	}
	var created struct {
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatal(err)
	}
	p.drain(t)
	for path, want := range map[string]int{"/dev/users/" + created.UserID: 200, "/dev/users/missing": 404, "/dev/users/boom": 502} {
		if status, body := p.do(t, http.MethodGet, path); status != want {
			t.Fatalf("GET %s: %d, want %d: %s", path, status, want, body)
		}
	}
	waitForSegments(t, p.x, "the SDK's subsegments", func() bool {
		m := p.x.Map()
		return findEdge(m, "IngestFunction", "SQS").Count == 1 && findEdge(m, "WorkerFunction", "DynamoDB").Count == 1 &&
			findEdge(m, "StreamFunction", "EventBridge").Count == 1 && findEdge(m, "ReadFunction", "DynamoDB").Count == 2
	})
	return created.UserID
}

// waitForSegments returns once cond holds, checked as the daemon stores the
// segments the test's calls send.
func waitForSegments(t *testing.T, x *Daemon, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; map: %+v", what, x.Map())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func findEdge(m ServiceMap, from, to string) MapEdge {
	for _, e := range m.Edges {
		if e.From == from && e.To == to {
			return e
		}
	}
	return MapEdge{}
}

func findNode(m ServiceMap, name string) (MapNode, bool) {
	for _, n := range m.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return MapNode{}, false
}

func TestXRay(t *testing.T) {
	p := newPipeline(t)
	userID := p.scenario(t)
	api := testAPIName + "/dev"

	t.Run("map", func(t *testing.T) {
		m := p.x.Map()
		type stats struct{ count, errors, faults int }
		want := map[[2]string]stats{
			{"client", api}:                   {4, 1, 1}, // the 404 and the 502
			{api, "IngestFunction"}:           {1, 0, 0},
			{"IngestFunction", "SQS"}:         {1, 0, 0},
			{"SQS", "WorkerFunction"}:         {1, 0, 0},
			{"WorkerFunction", "DynamoDB"}:    {1, 0, 0},
			{"DynamoDB", "StreamFunction"}:    {1, 0, 0},
			{"StreamFunction", "EventBridge"}: {1, 0, 0},
			{api, "ReadFunction"}:             {3, 0, 1}, // the function's error
			{"ReadFunction", "DynamoDB"}:      {2, 0, 0},
		}
		for _, e := range m.Edges {
			w, ok := want[[2]string{e.From, e.To}]
			if !ok {
				t.Errorf("unexpected edge %s → %s", e.From, e.To)
				continue
			}
			if got := (stats{e.Count, e.Errors, e.Faults}); got != w {
				t.Errorf("%s → %s: count, errors, faults %v, want %v", e.From, e.To, got, w)
			}
			if e.AvgMs <= 0 || e.P50Ms <= 0 || e.P99Ms < e.P50Ms {
				t.Errorf("%s → %s: latency avg %v p50 %v p99 %v", e.From, e.To, e.AvgMs, e.P50Ms, e.P99Ms)
			}
			delete(want, [2]string{e.From, e.To})
		}
		for e := range want {
			t.Errorf("no edge %s → %s", e[0], e[1])
		}

		types := map[string]string{"client": "client", api: OriginAPIGateway, "IngestFunction": OriginLambda,
			"SQS": "AWS::SQS::Queue", "WorkerFunction": OriginLambda, "DynamoDB": "AWS::DynamoDB::Table",
			"StreamFunction": OriginLambda, "EventBridge": "AWS::Events::EventBus", "ReadFunction": OriginLambda}
		if len(m.Nodes) != len(types) {
			t.Errorf("%d nodes, want %d: %+v", len(m.Nodes), len(types), m.Nodes)
		}
		rank := -1
		for _, name := range []string{"client", api, "IngestFunction", "SQS", "WorkerFunction", "DynamoDB", "StreamFunction", "EventBridge"} {
			n, ok := findNode(m, name)
			if !ok {
				t.Errorf("no node %s", name)
				continue
			}
			if n.Type != types[name] {
				t.Errorf("node %s has type %q, want %q", name, n.Type, types[name])
			}
			if n.Rank <= rank {
				t.Errorf("node %s has rank %d, not after %d", name, n.Rank, rank)
			}
			rank = n.Rank
		}
	})

	t.Run("POST trace", func(t *testing.T) {
		sums := p.x.Traces(map[string]string{"user_id": userID, "operation": "create"})
		if len(sums) != 1 {
			t.Fatalf("%d traces with user_id=%s operation=create, want 1", len(sums), userID)
		}
		sum := sums[0]
		if sum.Method != "POST" || sum.Status != 202 || sum.Entry != api || !strings.HasSuffix(sum.URL, "/dev/users") {
			t.Errorf("summary %+v", sum)
		}
		for _, s := range []string{api, "IngestFunction", "SQS", "WorkerFunction", "DynamoDB", "StreamFunction", "EventBridge"} {
			if !slices.Contains(sum.Services, s) {
				t.Errorf("services %v lack %s", sum.Services, s)
			}
		}
		for k, v := range map[string]string{"user_id": userID, "request_id": "r-" + userID, "operation": "create", "outcome": "succeeded"} {
			if !slices.Contains(sum.Annotations[k], v) {
				t.Errorf("annotation %s: %v, want %s", k, sum.Annotations[k], v)
			}
		}

		tr, ok := p.x.Trace(sum.ID)
		if !ok {
			t.Fatal("the trace is not kept")
		}
		byName := map[string]Segment{}
		for _, s := range tr.Segments {
			if _, dup := byName[s.Name]; !dup {
				byName[s.Name] = s
			}
		}
		// Each segment hangs below the one that caused it.
		for _, link := range []struct{ child, parent string }{
			{"IngestFunction", api},
			{"enqueue", "IngestFunction"}, // the SDK's subsegment below the segment Lambda records
			{"SQS", "enqueue"},
			{"WorkerFunction", "enqueue"}, // the message's AWSTraceHeader was taken in enqueue
			{"apply", "WorkerFunction"},
			{"DynamoDB", "apply"},
			{"publish", "StreamFunction"},
			{"EventBridge", "publish"},
		} {
			c, p := byName[link.child], byName[link.parent]
			if c.ID == "" || p.ID == "" || c.ParentID != p.ID {
				t.Errorf("%s (parent %q) is not below %s (%q)", link.child, c.ParentID, link.parent, p.ID)
			}
		}
		if got := byName["SQS"].AWS["operation"]; got != "SendMessage" {
			t.Errorf("the SQS subsegment's operation is %v", got)
		}
		if got := byName["WorkerFunction"].AWS["event_source"]; got != "aws:sqs" {
			t.Errorf("the worker's event source is %v", got)
		}
		if byName[api].ParentID != "" || byName[api].HTTP.Response.Status != 202 {
			t.Errorf("API segment %+v", byName[api])
		}
	})

	t.Run("annotations", func(t *testing.T) {
		for _, tt := range []struct {
			match map[string]string
			want  int
		}{
			{map[string]string{"user_id": userID}, 2}, // the POST, the GET
			{map[string]string{"user_id": "missing"}, 1},
			{map[string]string{"outcome": ""}, 1},
			{map[string]string{"user_id": "nobody"}, 0},
			{nil, 4},
		} {
			if got := len(p.x.Traces(tt.match)); got != tt.want {
				t.Errorf("%v: %d traces, want %d", tt.match, got, tt.want)
			}
		}
	})
}

// TestXRayDatagrams sends the daemon protocol by hand: a subsegment streamed
// on its own with a nested one, an in-progress segment then its completion,
// and datagrams that are not segment documents.
func TestXRayDatagrams(t *testing.T) {
	x, err := NewDaemon()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	conn, err := net.Dial("udp", x.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const header = `{"format": "json", "version": 1}` + "\n"
	id := traceheader.NewTraceID()
	for _, d := range []string{
		header + `{"trace_id":"` + id + `","id":"a1","name":"fn","start_time":1,"in_progress":true}`,
		header + `{"type":"subsegment","trace_id":"` + id + `","parent_id":"a1","id":"b1","name":"apply","start_time":1.1,"end_time":1.3,` +
			`"annotations":{"user_id":"u1","retries":2},"subsegments":[{"id":"c1","name":"DynamoDB","namespace":"aws","start_time":1.15,"end_time":1.25,"fault":true}]}`,
		"no header line",
		header + "not json",
		`{"format": "text"}` + "\n{}",
		header + `{"trace_id":"` + id + `","id":"a1","name":"fn","origin":"AWS::Lambda::Function","start_time":1,"end_time":1.5}`,
	} {
		if _, err := conn.Write([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	waitForSegments(t, x, "the datagrams", func() bool {
		m := x.Map()
		return m.Dropped == 3 && findEdge(m, "client", "fn").Count == 1 && findEdge(m, "fn", "DynamoDB").Count == 1
	})
	tr, _ := x.Trace(id)
	if len(tr.Segments) != 3 {
		t.Fatalf("%d segments, want 3: %+v", len(tr.Segments), tr.Segments)
	}
	if c := tr.Segments[2]; c.ID != "c1" || c.ParentID != "b1" || c.TraceID != id || c.Type != "subsegment" {
		t.Errorf("the nested subsegment is %+v", c)
	}
	if e := findEdge(x.Map(), "fn", "DynamoDB"); e.Faults != 1 || e.AvgMs != 100 {
		t.Errorf("fn → DynamoDB: %+v", e)
	}
	if got := tr.Annotations["retries"]; !slices.Equal(got, []string{"2"}) {
		t.Errorf("annotation retries: %v", got)
	}
}

func TestXRayKeepsRecentTraces(t *testing.T) {
	x := &Daemon{traces: map[string]*kept{}}
	var ids []string
	for i := range maxTraces + 1 {
		ids = append(ids, traceheader.NewTraceID())
		x.Segment(Segment{ID: traceheader.NewSegmentID(), TraceID: ids[i], Name: "fn", StartTime: float64(i), EndTime: float64(i) + 1})
	}
	if got := len(x.Traces(nil)); got != maxTraces {
		t.Errorf("%d traces kept, want %d", got, maxTraces)
	}
	if _, ok := x.Trace(ids[0]); ok {
		t.Error("the oldest trace is still kept")
	}
	if got := x.Traces(nil)[0].ID; got != ids[maxTraces] {
		t.Errorf("the newest trace is %s, want %s", got, ids[maxTraces])
	}
}

// TestXRayAPIContinuesTheCallersTrace checks the stage's segment: it
// continues a valid X-Amzn-Trace-Id below the caller's segment, starts a
// trace for an invalid one, and hands the gateway a header whose Parent is
// the stage's segment.
func TestXRayAPIContinuesTheCallersTrace(t *testing.T) {
	x := &Daemon{traces: map[string]*kept{}}
	var handed string
	api := x.API("api", "dev", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handed = r.Header.Get("X-Amzn-Trace-Id")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	root1, root2 := traceheader.NewTraceID(), traceheader.NewTraceID()
	for _, tt := range []struct{ in, root, parent string }{
		{"Root=" + root1 + ";Parent=53995c3f42cd8ad8;Sampled=1", root1, "53995c3f42cd8ad8"},
		{"Root=" + root2, root2, ""},
		{"Root=not-a-trace;Parent=53995c3f42cd8ad8", "", ""},
		{"", "", ""},
	} {
		req := httptest.NewRequest("GET", "/dev/users?cursor=secret", nil)
		req.Header.Set("X-Amzn-Trace-Id", tt.in)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		got := traceheader.Root(handed)
		if tt.root != "" && got != tt.root || tt.root == "" && (got == "" || got == traceheader.Root(tt.in)) {
			t.Errorf("%q: handed on %q", tt.in, handed)
		}
		if traceheader.Root(rec.Header().Get("X-Amzn-Trace-Id")) != got {
			t.Errorf("%q: answered %q, handed on %q", tt.in, rec.Header().Get("X-Amzn-Trace-Id"), handed)
		}
		tr, ok := x.Trace(got)
		if !ok || len(tr.Segments) != 1 {
			t.Fatalf("%q: trace %+v", tt.in, tr)
		}
		s := tr.Segments[0]
		if s.ID != traceheader.Parent(handed) || s.ParentID != tt.parent || s.Name != "api/dev" || s.Origin != OriginAPIGateway {
			t.Errorf("%q: segment %+v, handed on %q", tt.in, s, handed)
		}
		if !s.Error || !s.Throttle || s.Fault || s.HTTP.Response.Status != 429 || strings.Contains(s.HTTP.Request.URL, "secret") {
			t.Errorf("%q: segment flags or http %+v %+v", tt.in, s, s.HTTP.Request)
		}
	}
}

func TestXRayNil(t *testing.T) {
	var x *Daemon
	fn := &fakeFunction{name: "F", handle: func(context.Context, []byte) (int, string, error) { return 200, "", nil }}
	if _, err := x.Invoke(context.Background(), fn, nil, "", ""); err != nil {
		t.Fatal(err)
	}
	x.Segment(Segment{ID: "a", TraceID: "b"})
	if m := x.Map(); len(m.Nodes) != 0 || x.Traces(nil) == nil {
		t.Errorf("a nil XRay has %+v", m)
	}
	rec := httptest.NewRecorder()
	x.API("api", "dev", http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/dev/", nil))
	if rec.Code != http.StatusNotFound || rec.Header().Get("X-Amzn-Trace-Id") != "" {
		t.Errorf("a nil XRay's API answered %d with trace %q", rec.Code, rec.Header().Get("X-Amzn-Trace-Id"))
	}
}

// TestTraced invokes a function bound to the daemon, as the gateway and the
// event source mappings do: the segment is recorded below upstream's parent.
func TestTraced(t *testing.T) {
	x := &Daemon{traces: map[string]*kept{}}
	fn := x.Traced(&fakeFunction{name: "F", handle: func(context.Context, []byte) (int, string, error) { return 200, "", nil }})
	upstream := "Root=" + traceheader.NewTraceID() + ";Parent=53995c3f42cd8ad8;Sampled=1"
	invocation := traceheader.Invocation(upstream)
	if _, err := fn.Invoke(context.Background(), nil, invocation, upstream); err != nil {
		t.Fatal(err)
	}
	tr, ok := x.Trace(traceheader.Root(upstream))
	if !ok || len(tr.Segments) == 0 {
		t.Fatalf("no trace: %+v", tr)
	}
	s := tr.Segments[0]
	if s.Name != "F" || s.ID != traceheader.Parent(invocation) || s.ParentID != "53995c3f42cd8ad8" || s.Origin != OriginLambda {
		t.Errorf("segment %+v", s)
	}
	var nilDaemon *Daemon
	if _, err := nilDaemon.Traced(&fakeFunction{name: "F", handle: func(context.Context, []byte) (int, string, error) { return 200, "", nil }}).
		Invoke(context.Background(), nil, invocation, upstream); err != nil {
		t.Errorf("untraced: %v", err)
	}
}
