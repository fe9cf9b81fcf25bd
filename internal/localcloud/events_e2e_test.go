package localcloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	usersapi "github.com/usersapi/usersapi/client"
	"github.com/usersapi/usersapi/internal/browsertest"
	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
	"github.com/usersapi/usersapi/internal/stack"
)

// TestEventsReplayAndContract: a user written through the API publishes a
// UserCreated that matches the contract; a malformed event put on the bus
// (PutEvents to the local bus endpoint) is marked, with the reason, in the
// events data and on the events page (Chromium); a replay of the window
// sends the archived events through the template's rules again, each a new
// event marked with its replay-name, the good one matching its rule again,
// and the events put since stay unarchived replays.
func TestEventsReplayAndContract(t *testing.T) {
	c := cloudtest.Start(t, "", localcloud.Options{}) // a cloud of its own: its archive holds this test's events only
	base := strings.TrimSuffix(c.URL, "/dev")
	ctx := context.Background()
	start := time.Now()

	w, err := apiClient(t, c, "alice", "users.read users.write").CreateUser(ctx, usersapi.UserInput{Name: "Ada Lovelace", Email: email()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	created := waitForEvent(t, base, func(e eventView) bool {
		return e.DetailType == "UserCreated" && strings.Contains(string(e.Detail), w.UserID)
	})

	bus := c.Stack.Resources["UsersBus"].Ref
	eb := eventbridge.New(eventbridge.Options{Region: stack.Region, BaseEndpoint: aws.String(c.EventBridgeEndpoint()), Credentials: aws.AnonymousCredentials{}})
	out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("usersapi"), DetailType: aws.String("UserCreated"), EventBusName: aws.String(bus),
			Detail: aws.String(`{"userId":"` + w.UserID + `","name":"Ada Lovelace"}`)}, // the user's data, no ids
	}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, out)
	}
	malformed := aws.ToString(out.Entries[0].EventId)

	events := shown(t, base)
	if m := events[created.ID].SchemaMismatch; m != "" {
		t.Errorf("the user's UserCreated is marked: %s", m)
	}
	if m := events[malformed].SchemaMismatch; !strings.Contains(m, "not a UserCreated") || !strings.Contains(m, "detail") {
		t.Errorf("the malformed event's mark: %q", m)
	}
	if !slices.Equal(created.Rules, []string{"UserEventsRule"}) {
		t.Errorf("the UserCreated matched %v", created.Rules)
	}

	// Replay the window, as `usersapi-local events replay` asks.
	body, _ := json.Marshal(map[string]any{"replayName": "e2e", "eventStartTime": start})
	resp, err := client.Post(base+"/_local/events/replay", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Replayed int }
	_ = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || res.Replayed != 2 { // the user's event and the malformed one: the archive takes source usersapi
		t.Fatalf("replay: %s, %d replayed, want 2", resp.Status, res.Replayed)
	}
	again := waitForEvent(t, base, func(e eventView) bool {
		return e.ReplayName == "e2e" && e.DetailType == "UserCreated" && e.SchemaMismatch == ""
	})
	if again.ID == created.ID || string(again.Detail) != string(created.Detail) || !slices.Equal(again.Rules, []string{"UserEventsRule"}) {
		t.Errorf("replayed %+v, from %+v", again, created)
	}
	if n := len(c.Bus.Archived("UsersBusArchive")); n != 2 {
		t.Errorf("the archive holds %d events, want 2 (replays are not archived again)", n)
	}

	// The events page, in Chromium, over the cloud's bus.
	mux := http.NewServeMux()
	(&localcloud.Pages{Bus: c.Bus}).Register(mux)
	srv := httptest.NewServer(localcloud.EndingStreams(mux, 300*time.Millisecond))
	defer srv.Close()
	dom := browsertest.DOM(t, srv.URL+"/_local/events/live")
	for id, want := range map[string]string{created.ID: `data-schema="ok"`, again.ID: `data-schema="ok"`, malformed: `data-schema="mismatch"`} {
		if a := regexp.MustCompile(`<article[^>]*title="` + id + `"[^>]*>`).FindString(dom); !strings.Contains(a, want) {
			t.Errorf("the article of %s: %q, want %s", id, a, want)
		}
	}
	for _, want := range []string{`<span class="chip replayed">replay e2e</span>`, `<span class="chip mismatch">schema mismatch</span>`, "not a UserCreated: detail"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page has no %q", want)
		}
	}
	if n := strings.Count(dom, `class="chip mismatch"`); n != 2 {
		t.Errorf("%d events marked, want 2 (the malformed one and its replay)", n)
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

// eventView is an event of GET /_local/events.
type eventView struct {
	ID             string          `json:"id"`
	DetailType     string          `json:"detail-type"`
	ReplayName     string          `json:"replay-name"`
	Detail         json.RawMessage `json:"detail"`
	Rules          []string        `json:"rules"`
	SchemaMismatch string          `json:"schemaMismatch"`
}

func shown(t *testing.T, base string) map[string]eventView {
	t.Helper()
	resp, err := client.Get(base + "/_local/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Events []eventView }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	byID := map[string]eventView{}
	for _, e := range out.Events {
		byID[e.ID] = e
	}
	return byID
}

// waitForEvent returns the first event of GET /_local/events that match
// takes, waiting up to 30 s for one.
func waitForEvent(t *testing.T, base string, match func(eventView) bool) eventView {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, e := range shown(t, base) {
			if match(e) {
				return e
			}
		}
	}
	t.Fatalf("no such event in 30 s\n%s", tail(cloudtest.Log.String()))
	return eventView{}
}
