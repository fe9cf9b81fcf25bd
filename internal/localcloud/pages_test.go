package localcloud

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/eventbridge"
	"github.com/usersapi/usersapi/internal/traceheader"
	"github.com/usersapi/usersapi/internal/xray"
)

// servePages serves the pages of x's traces and an empty bus, as the local
// cloud does.
func servePages(t *testing.T, x *xray.Daemon) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	(&Pages{XRay: x, Bus: eventbridge.NewBus(nil)}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func httpGet(t *testing.T, rawURL string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestPages(t *testing.T) {
	x, userID := tracedRequests(t)
	srv := servePages(t, x)
	names := []string{"client", testAPIName + "/dev", "IngestFunction", "SQS", "WorkerFunction", "DynamoDB", "StreamFunction", "EventBridge", "ReadFunction"}

	tests := []struct {
		path, contentType string
		want              []string
	}{
		{"/_local/", "text/html", []string{`href="/_local/xray"`, `href="/_local/events/live"`}},
		{"/_local/xray", "text/html", []string{`<svg id="map"`, `/_local/assets/xray.js`}},
		{"/_local/xray/map", "application/json", names},
		{"/_local/xray/traces", "application/json", []string{userID, `"outcome"`, `"succeeded"`}},
		{"/_local/xray/traces?annotation=user_id=" + url.QueryEscape(userID), "application/json", []string{`"method": "POST"`}},
		{"/_local/events/live", "text/html", []string{`/_local/assets/events.js`}},
		{"/_local/assets/xray.js", "text/javascript", []string{"/_local/xray/map"}},
		{"/_local/assets/events.js", "text/javascript", []string{"/_local/events/stream"}},
		{"/_local/assets/style.css", "text/css", []string{"#map"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, h, body := httpGet(t, srv.URL+tt.path)
			if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), tt.contentType) {
				t.Fatalf("%d %s: %.300s", status, h.Get("Content-Type"), body)
			}
			if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") {
				t.Errorf("CSP %q", h.Get("Content-Security-Policy"))
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("no %q in %.500s", w, body)
				}
			}
		})
	}

	t.Run("one trace", func(t *testing.T) {
		_, _, body := httpGet(t, srv.URL+"/_local/xray/traces?annotation=operation=create")
		var list struct{ Traces []xray.TraceSummary }
		if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Traces) != 1 {
			t.Fatalf("%v: %s", err, body)
		}
		status, _, body := httpGet(t, srv.URL+"/_local/xray/traces/"+list.Traces[0].ID)
		var tr xray.Trace
		if err := json.Unmarshal([]byte(body), &tr); status != 200 || err != nil || len(tr.Segments) < 10 {
			t.Fatalf("%d %v: %.500s", status, err, body)
		}
		if status, _, _ := httpGet(t, srv.URL+"/_local/xray/traces/1-00000000-000000000000000000000000"); status != http.StatusNotFound {
			t.Errorf("an unknown trace: %d", status)
		}
	})

	t.Run("loopback only", func(t *testing.T) {
		req, _ := http.NewRequest("GET", srv.URL+"/_local/xray/map", nil)
		req.Host = "attacker.example:80" // a name rebound to 127.0.0.1
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("Host %s: %d", req.Host, resp.StatusCode)
		}
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/_local/xray", nil)
		r.RemoteAddr = "192.0.2.7:5555"
		mux := http.NewServeMux()
		(&Pages{}).Register(mux)
		mux.ServeHTTP(rec, r)
		if rec.Code != http.StatusForbidden {
			t.Errorf("a client at %s: %d", r.RemoteAddr, rec.Code)
		}
	})

	t.Run("no listing", func(t *testing.T) {
		if status, _, _ := httpGet(t, srv.URL+"/_local/assets/"); status != http.StatusNotFound {
			t.Errorf("/_local/assets/: %d", status)
		}
	})
}

// TestPagesEventStream reads the event stream: the backlog, then an event
// put while it is open.
func TestPagesEventStream(t *testing.T) {
	bus := eventbridge.NewBus(nil)
	mux := http.NewServeMux()
	(&Pages{Bus: bus}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	put := func(detailType, trace string) {
		t.Helper()
		body := `{"Entries":[{"Source":"usersapi","DetailType":"` + detailType + `","Detail":"{\"id\":\"u1\"}","TraceHeader":"` + trace + `"}]}`
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
		rec := httptest.NewRecorder()
		bus.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "ErrorCode") {
			t.Fatalf("PutEvents: %d %s", rec.Code, rec.Body)
		}
	}
	put("UserCreated", "")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/_local/events/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	// next returns the next event's name and data.
	next := func() (string, string) {
		t.Helper()
		var name, data string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("the stream ended: %v", err)
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "" && name != "":
				return name, data
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			}
		}
	}
	if name, data := next(); name != "put" || !strings.Contains(data, `"detail-type":"UserCreated"`) {
		t.Fatalf("backlog: %s %s", name, data)
	}
	if name, _ := next(); name != "live" {
		t.Fatalf("after the backlog: %s", name)
	}
	root := traceheader.NewTraceID()
	put("UserDeleted", "Root="+root+";Parent=53995c3f42cd8ad8;Sampled=1")
	name, data := next()
	var ev struct {
		DetailType string          `json:"detail-type"`
		Bus        string          `json:"bus"`
		TraceID    string          `json:"trace_id"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal([]byte(data), &ev); name != "put" || err != nil {
		t.Fatalf("%s %s: %v", name, data, err)
	}
	if ev.DetailType != "UserDeleted" || ev.Bus != "default" || ev.TraceID != root || string(ev.Detail) != `{"id":"u1"}` {
		t.Errorf("event %+v", ev)
	}
}
