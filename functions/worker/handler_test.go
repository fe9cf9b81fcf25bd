package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/eventstest"
	"github.com/usersapi/usersapi/shared/metrics/metricstest"
	"github.com/usersapi/usersapi/shared/queue/envelope"
	"github.com/usersapi/usersapi/shared/users"
)

// script is an applier that fails the requests it is told to, and records
// the order in which each user's requests reached it.
type script struct {
	mu      sync.Mutex
	fail    map[string]bool // request ids that fail with an infrastructure error
	applied map[users.ID][]string
}

func (s *script) Apply(_ context.Context, cmd users.Command) (users.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail[cmd.RequestID] {
		return users.Request{}, errors.New("ProvisionedThroughputExceededException")
	}
	if s.applied == nil {
		s.applied = map[users.ID][]string{}
	}
	s.applied[cmd.UserID] = append(s.applied[cmd.UserID], cmd.RequestID)
	return users.Request{ID: cmd.RequestID, Status: users.Succeeded, Version: 1}, nil
}

// handle runs a handler that applies with s on ev, failing t if Handle
// returns an error; it returns the answer and the EMF lines of the metrics.
func handle(t testing.TB, s *script, ev events.SQSEvent) (events.SQSEventResponse, []byte) {
	t.Helper()
	rec, out := metricstest.Recorder()
	h := &handler{users: s, log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: rec}
	return eventstest.Handle(t, h.Handle, ev), out.Bytes()
}

func message(t *testing.T, id, group, request string) events.SQSMessage {
	body, err := envelope.Encode(users.Command{RequestID: request, Op: users.Delete, UserID: users.ID(group), AcceptedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: id, Body: string(body), Attributes: map[string]string{"MessageGroupId": group}}
}

const (
	userA = "0193a4b2-7c3d-7e4f-8a5b-00000000000a"
	userB = "0193a4b2-7c3d-7e4f-8a5b-00000000000b"
)

func failures(resp events.SQSEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestFIFORule(t *testing.T) {
	s := &script{fail: map[string]bool{"a2": true}}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		message(t, "m1", userA, "a1"), message(t, "m2", userB, "b1"), message(t, "m3", userA, "a2"),
		message(t, "m4", userB, "b2"), message(t, "m5", userA, "a3"), message(t, "m6", userA, "a4"),
	}}
	resp, out := handle(t, s, ev)
	if m := metricstest.Totals(t, out); !maps.Equal(m, map[string]float64{
		"WorkerOutcomes/applied": 3, "WorkerOutcomes/retried": 1, "WorkerOutcomes/blocked": 2}) {
		t.Errorf("metrics %v: want 3 applied, 1 retried, 2 blocked behind it", m)
	}
	if got := failures(resp); !slices.Equal(got, []string{"m3", "m5", "m6"}) {
		t.Fatalf("failures %v, want m3, m5, m6: the failed message and every later one of its group", got)
	}
	if !slices.Equal(s.applied[userA], []string{"a1"}) || !slices.Equal(s.applied[userB], []string{"b1", "b2"}) {
		t.Fatalf("applied %v", s.applied)
	}
}

func TestPoisonMessage(t *testing.T) {
	s := &script{}
	var ev events.SQSEvent
	eventstest.Project(t, "sqs-poison.json", &ev)
	resp, out := handle(t, s, ev)
	var poison []string
	for _, m := range ev.Records {
		if _, err := envelope.Decode([]byte(m.Body)); err != nil {
			poison = append(poison, m.MessageId)
		}
	}
	if len(poison) == 0 || len(poison) == len(ev.Records) {
		t.Fatalf("sqs-poison.json should mix good and poison messages; poison: %v", poison)
	}
	if n := metricstest.Totals(t, out)["WorkerOutcomes/refused"]; int(n) != len(poison) {
		t.Errorf("%v messages counted as refused, want %d", n, len(poison))
	}
	got := failures(resp)
	for _, p := range poison {
		if !slices.Contains(got, p) {
			t.Errorf("poison message %s not reported", p)
		}
	}
	applied := 0
	for _, ids := range s.applied {
		applied += len(ids)
	}
	if applied+len(got) != len(ev.Records) || applied == 0 {
		t.Errorf("applied %d and failed %v of %d messages", applied, got, len(ev.Records))
	}
}

func TestSampleBatch(t *testing.T) {
	s := &script{}
	var ev events.SQSEvent
	eventstest.Project(t, "sqs-batch.json", &ev)
	resp, _ := handle(t, s, ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", failures(resp))
	}
	// Per user, commands were applied in the batch's order.
	for user, got := range s.applied {
		var want []string
		for _, m := range ev.Records {
			if cmd, _ := envelope.Decode([]byte(m.Body)); cmd.UserID == user {
				want = append(want, cmd.RequestID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("user %s: applied %v, want %v", user, got, want)
		}
	}
}

// TestAWSSampleEvent: AWS's standard-queue sample holds no commands; each
// message is reported as failed (so SQS would park it in the DLQ), none crashes.
func TestAWSSampleEvent(t *testing.T) {
	var ev events.SQSEvent
	eventstest.AWS(t, "sqs-event.json", &ev)
	resp, _ := handle(t, &script{}, ev)
	if len(resp.BatchItemFailures) != len(ev.Records) {
		t.Fatalf("failures %v of %d", failures(resp), len(ev.Records))
	}
}
