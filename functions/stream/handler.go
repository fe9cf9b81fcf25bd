package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/bus"
	"github.com/usersapi/usersapi/shared/dynamo/change"
	"github.com/usersapi/usersapi/shared/metrics"
	"github.com/usersapi/usersapi/shared/trace"
	"github.com/usersapi/usersapi/shared/users"
)

// publisher is what the stream handler needs; *bus.Publisher has it.
type publisher interface {
	Publish(ctx context.Context, changes []users.Change) (int, error)
}

var _ publisher = (*bus.Publisher)(nil)

type handler struct {
	bus     publisher
	log     *slog.Logger
	metrics *metrics.Recorder
}

// Handle publishes the changes of a batch of stream records, in order. When a
// record cannot be published, it reports that record's SequenceNumber as the
// batch item failure: Lambda retries the batch from there (bisecting, up to the
// mapping's retry limits, then sending it to the on-failure destination).
func (h *handler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	defer func() { _ = h.metrics.Flush() }()
	var changes []users.Change
	var seq []string // the sequence number of each change's record
	for _, rec := range ev.Records {
		c, ok, err := change.Of(rec)
		if err != nil {
			// Not a user item we can read: publishing past it would lose it, so stop here.
			h.log.ErrorContext(ctx, "unreadable stream record", "sequence_number", rec.Change.SequenceNumber, "err", err)
			return h.publish(ctx, changes, seq, rec.Change.SequenceNumber)
		}
		if ok {
			changes = append(changes, c)
			seq = append(seq, rec.Change.SequenceNumber)
		}
	}
	return h.publish(ctx, changes, seq, "")
}

// publish publishes changes and reports the first record not published:
// that of the first change that failed, or else failedAt ("" for none).
func (h *handler) publish(ctx context.Context, changes []users.Change, seq []string, failedAt string) (events.DynamoDBEventResponse, error) {
	var n int
	err := trace.Capture(ctx, "publish", func(ctx context.Context) (err error) {
		n, err = h.bus.Publish(ctx, changes)
		return err
	})
	now := time.Now()
	for _, c := range changes[:n] {
		h.log.InfoContext(ctx, "published", "event_id", c.EventID(), "detail_type", c.Type, "request_id", c.RequestID)
		if !c.AcceptedAt.IsZero() {
			h.metrics.Duration(metrics.EndToEndLatency, now.Sub(c.AcceptedAt))
		}
	}
	if n > 0 {
		h.metrics.Count(metrics.EventsPublished, n)
	}
	var resp events.DynamoDBEventResponse
	if err != nil {
		h.metrics.Count(metrics.EventsFailed, len(changes)-n)
		h.log.ErrorContext(ctx, "publish failed; the stream will retry", "event_id", changes[n].EventID(), "err", err)
		failedAt = seq[n]
	}
	if failedAt != "" {
		resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: failedAt}}
	}
	return resp, nil
}
