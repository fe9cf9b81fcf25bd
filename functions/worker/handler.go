package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/metrics"
	"github.com/usersapi/usersapi/shared/queue/envelope"
	"github.com/usersapi/usersapi/shared/trace"
	"github.com/usersapi/usersapi/shared/users"
)

// applier is what the worker needs; *dynamo.Table has it.
type applier interface {
	Apply(ctx context.Context, cmd users.Command) (users.Request, error)
}

var _ applier = (*dynamo.Table)(nil)

type handler struct {
	users   applier
	log     *slog.Logger
	metrics *metrics.Recorder
}

// The outcomes a message can have (the dimension "outcome" of WorkerOutcomes).
const (
	outcomeApplied = "applied" // the write is in the table, its request succeeded
	outcomeFailed  = "failed"  // its request failed for good (precondition, email taken...), recorded
	outcomeRetried = "retried" // a fault: the message goes back to the queue
	outcomeRefused = "refused" // not a command: retried until the DLQ takes it
	outcomeBlocked = "blocked" // after a failure in its message group: goes back, in order
)

// Handle applies a batch of commands. Message groups (one per user) run side
// by side; within a group, messages run in order, and once one fails it and
// every later message of its group are reported as failures, so that SQS
// redelivers them in order (the FIFO rule).
func (h *handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	defer func() { _ = h.metrics.Flush() }()
	groups := map[string][]int{}
	var order []string
	for i, m := range ev.Records {
		g := m.Attributes["MessageGroupId"]
		if g == "" {
			g = m.MessageId // a standard queue: no order to keep
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], i)
	}
	failed := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for _, g := range order {
		wg.Add(1)
		go func(idx []int) {
			defer wg.Done()
			for n, i := range idx {
				if !h.process(ctx, &ev.Records[i]) {
					for _, j := range idx[n:] {
						failed[j] = true
					}
					if blocked := len(idx[n+1:]); blocked > 0 {
						h.metrics.Count(metrics.WorkerOutcomes, blocked, "outcome", outcomeBlocked)
					}
					return
				}
			}
		}(groups[g])
	}
	wg.Wait()
	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

// process applies one message and reports whether it is done with.
func (h *handler) process(ctx context.Context, m *events.SQSMessage) bool {
	cmd, err := envelope.Decode([]byte(m.Body))
	if err != nil {
		// It will never decode: SQS moves it to the DLQ after maxReceiveCount receives.
		h.log.ErrorContext(ctx, "refused a message that is not a command", "message_id", m.MessageId,
			"receive_count", m.Attributes["ApproximateReceiveCount"], "reason", err)
		h.metrics.Count(metrics.WorkerOutcomes, 1, "outcome", outcomeRefused)
		return false
	}
	var r users.Request
	err = trace.Capture(ctx, "apply", func(ctx context.Context) (err error) {
		r, err = h.users.Apply(ctx, cmd)
		if err == nil {
			trace.Annotate(ctx, "outcome", string(r.Status))
		}
		return err
	}, "user_id", string(cmd.UserID), "request_id", cmd.RequestID, "operation", string(cmd.Op))
	log := h.log.With("request_id", cmd.RequestID, "user_id", cmd.UserID, "operation", cmd.Op, "message_id", m.MessageId)
	if err != nil {
		log.ErrorContext(ctx, "apply failed; the message will be retried", "receive_count", m.Attributes["ApproximateReceiveCount"], "err", err)
		h.metrics.Count(metrics.WorkerOutcomes, 1, "outcome", outcomeRetried)
		return false
	}
	if r.Error != nil {
		log.InfoContext(ctx, "request failed", "status", r.Status, "reason", r.Error.Kind.String())
		h.metrics.Count(metrics.WorkerOutcomes, 1, "outcome", outcomeFailed)
	} else {
		log.InfoContext(ctx, "request applied", "status", r.Status, "version", r.Version)
		h.metrics.Count(metrics.WorkerOutcomes, 1, "outcome", outcomeApplied)
	}
	return true
}
