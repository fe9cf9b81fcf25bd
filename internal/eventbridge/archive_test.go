package eventbridge

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/usersapi/usersapi/internal/stack"
)

func TestArchives(t *testing.T) {
	for stage, days := range map[string]int{"dev": 30, "prod": 365} {
		s, err := stack.Load("../../template.yaml", map[string]any{"Stage": stage})
		if err != nil {
			t.Fatal(err)
		}
		archives, err := Archives(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(archives) != 1 {
			t.Fatalf("%s: archives %+v, want the template's one", stage, archives)
		}
		a := archives[0]
		if a.Name != "UsersBusArchive" || a.Bus != s.Resources["UsersBus"].Ref || a.Retention != time.Duration(days)*24*time.Hour ||
			a.Pattern["source"] == nil {
			t.Errorf("%s: archive %+v", stage, a)
		}
	}
}

// TestReplay archives what the archive's pattern takes on its bus, and
// replays a window of it through the rules: new ids, replay-name set, the
// rules matched again (one that excludes replays does not match), not
// archived again, past the retention gone.
func TestReplay(t *testing.T) {
	rules := []Rule{
		{Name: "UserEvents", Bus: "users", Pattern: map[string]any{"source": []any{"usersapi"}}},
		{Name: "NotReplays", Bus: "users", Pattern: map[string]any{"replay-name": []any{map[string]any{"exists": false}}}},
	}
	b := NewBus(rules, Archive{Name: "Users", Bus: "users", Pattern: map[string]any{"source": []any{"usersapi"}}, Retention: time.Hour})
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	b.now = func() time.Time { return now }
	cl := client(t, b)
	put := func(source, bus, detail string) string {
		t.Helper()
		out, err := cl.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
			{Source: aws.String(source), DetailType: aws.String("UserCreated"), Detail: aws.String(detail), EventBusName: aws.String(bus)}}})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("PutEvents: %v %+v", err, out)
		}
		return aws.ToString(out.Entries[0].EventId)
	}
	a := put("usersapi", "users", `{"n":1}`)
	put("other", "users", `{"n":2}`)      // not the archive's pattern
	put("usersapi", "default", `{"n":3}`) // not the archive's bus
	now = t0.Add(5 * time.Minute)
	d := put("usersapi", "users", `{"n":4}`)
	now = t0.Add(10 * time.Minute)

	ids := func(evs []Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	if got := ids(b.Archived("Users")); !slices.Equal(got, []string{a, d}) {
		t.Fatalf("archived %v, want %v", got, []string{a, d})
	}
	live, stop := b.Subscribe()
	defer stop()

	n, err := b.Replay("first", t0.Add(-time.Minute), t0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1", n, err)
	}
	evs := b.Events()
	orig, replayed := evs[0], evs[len(evs)-1]
	if replayed.ID == a || replayed.ReplayName != "first" || string(replayed.Detail) != `{"n":1}` || !replayed.Time.Equal(orig.Time) ||
		replayed.Source != "usersapi" || replayed.Bus != "users" || !replayed.Received.Equal(now) {
		t.Errorf("replayed %+v, from %+v", replayed, orig)
	}
	if !slices.Equal(replayed.Rules, []string{"UserEvents"}) || !slices.Equal(orig.Rules, []string{"UserEvents", "NotReplays"}) {
		t.Errorf("rules: replayed %v, original %v", replayed.Rules, orig.Rules)
	}
	var doc map[string]any
	if j, _ := json.Marshal(replayed); json.Unmarshal(j, &doc) != nil || doc["replay-name"] != "first" {
		t.Errorf("as delivered: %s", j)
	}
	doc = nil
	if j, _ := json.Marshal(orig); json.Unmarshal(j, &doc) != nil || doc["replay-name"] != nil {
		t.Errorf("an event as put: %s", j)
	}
	select {
	case e := <-live:
		if e.ID != replayed.ID {
			t.Errorf("subscriber got %s, want the replayed %s", e.ID, replayed.ID)
		}
	case <-time.After(time.Second):
		t.Error("the subscriber got nothing")
	}
	if got := ids(b.Archived("Users")); !slices.Equal(got, []string{a, d}) {
		t.Errorf("archived after a replay %v, want %v (a replayed event is not archived again)", got, []string{a, d})
	}

	// The whole window, in the order received.
	before := len(b.Events())
	if n, err := b.Replay("second", t0.Add(-time.Minute), now); err != nil || n != 2 {
		t.Fatalf("Replay = %d, %v; want 2", n, err)
	}
	evs = b.Events()[before:]
	if len(evs) != 2 || string(evs[0].Detail) != `{"n":1}` || string(evs[1].Detail) != `{"n":4}` || evs[1].ReplayName != "second" {
		t.Errorf("replayed %+v", evs)
	}

	// Past the archive's retention, an event is gone.
	now = t0.Add(time.Hour + time.Minute)
	if got := ids(b.Archived("Users")); !slices.Equal(got, []string{d}) {
		t.Errorf("archived past the retention of the first %v, want %v", got, []string{d})
	}
	if n, err := b.Replay("third", t0.Add(-time.Minute), now); err != nil || n != 1 {
		t.Errorf("Replay past the retention = %d, %v; want 1", n, err)
	}

	for _, bad := range []struct {
		name     string
		from, to time.Time
	}{{"a replay", t0, now}, {"", t0, now}, {"ok", now, t0}} {
		if _, err := b.Replay(bad.name, bad.from, bad.to); err == nil {
			t.Errorf("Replay(%q, %v, %v) accepted", bad.name, bad.from, bad.to)
		}
	}
	if b.Archived("none") != nil {
		t.Error("an unknown archive holds events")
	}
}
