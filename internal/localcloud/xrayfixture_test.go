package localcloud

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/internal/runtimeapi"
	"github.com/usersapi/usersapi/internal/stack"
	"github.com/usersapi/usersapi/internal/traceheader"
	"github.com/usersapi/usersapi/internal/xray"
)

const testAPIName = "usersapi-local-api"

// fixtureFunction is a function that the X-Ray daemon times: it records, as
// the function's X-Ray SDK would, a subsegment named for its work, with
// annotations, and below it the call to an AWS service.
type fixtureFunction struct {
	x           *xray.Daemon
	name        string
	work, calls string   // the subsegment and the AWS service it calls ("" for none)
	annotations []string // key, value pairs
	status      int
	header      string // set by Invoke: the trace header of the work's subsegment
}

func (f *fixtureFunction) ARN() string {
	return "arn:aws:lambda:" + stack.Region + ":" + stack.Account + ":function:" + f.name
}

func (f *fixtureFunction) Invoke(_ context.Context, _ []byte, trace string) (runtimeapi.Result, error) {
	start := time.Now()
	time.Sleep(time.Millisecond)
	root, work := traceheader.Root(trace), traceheader.NewSegmentID()
	ann := map[string]any{}
	for i := 0; i+1 < len(f.annotations); i += 2 {
		ann[f.annotations[i]] = f.annotations[i+1]
	}
	now := func() float64 { return float64(time.Now().UnixNano()) / 1e9 }
	sub := xray.Segment{ID: work, TraceID: root, ParentID: traceheader.Parent(trace), Type: "subsegment", Name: f.work,
		StartTime: float64(start.UnixNano()) / 1e9, Annotations: ann}
	if f.calls != "" {
		sub.Subsegments = []xray.Segment{{ID: traceheader.NewSegmentID(), Name: f.calls, Namespace: "aws", StartTime: sub.StartTime, EndTime: now()}}
	}
	sub.EndTime = now()
	f.x.Segment(sub)
	f.header = "Root=" + root + ";Parent=" + work + ";Sampled=1"
	payload, _ := json.Marshal(map[string]any{"statusCode": f.status, "body": "{}"})
	return runtimeapi.Result{RequestID: uuid.NewString(), Payload: payload, Duration: time.Since(start)}, nil
}

// tracedRequests records in a new daemon the traces of a POST that goes all
// the way to EventBridge, through the queue and the table's stream, and of a
// GET of the user it made, as the local cloud's services and the functions'
// SDK send them. It returns the daemon and the user's id.
func tracedRequests(t *testing.T) (*xray.Daemon, string) {
	t.Helper()
	x, err := xray.NewDaemon()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Close() })
	user := "u-" + uuid.NewString()[:8]
	fn := func(name, work, calls string, status int, annotations ...string) *fixtureFunction {
		return &fixtureFunction{x: x, name: name, work: work, calls: calls, status: status, annotations: annotations}
	}
	ingest := fn("IngestFunction", "enqueue", "SQS", 202, "user_id", user, "operation", "create")
	worker := fn("WorkerFunction", "apply", "DynamoDB", 0, "user_id", user, "request_id", "r-"+user, "operation", "create", "outcome", "succeeded")
	stream := fn("StreamFunction", "publish", "EventBridge", 0)
	read := fn("ReadFunction", "get-user", "DynamoDB", 200, "user_id", user)
	record := func(source string) []byte {
		b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{"eventSource": source, "eventSourceARN": "arn:" + source}}})
		return b
	}
	api := x.API(testAPIName, "dev", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := ingest
		if r.Method == http.MethodGet {
			f = read
		}
		up := r.Header.Get("X-Amzn-Trace-Id")
		res, err := x.Invoke(r.Context(), f, nil, traceheader.Invocation(up), up)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ StatusCode int }
		_ = json.Unmarshal(res.Payload, &out)
		w.WriteHeader(out.StatusCode)
	}))
	for _, req := range []*http.Request{httptest.NewRequest("POST", "http://127.0.0.1/dev/users", strings.NewReader("{}")),
		httptest.NewRequest("GET", "http://127.0.0.1/dev/users/"+user, nil)} {
		api.ServeHTTP(httptest.NewRecorder(), req)
		if req.Method == http.MethodGet {
			break
		}
		// What the queue's and the stream's pollers do after the POST.
		for _, step := range []struct {
			f, after *fixtureFunction
			source   string
		}{{worker, ingest, "aws:sqs"}, {stream, worker, "aws:dynamodb"}} {
			up := step.after.header
			if _, err := x.Invoke(context.Background(), step.f, record(step.source), traceheader.Invocation(up), up); err != nil {
				t.Fatal(err)
			}
		}
	}
	return x, user
}
