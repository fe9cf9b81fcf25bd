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
// answer or the decoding error; no panic, no hang (issue 14).
func TestEveryAWSEvent(t *testing.T) {
	rec, _ := metricstest.Recorder()
	h := &handler{bus: &capture{}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: rec}
	eventstest.EveryAWS(t, h.Handle, eventstest.BatchResponse[events.DynamoDBEventResponse])
}
