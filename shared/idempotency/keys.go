package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/usersapi/usersapi/shared/users"
)

// TTL is how long an Idempotency-Key is remembered.
const TTL = 24 * time.Hour

// Lease is how long a request holds its Idempotency-Key before it answers.
// A retry within the lease gets a Conflict; after it, the retry resumes the
// request. It must be longer than the ingest function's timeout
// (internal/stack checks).
const Lease = 30 * time.Second

// ErrChanged is what a Store's conditional write returns when the record kept
// under the key is not the one the write expected.
var ErrChanged = errors.New("idempotency: the record changed")

// ErrUnreadable is what a Store's Get returns, wrapped, when a record is kept
// under the key but cannot be read. Keys takes such a key to be in progress
// until the store forgets it.
var ErrUnreadable = errors.New("idempotency: the record cannot be read")

// Record is what a Store keeps for one key. A Store keeps LeaseUntil to the
// millisecond and ExpiresAt to the second; Keys hands it times so rounded, so
// that a record read back is the record written.
type Record struct {
	Key         string    // the scoped key
	Fingerprint string    // of the request the key came with first
	RequestID   string    // the request id the key is bound to; "" in records written before keys were bound
	Answer      string    // the encoded Answer the request was given; "" until then
	LeaseUntil  time.Time // an unanswered key is in progress until then; zero: no lease
	ExpiresAt   time.Time // the key is forgotten after then
}

// Store keeps Records, one per key. Every write is conditional and changes
// nothing, returning ErrChanged, when the condition fails; a Store knows no
// other rule (the lease rules are Keys's). It must be safe for concurrent use.
type Store interface {
	// Get returns the record kept under key, read consistently, and false
	// when none is kept.
	Get(ctx context.Context, key string) (Record, bool, error)
	// Create keeps r if no record is kept under r.Key.
	Create(ctx context.Context, r Record) error
	// Replace keeps r in place of old, if the record kept under old.Key is
	// still old; it never creates a record. r.Key is old.Key.
	Replace(ctx context.Context, old, r Record) error
	// Delete forgets old, if the record kept under old.Key is still old.
	Delete(ctx context.Context, old Record) error
}

// Answer is what a request with a key was answered (202 Accepted): a retry
// with the key is answered it again.
type Answer struct {
	Body     string `json:"body"`
	Location string `json:"location"`
}

// Claim is what Begin found for a key.
type Claim struct {
	// RequestID is the request id the key is bound to: the one Begin was
	// given, or an earlier attempt's.
	RequestID string
	// Answer, when not nil, is the answer recorded for the key's request:
	// replay it. Such a claim holds nothing.
	Answer *Answer
	// Resumed says that an earlier attempt with this key stopped without an
	// answer: its message may be queued already (under RequestID).
	Resumed bool
	// Lease is the end of this claim's lease.
	Lease time.Time

	// record is what the claim wrote: it fences Complete, Release and
	// Abandon, so an attempt that outlived its lease, and whose key another
	// attempt took over, changes nothing.
	record Record
}

// Keys applies the protocol's rules to the records of a Store.
type Keys struct {
	store Store
	now   func() time.Time
}

// New returns Keys kept in store that read the time from now (time.Now when
// nil).
func New(store Store, now func() time.Time) *Keys {
	if now == nil {
		now = time.Now
	}
	return &Keys{store: store, now: now}
}

func unavailable(what string, err error) error {
	return &users.Error{Kind: users.Unavailable, Detail: "idempotency keys are unavailable; try again", Err: fmt.Errorf("%s: %w", what, err)}
}

func inProgress() error {
	return users.Errorf(users.Conflict, "a request with this Idempotency-Key is being accepted; retry in a moment")
}

// Begin claims key for a request with fingerprint, binding it to requestID.
// It returns a Claim with the answer recorded for the key when the same
// request was answered before; a Conflict error while another attempt holds
// the key's lease; a KeyReused error when the key came with another request;
// otherwise the claim is the caller's, with the request id to use, and the
// caller must Complete it or Fail (Release or Abandon) it.
func (k *Keys) Begin(ctx context.Context, key, fingerprint, requestID string) (Claim, error) {
	now := k.now()
	mine := Record{Key: key, Fingerprint: fingerprint, RequestID: requestID,
		LeaseUntil: now.Add(Lease).Truncate(time.Millisecond), ExpiresAt: now.Add(TTL).Truncate(time.Second)}
	err := k.store.Create(ctx, mine)
	for pass := 0; errors.Is(err, ErrChanged); pass++ {
		cur, ok, gerr := k.store.Get(ctx, key)
		switch {
		case errors.Is(gerr, ErrUnreadable) || gerr == nil && !ok:
			return Claim{}, inProgress()
		case gerr != nil:
			return Claim{}, unavailable("read key", gerr)
		case pass > 0 || !free(cur, now):
			return k.join(ctx, cur, mine, now)
		}
		// An expired key that the store has not forgotten yet, and that no
		// attempt holds, is as good as absent.
		err = k.store.Replace(ctx, cur, mine)
	}
	if err != nil {
		return Claim{}, unavailable("claim key", err)
	}
	return Claim{RequestID: requestID, Lease: mine.LeaseUntil, record: mine}, nil
}

