package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/eventstest"
	"github.com/usersapi/usersapi/shared/metrics"
	"github.com/usersapi/usersapi/shared/metrics/metricstest"
	"github.com/usersapi/usersapi/shared/users"
)

// capture keeps what it publishes, and fails from index failAt on (-1: never).
type capture struct {
	got    []users.Change
	failAt int
}

func (c *capture) Publish(_ context.Context, changes []users.Change) (int, error) {
	for i, ch := range changes {
		if i == c.failAt {
			return i, errors.New("EventBridge said InternalFailure")
		}
		c.got = append(c.got, ch)
	}
	return len(changes), nil
}

// handle runs a handler that publishes to c on ev, failing t if Handle
// returns an error; it returns the answer and the EMF lines of the metrics.
func handle(t testing.TB, c *capture, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, []byte) {
	t.Helper()
	rec, out := metricstest.Recorder()
	h := &handler{bus: c, log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: rec}
	return eventstest.Handle(t, h.Handle, ev), out.Bytes()
}

// sampleBatch is events/stream-batch.json.
func sampleBatch(t testing.TB) events.DynamoDBEvent {
	t.Helper()
	var ev events.DynamoDBEvent
	eventstest.Project(t, "stream-batch.json", &ev)
	return ev
}

func TestSampleBatch(t *testing.T) {
	c := &capture{failAt: -1}
	resp, out := handle(t, c, sampleBatch(t))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", resp.BatchItemFailures)
	}
	// The sample's writes were accepted long ago: three latencies, each of
	// at least the time since then.
	var latencies []float64
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		data, _ := metrics.Parse(line)
		for _, d := range data {
			if d.Name == metrics.EndToEndLatency {
				latencies = append(latencies, d.Values...)
			}
		}
	}
	since := float64(time.Since(time.Date(2026, 11, 23, 10, 0, 8, 0, time.UTC)).Milliseconds()) // after the last acceptedAt
	if len(latencies) != 3 || slices.Min(latencies) < since {
		t.Errorf("end-to-end latencies %v ms, want 3 of at least %.0f", latencies, since)
	}
	if m := metricstest.Totals(t, out); m["EventsPublished"] != 3 || m["EventsFailed"] != 0 {
		t.Errorf("metrics %v: want 3 published", m)
	}
	want := []users.ChangeType{users.Created, users.Updated, users.Deleted}
	if len(c.got) != len(want) {
		t.Fatalf("published %d changes, want %d (the sentinel and the TTL removal are no events)", len(c.got), len(want))
	}
	for i, ch := range c.got {
		if ch.Type != want[i] {
			t.Errorf("change %d is %s, want %s", i, ch.Type, want[i])
		}
		if ch.RequestID == "" || ch.Version < 1 || ch.OccurredAt.IsZero() {
			t.Errorf("change %d: %+v", i, ch)
		}
	}
	if c.got[0].Old != nil || c.got[0].New == nil || c.got[2].New != nil || c.got[2].Old == nil {
		t.Errorf("old/new images: created %+v, deleted %+v", c.got[0], c.got[2])
	}
	if c.got[1].Old == nil || c.got[1].Old.Version+1 != c.got[1].New.Version {
		t.Errorf("update: %+v", c.got[1])
	}
}

func TestFailureReportsSequenceNumber(t *testing.T) {
	c := &capture{failAt: 1}
	ev := sampleBatch(t)
	resp, out := handle(t, c, ev)
	if m := metricstest.Totals(t, out); m["EventsPublished"] != 1 || m["EventsFailed"] != 2 {
		t.Errorf("metrics %v: want 1 published, 2 failed", m)
	}
	// The second change comes from the third record (the second is a sentinel).
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[2].Change.SequenceNumber {
		t.Fatalf("failures %+v, want the sequence number %s", resp.BatchItemFailures, ev.Records[2].Change.SequenceNumber)
	}
}

func TestUnreadableRecordStopsTheBatch(t *testing.T) {
	c := &capture{failAt: -1}
	ev := sampleBatch(t)
	ev.Records[2].Change.NewImage = nil // a user MODIFY without its image
	resp, _ := handle(t, c, ev)
	if len(c.got) != 1 || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[2].Change.SequenceNumber {
		t.Fatalf("published %d, failures %+v", len(c.got), resp.BatchItemFailures)
	}
}

// TestAWSSampleEvent: AWS's stream sample holds no user items: nothing to
// publish, nothing failed, no crash.
func TestAWSSampleEvent(t *testing.T) {
	c := &capture{failAt: -1}
	var ev events.DynamoDBEvent
	eventstest.AWS(t, "dynamodb-event.json", &ev)
	resp, _ := handle(t, c, ev)
	if len(resp.BatchItemFailures) != 0 || len(c.got) != 0 {
		t.Fatalf("published %d, failures %v", len(c.got), resp.BatchItemFailures)
	}
}

// TestReshardMoveIsNoEvent: a write that only moves a user's list entry
// (usersapi-reshard rewrites listPk, not the version) is no change: nothing
// is published for it.
func TestReshardMoveIsNoEvent(t *testing.T) {
	ev := sampleBatch(t)
	var moves []events.DynamoDBEventRecord
	for _, rec := range ev.Records {
		if rec.EventName != "MODIFY" {
			continue
		}
		if _, ok := rec.Change.OldImage["listPk"]; !ok {
			continue
		}
		moved := rec
		moved.Change.NewImage = maps.Clone(rec.Change.OldImage)
		moved.Change.NewImage["listPk"] = events.NewStringAttribute("users#7")
		moves = append(moves, moved)
	}
	if len(moves) == 0 {
		t.Fatal("the sample batch has no update of a listed user")
	}
	c := &capture{failAt: -1}
	resp, _ := handle(t, c, events.DynamoDBEvent{Records: moves})
	if len(resp.BatchItemFailures) != 0 || len(c.got) != 0 {
		t.Errorf("a list entry's move published %d changes (failures %v)", len(c.got), resp.BatchItemFailures)
	}
}
