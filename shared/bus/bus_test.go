package bus

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/usersapi/usersapi/shared/users"
)

// flaky fails the entries whose event ids are in fail, a given number of times each.
type flaky struct {
	fail  map[string]int
	calls int
	seen  []string
}

func (f *flaky) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.calls++
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		var d Detail
		if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
			panic(err)
		}
		if f.fail[d.EventID] > 0 {
			f.fail[d.EventID]--
			out.FailedEntryCount++
			out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String("ThrottlingException"), ErrorMessage: aws.String("slow down")})
			continue
		}
		f.seen = append(f.seen, d.EventID)
		out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String("e")})
	}
	return out, nil
}

func changes(n int) []users.Change {
	var cs []users.Change
	for i := 1; i <= n; i++ {
		cs = append(cs, users.Change{Type: users.Updated, UserID: "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", Version: int64(i), OccurredAt: time.Unix(int64(i), 0)})
	}
	return cs
}

func TestPublishRetriesPartialFailures(t *testing.T) {
	f := &flaky{fail: map[string]int{"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b#3": 2, "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b#12": 1}}
	p := NewPublisher(f, "bus", "usersapi")
	p.backoff = time.Millisecond
	n, err := p.Publish(context.Background(), changes(15))
	if err != nil || n != 15 {
		t.Fatalf("Publish = %d, %v; want 15, nil", n, err)
	}
	if len(f.seen) != 15 {
		t.Fatalf("published %d events, want 15 (each once)", len(f.seen))
	}
}

func TestPublishStopsAtPersistentFailure(t *testing.T) {
	f := &flaky{fail: map[string]int{"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b#13": 100}}
	p := NewPublisher(f, "bus", "usersapi")
	p.backoff = time.Millisecond
	n, err := p.Publish(context.Background(), changes(20))
	if err == nil || n != 12 {
		t.Fatalf("Publish = %d, %v; want 12 and an error", n, err)
	}
	if f.calls != 1+p.attempts {
		t.Errorf("%d calls, want %d (one chunk, then %d tries of the second)", f.calls, 1+p.attempts, p.attempts)
	}
}

func TestEntryShape(t *testing.T) {
	old := users.User{ID: "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", Name: "A", Email: "a@example.com", Version: 1, Owner: "secret-sub"}
	c := users.Change{Type: users.Deleted, UserID: old.ID, Version: 2, RequestID: "r", Old: &old, Trace: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}
	e, err := NewPublisher(nil, "users-bus", "usersapi").entry(c)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(e.DetailType) != "UserDeleted" || aws.ToString(e.Source) != "usersapi" || aws.ToString(e.EventBusName) != "users-bus" || aws.ToString(e.TraceHeader) != c.Trace {
		t.Errorf("entry %+v", e)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
		t.Fatal(err)
	}
	if d["eventId"] != "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b#2" || d["userId"] != string(old.ID) || d["version"] != 2.0 || d["requestId"] != "r" {
		t.Errorf("detail %v", d)
	}
	// Ids and versions only: none of the user's data, nor its owner.
	for _, k := range slices.Sorted(maps.Keys(d)) {
		if !slices.Contains([]string{"eventId", "occurredAt", "requestId", "userId", "version"}, k) {
			t.Errorf("the detail has %q: %v", k, d)
		}
	}
	if s := aws.ToString(e.Detail); strings.Contains(s, "a@example.com") || strings.Contains(s, "secret-sub") {
		t.Errorf("the detail holds the user's data: %s", s)
	}
}