// free says whether r has expired at now and no attempt holds its lease.
func free(r Record, now time.Time) bool {
	return r.ExpiresAt.Unix() < now.Unix() && !leased(r, now)
}

// leased says whether an attempt holds r's lease at now.
func leased(r Record, now time.Time) bool {
	return !r.LeaseUntil.IsZero() && r.LeaseUntil.UnixMilli() > now.UnixMilli()
}

// join decides what a request, which would have written mine, gets of the
// key that cur holds.
func (k *Keys) join(ctx context.Context, cur, mine Record, now time.Time) (Claim, error) {
	switch {
	case cur.Fingerprint != mine.Fingerprint:
		return Claim{}, users.Errorf(users.KeyReused, "this Idempotency-Key was used with another request")
	case cur.Answer != "":
		var a Answer
		if err := json.Unmarshal([]byte(cur.Answer), &a); err != nil {
			return Claim{}, fmt.Errorf("stored answer: %w", err)
		}
		return Claim{RequestID: cur.RequestID, Answer: &a}, nil
	case cur.RequestID == mine.RequestID:
		// This attempt's own claim, written, whose answer was lost and which
		// the store's client sent again.
		return Claim{RequestID: cur.RequestID, Lease: cur.LeaseUntil, record: cur}, nil
	case cur.RequestID == "" || leased(cur, now):
		// Held by a live attempt; or written by a version that bound no
		// request id, which is in progress until it expires.
		return Claim{}, inProgress()
	}
	// The earlier attempt's lease lapsed without an answer: take the key over,
	// on the condition that nobody else did meanwhile, for a lease that
	// outlasts the key's expiry if need be.
	next := cur
	next.LeaseUntil = mine.LeaseUntil
	if past := next.LeaseUntil.Add(time.Second).Truncate(time.Second); past.After(next.ExpiresAt) {
		next.ExpiresAt = past
	}
	err := k.store.Replace(ctx, cur, next)
	switch {
	case errors.Is(err, ErrChanged):
		return Claim{}, inProgress()
	case err != nil:
		return Claim{}, unavailable("resume key", err)
	}
	return Claim{RequestID: cur.RequestID, Resumed: true, Lease: next.LeaseUntil, record: next}, nil
}

// Complete records the answer that a claimed key's request was given. The
// answer belongs to the request, so any attempt at it may record it, whoever
// holds the lease; the key must still be bound to that request. A key that is
// gone stays gone.
func (k *Keys) Complete(ctx context.Context, c Claim, a Answer) error {
	if c.record.Key == "" {
		return nil // a replayed claim: the answer is recorded
	}
	enc, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("complete key: %w", err)
	}
	cur := c.record
	for range 3 {
		next := cur
		next.Answer = string(enc)
		err := k.store.Replace(ctx, cur, next)
		if !errors.Is(err, ErrChanged) {
			if err != nil {
				return fmt.Errorf("complete key: %w", err)
			}
			return nil
		}
		// Another attempt at the request took the key over, or answered it,
		// or the key was forgotten.
		var ok bool
		cur, ok, err = k.store.Get(ctx, cur.Key)
		switch {
		case errors.Is(err, ErrUnreadable):
			return nil
		case err != nil:
			return fmt.Errorf("complete key: %w", err)
		case !ok || cur.RequestID != c.RequestID || cur.Answer != "":
			return nil
		}
	}
	return fmt.Errorf("complete key: %w", ErrChanged)
}

// Release ends a claim's lease without an answer, so that the client's retry
// resumes the request at once, with the same request id: for a request whose
// message may have been queued. A claim that outlived its lease, or whose key
// was answered, changes nothing.
func (k *Keys) Release(ctx context.Context, c Claim) error {
	if c.record.Key == "" {
		return nil
	}
	next := c.record
	next.LeaseUntil = time.Time{}
	if err := k.store.Replace(ctx, c.record, next); err != nil && !errors.Is(err, ErrChanged) {
		return fmt.Errorf("release key: %w", err)
	}
	return nil
}

// Abandon forgets a claimed key whose request was not accepted and sent
// nothing, so that the client's retry is accepted afresh; unless another
// attempt took the key over meanwhile, or the key was answered.
func (k *Keys) Abandon(ctx context.Context, c Claim) error {
	if c.record.Key == "" {
		return nil
	}
	if err := k.store.Delete(ctx, c.record); err != nil && !errors.Is(err, ErrChanged) {
		return fmt.Errorf("abandon key: %w", err)
	}
	return nil
}

// Fail ends a claim whose request was not answered 202. The key is forgotten
// (Abandon) only if no attempt can have queued the request's message: this
// one did not try to send it (sent is false) and the claim did not resume an
// earlier attempt, which may have. Otherwise it is released (Release), and
// the retry resumes the request under the same request id.
func (k *Keys) Fail(ctx context.Context, c Claim, sent bool) error {
	if sent || c.Resumed {
		return k.Release(ctx, c)
	}
	return k.Abandon(ctx, c)
}
