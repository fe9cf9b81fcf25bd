package localcloud

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/internal/browsertest"
	"github.com/usersapi/usersapi/internal/eventbridge"
)

// goodDetail is the detail of a change event as StreamFunction publishes it.
func goodDetail() string {
	id := uuid.Must(uuid.NewV7()).String()
	return `{"eventId":"` + id + `#1","userId":"` + id + `","version":1,"requestId":"AQGi-r","occurredAt":"2025-03-01T12:00:00Z"}`
}

// putEvent puts one event on b as the SDK would, and returns its id.
func putEvent(t *testing.T, b *eventbridge.Bus, source, detailType, detail string) string {
	t.Helper()
	d, _ := json.Marshal(detail)
	body := `{"Entries":[{"Source":"` + source + `","DetailType":"` + detailType + `","Detail":` + string(d) + `,"EventBusName":"users"}]}`
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	var out struct {
		Entries []struct{ EventID, ErrorCode string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); rec.Code != http.StatusOK || err != nil || len(out.Entries) != 1 || out.Entries[0].ErrorCode != "" {
		t.Fatalf("PutEvents: %d %s", rec.Code, rec.Body)
	}
	return out.Entries[0].EventID
}

// shownEvent is an event of GET /_local/events.
type shownEvent struct {
	ID             string   `json:"id"`
	DetailType     string   `json:"detail-type"`
	ReplayName     string   `json:"replay-name"`
	Rules          []string `json:"rules"`
	SchemaMismatch string   `json:"schemaMismatch"`
}

func shownEvents(t *testing.T, base string) map[string]shownEvent {
	t.Helper()
	status, _, body := httpGet(t, base+"/_local/events")
	var out struct{ Events []shownEvent }
	if err := json.Unmarshal([]byte(body), &out); status != http.StatusOK || err != nil {
		t.Fatalf("/_local/events: %d %v %.300s", status, err, body)
	}
	byID := map[string]shownEvent{}
	for _, e := range out.Events {
		byID[e.ID] = e
	}
	return byID
}

// article returns the events page's article of the event id in dom.
func article(dom, id string) string {
	return regexp.MustCompile(`<article[^>]*title="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(dom)
}

// endingStreams ends each event stream of h after d, so that Chromium's
// virtual time, which waits for the page's requests to end, runs the page
// (EventSource connects again, and the page shows each event once).
func endingStreams(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_local/events/stream" {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			r = r.WithContext(ctx)
		}
		h.ServeHTTP(w, r)
	})
}

// TestEventsMarkSchemaMismatches: the events data and the live page (in
// Chromium) mark an event that is not its detail-type's message of
// api/asyncapi.yaml, with the reason, and an unknown detail-type; a good
// event is not marked.
func TestEventsMarkSchemaMismatches(t *testing.T) {
	bus := eventbridge.NewBus(nil)
	mux := http.NewServeMux()
	(&Pages{Bus: bus}).Register(mux)
	srv := httptest.NewServer(endingStreams(mux, 300*time.Millisecond))
	defer srv.Close()

	good := putEvent(t, bus, "usersapi", "UserCreated", goodDetail())
	bad := putEvent(t, bus, "usersapi", "UserCreated", `{"userId":"42","name":"Ada"}`)
	unknown := putEvent(t, bus, "usersapi", "UserRenamed", goodDetail())

	shown := shownEvents(t, srv.URL)
	if m := shown[good].SchemaMismatch; m != "" {
		t.Errorf("a good event is marked: %s", m)
	}
	if m := shown[bad].SchemaMismatch; !strings.Contains(m, "not a UserCreated") || !strings.Contains(m, "detail") {
		t.Errorf("a malformed event: %q", m)
	}
	if m := shown[unknown].SchemaMismatch; !strings.Contains(m, `unknown detail-type "UserRenamed"`) {
		t.Errorf("an unknown detail-type: %q", m)
	}

	dom := browsertest.DOM(t, srv.URL+"/_local/events/live")
	if a := article(dom, good); !strings.Contains(a, `data-schema="ok"`) || strings.Contains(a, "mismatch") {
		t.Errorf("the good event's article: %s", a)
	}
	for _, id := range []string{bad, unknown} {
		if a := article(dom, id); !strings.Contains(a, `data-schema="mismatch"`) || !strings.Contains(a, `class="event mismatch"`) {
			t.Errorf("the article of %s: %s", shown[id].DetailType, a)
		}
	}
	for _, want := range []string{`<span class="chip mismatch">schema mismatch</span>`, `unknown detail-type "UserRenamed"`, "not a UserCreated: detail"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page has no %q", want)
		}
	}
	if n := strings.Count(dom, `class="chip mismatch"`); n != 2 {
		t.Errorf("%d events marked, want 2", n)
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

// TestEventsReplay: POST /_local/events/replay takes JSON from this origin
// only, and replays the window's archived events, marked.
func TestEventsReplay(t *testing.T) {
	bus := eventbridge.NewBus(nil, eventbridge.Archive{Name: "Users", Bus: "users", Pattern: map[string]any{"source": []any{"usersapi"}}})
	mux := http.NewServeMux()
	(&Pages{Bus: bus}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	start := time.Now()
	orig := putEvent(t, bus, "usersapi", "UserCreated", goodDetail())
	putEvent(t, bus, "other", "Ping", `{}`) // not archived

	post := func(contentType, origin, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/_local/events/replay", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	window := `{"eventStartTime":"` + start.Add(-time.Second).Format(time.RFC3339Nano) + `"}`
	for _, tt := range []struct {
		name, contentType, origin, body string
		want                            int
	}{
		{"a form", "application/x-www-form-urlencoded", "", window, http.StatusUnsupportedMediaType},
		{"another site", "application/json", "https://attacker.example", window, http.StatusForbidden},
		{"not JSON", "application/json", "", "{", http.StatusBadRequest},
		{"no start", "application/json", "", `{}`, http.StatusBadRequest},
		{"a bad name", "application/json", "", `{"replayName":"a b","eventStartTime":"2025-01-01T00:00:00Z"}`, http.StatusBadRequest},
	} {
		if status, out := post(tt.contentType, tt.origin, tt.body); status != tt.want {
			t.Errorf("%s: %d %v, want %d", tt.name, status, out, tt.want)
		}
	}
	if len(bus.Events()) != 2 {
		t.Fatalf("a refused replay replayed: %d events", len(bus.Events()))
	}

	status, out := post("application/json", srv.URL, `{"replayName":"again","eventStartTime":"`+start.Add(-time.Second).Format(time.RFC3339Nano)+`"}`)
	if status != http.StatusOK || out["replayed"] != 1.0 || out["replayName"] != "again" {
		t.Fatalf("replay: %d %v", status, out)
	}
	evs := bus.Events()
	last := shownEvents(t, srv.URL)[evs[len(evs)-1].ID]
	if last.ReplayName != "again" || last.ID == orig || last.DetailType != "UserCreated" || last.SchemaMismatch != "" {
		t.Errorf("the replayed event %+v", last)
	}
	if status, out := post("application/json", "", window); status != http.StatusOK || out["replayed"] != 1.0 ||
		!strings.HasPrefix(out["replayName"].(string), "local-") {
		t.Errorf("a replay without a name: %d %v", status, out)
	}
}
