// Package bus publishes users.Changes to an EventBridge bus, one event per
// change, with the change's deterministic id in the detail.
//
// An event says which user changed, to which version, and by which request:
// ids and versions only, never the user's data (name, email, phone, age). A
// consumer that needs the data reads the user (GET /users/{id}), and one that
// reads it after a delete gets 404: so an erasure reaches every consumer that
// reads, and the bus's archive and every copy of an event hold nothing to
// erase (docs/privacy.md).
package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/usersapi/usersapi/shared/users"
)

// maxEntries is PutEvents' limit of entries per call.
const maxEntries = 10

// API is the part of the EventBridge client that a Publisher uses.
type API interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ API = (*eventbridge.Client)(nil)

// Detail is the detail of a change event (the detail-type is the change's
// type: UserCreated, UserUpdated or UserDeleted). It holds no personal data.
type Detail struct {
	EventID    string    `json:"eventId"`    // "<userId>#<version>": a consumer drops an event it has seen
	UserID     users.ID  `json:"userId"`     // the user that changed
	Version    int64     `json:"version"`    // the user's version after the change (a delete's too)
	RequestID  string    `json:"requestId"`  // the request that made it (GET /requests/{requestId})
	OccurredAt time.Time `json:"occurredAt"` // when it was applied
}

// Publisher publishes changes to one bus.
type Publisher struct {
	client   API
	bus      string
	source   string
	attempts int           // tries per entry, PutEvents' partial failures included
	backoff  time.Duration // doubled after each failed try
}

// NewPublisher returns a Publisher to the bus named bus, with events of source.
func NewPublisher(client API, bus, source string) *Publisher {
	return &Publisher{client: client, bus: bus, source: source, attempts: 4, backoff: 50 * time.Millisecond}
}

// Publish publishes changes in order and returns how many of them, from the
// first, are surely published. Entries that PutEvents refuses are tried again;
// when they still fail, Publish stops there and returns the error with the
// count of those before the first failure. An entry after it may have been
// published too: consumers drop such a duplicate by its event id.
func (p *Publisher) Publish(ctx context.Context, changes []users.Change) (int, error) {
	for start := 0; start < len(changes); start += maxEntries {
		chunk := changes[start:min(start+maxEntries, len(changes))]
		entries := make([]types.PutEventsRequestEntry, len(chunk))
		for i, c := range chunk {
			e, err := p.entry(c)
			if err != nil {
				return start + i, err
			}
			entries[i] = e
		}
		if failed, err := p.put(ctx, entries); err != nil {
			return start + failed, err
		}
	}
	return len(changes), nil
}

// put sends entries, trying those that fail again; it returns the index of
// the first entry that never went.
func (p *Publisher) put(ctx context.Context, entries []types.PutEventsRequestEntry) (int, error) {
	pending := make([]int, len(entries)) // indexes of entries not yet published
	for i := range pending {
		pending[i] = i
	}
	wait := p.backoff
	var lastErr error
	for try := 1; try <= p.attempts && len(pending) > 0; try++ {
		if try > 1 {
			select {
			case <-ctx.Done():
				return pending[0], ctx.Err()
			case <-time.After(wait):
			}
			wait *= 2
		}
		batch := make([]types.PutEventsRequestEntry, len(pending))
		for i, j := range pending {
			batch[i] = entries[j]
		}
		out, err := p.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: batch})
		if err != nil {
			lastErr = fmt.Errorf("put events: %w", err)
			continue
		}
		var still []int
		for i, r := range out.Entries {
			if r.ErrorCode != nil {
				still = append(still, pending[i])
				lastErr = fmt.Errorf("put events: entry %d: %s: %s", pending[i], aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
			}
		}
		if len(out.Entries) != len(batch) {
			lastErr = fmt.Errorf("put events: %d results for %d entries", len(out.Entries), len(batch))
			continue
		}
		pending = still
	}
	if len(pending) > 0 {
		return pending[0], lastErr
	}
	return 0, nil
}

func (p *Publisher) entry(c users.Change) (types.PutEventsRequestEntry, error) {
	detail, err := json.Marshal(DetailOf(c))
	if err != nil {
		return types.PutEventsRequestEntry{}, fmt.Errorf("event %s: %w", c.EventID(), err)
	}
	e := types.PutEventsRequestEntry{
		EventBusName: aws.String(p.bus),
		Source:       aws.String(p.source),
		DetailType:   aws.String(string(c.Type)),
		Detail:       aws.String(string(detail)),
		Time:         aws.Time(c.OccurredAt),
	}
	if c.Trace != "" {
		e.TraceHeader = aws.String(c.Trace)
	}
	return e, nil
}

// DetailOf returns the detail of c's event.
func DetailOf(c users.Change) Detail {
	return Detail{EventID: c.EventID(), UserID: c.UserID, Version: c.Version, RequestID: c.RequestID, OccurredAt: c.OccurredAt}
}

// NewClient returns an EventBridge client for cfg; endpoint, when not nil, overrides AWS's.
func NewClient(cfg aws.Config, endpoint *string) *eventbridge.Client {
	return eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = endpoint })
}
