package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/eventstest"
	"github.com/usersapi/usersapi/shared/metrics/metricstest"
)

// TestEveryAWSEvent feeds every AWS sample event (aws-lambda-go's
// events/testdata) to the handler as the runtime would pass it: a batch
// answer or the decoding error; no panic, no hang, and nothing applied from
// an event that is no command (issue 14).
func TestEveryAWSEvent(t *testing.T) {
	s := &script{}
	rec, _ := metricstest.Recorder()
	h := &handler{users: s, log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: rec}
	eventstest.EveryAWS(t, h.Handle, eventstest.BatchResponse[events.SQSEventResponse])
	if len(s.applied) != 0 {
		t.Errorf("applied %v from AWS's sample events, which hold no command", s.applied)
	}
}
