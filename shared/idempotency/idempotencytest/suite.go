package idempotencytest

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/usersapi/usersapi/shared/idempotency"
	"github.com/usersapi/usersapi/shared/users"
)

// Run is the contract suite of an idempotency.Store: the protocol's rules, as
// idempotency.Keys applies them over the store, and the conditional writes
// they stand on. newStore returns the store a test runs over; tests use keys
// of their own, so one store (or one table) may serve them all.
func Run(t *testing.T, newStore func(t *testing.T) idempotency.Store) {
	tests := []struct {
		name string
		test func(t *testing.T, s idempotency.Store)
	}{
		{"conditional writes", testWrites},
		{"lease", testLease},
		{"written before leases", testWrittenBeforeLeases},
		{"gone", testGone},
		{"late complete", testLateComplete},
		{"fail", testFail},
		{"resume race", testResumeRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, newStore(t)) })
	}
}

// newKey returns a key no other test uses.
func newKey() string { return "key-" + rand.Text() }

// clock is a time that a test moves on by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// begin returns keys over s that read the time from the clock it returns,
// and a claim of a key of its own for req-1 (fingerprint "fp").
func begin(t *testing.T, s idempotency.Store) (*idempotency.Keys, *clock, string, idempotency.Claim) {
	t.Helper()
	c := &clock{now: time.Now()}
	keys := idempotency.New(s, c.Now)
	key := newKey()
	claim, err := keys.Begin(t.Context(), key, "fp", "req-1")
	if err != nil || claim.RequestID != "req-1" || claim.Resumed || claim.Answer != nil || claim.Lease.IsZero() {
		t.Fatalf("first claim: %+v %v", claim, err)
	}
	return keys, c, key, claim
}

// testWrites: the store keeps what it is given and writes only on its
// condition: Create where nothing is kept, Replace and Delete where the
// record kept is still the one expected; Replace never creates.
func testWrites(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	now := time.Now()
	r := idempotency.Record{Key: newKey(), Fingerprint: "fp", RequestID: "req-1",
		LeaseUntil: now.Truncate(time.Millisecond), ExpiresAt: now.Add(time.Hour).Truncate(time.Second)}
	if _, ok, err := s.Get(ctx, r.Key); ok || err != nil {
		t.Fatalf("a new key is kept already: %v %v", ok, err)
	}
	if err := s.Replace(ctx, r, r); !errors.Is(err, idempotency.ErrChanged) {
		t.Fatalf("replace of a missing record: %v, want ErrChanged", err)
	}
	if _, ok, _ := s.Get(ctx, r.Key); ok {
		t.Fatal("replace created a record")
	}
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Get(ctx, r.Key); !ok || err != nil || !Equal(got, r) {
		t.Fatalf("kept %+v %v %v, want %+v", got, ok, err, r)
	}
	if err := s.Create(ctx, r); !errors.Is(err, idempotency.ErrChanged) {
		t.Fatalf("create over a kept record: %v, want ErrChanged", err)
	}
	answered := r
	answered.Answer, answered.LeaseUntil = `{"body":"{}","location":"/x"}`, time.Time{}
	if err := s.Replace(ctx, r, answered); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Get(ctx, r.Key); !Equal(got, answered) {
		t.Fatalf("replaced by %+v, want %+v (a zero lease kept as zero)", got, answered)
	}
	for name, stale := range map[string]idempotency.Record{
		"the record replaced": r,
		"another request id":  with(answered, func(x *idempotency.Record) { x.RequestID = "req-2" }),
		"another lease":       with(answered, func(x *idempotency.Record) { x.LeaseUntil = r.LeaseUntil }),
		"another expiry":      with(answered, func(x *idempotency.Record) { x.ExpiresAt = x.ExpiresAt.Add(time.Second) }),
		"no answer":           with(answered, func(x *idempotency.Record) { x.Answer = "" }),
		"another fingerprint": with(answered, func(x *idempotency.Record) { x.Fingerprint = "other" }),
	} {
		if err := s.Replace(ctx, stale, r); !errors.Is(err, idempotency.ErrChanged) {
			t.Errorf("replace expecting %s: %v, want ErrChanged", name, err)
		}
		if err := s.Delete(ctx, stale); !errors.Is(err, idempotency.ErrChanged) {
			t.Errorf("delete expecting %s: %v, want ErrChanged", name, err)
		}
	}
	if got, _, _ := s.Get(ctx, r.Key); !Equal(got, answered) {
		t.Fatalf("failed writes changed the record: %+v", got)
	}
	if err := s.Delete(ctx, answered); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get(ctx, r.Key); ok {
		t.Fatal("deleted, still kept")
	}
	if err := s.Delete(ctx, answered); !errors.Is(err, idempotency.ErrChanged) {
		t.Fatalf("delete of a missing record: %v, want ErrChanged", err)
	}
	// A record without request id or lease (written before keys were bound)
	// is kept as such, and expected as such.
	old := idempotency.Record{Key: newKey(), Fingerprint: "fp", ExpiresAt: now.Add(time.Hour).Truncate(time.Second)}
	if err := s.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Get(ctx, old.Key); !Equal(got, old) {
		t.Fatalf("kept %+v, want %+v", got, old)
	}
	if err := s.Delete(ctx, old); err != nil {
		t.Fatal(err)
	}
}

func with(r idempotency.Record, change func(*idempotency.Record)) idempotency.Record {
	change(&r)
	return r
}

// testLease: a key is bound to its first request id; within the lease a retry
// gets a conflict, after it (or after a Release) the retry resumes that
// request id; an answer is replayed; Abandon forgets; another request with
// the key is refused; an attempt that outlived its lease changes nothing; an
// expired key is free; a key resumed just before it expires is not given away
// while the resuming attempt holds its lease.
func testLease(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	keys, c, key, first := begin(t, s)
	if again, err := keys.Begin(ctx, key, "fp", "req-1"); err != nil || !same(again, first) {
		t.Fatalf("the same attempt's claim, sent again by the store's client: %+v %v, want its own claim %+v", again, err, first)
	}
	if _, err := keys.Begin(ctx, key, "fp", "req-2"); !users.IsKind(err, users.Conflict) {
		t.Fatalf("within the lease: %v, want a conflict", err)
	}
	if _, err := keys.Begin(ctx, key, "other", "req-2"); !users.IsKind(err, users.KeyReused) {
		t.Fatalf("another request: %v, want key-reused", err)
	}

	c.now = c.now.Add(idempotency.Lease + time.Second)
	claim, err := keys.Begin(ctx, key, "fp", "req-3")
	if err != nil || claim.RequestID != "req-1" || !claim.Resumed {
		t.Fatalf("after the lease: %+v %v, want req-1 resumed", claim, err)
	}
	// The first attempt, outliving its lease, can no longer free the key.
	if err := keys.Abandon(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := keys.Release(ctx, first); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Begin(ctx, key, "fp", "req-4"); !users.IsKind(err, users.Conflict) {
		t.Fatalf("the resumed claim holds a new lease: %v", err)
	}
	if err := keys.Release(ctx, claim); err != nil {
		t.Fatal(err)
	}
	claim, err = keys.Begin(ctx, key, "fp", "req-5")
	if err != nil || claim.RequestID != "req-1" || !claim.Resumed {
		t.Fatalf("after a release: %+v %v, want req-1 resumed", claim, err)
	}

	answer := idempotency.Answer{Body: `{"requestId":"req-1"}`, Location: "/dev/requests/req-1"}
	if err := keys.Complete(ctx, claim, answer); err != nil {
		t.Fatal(err)
	}
	c.now = c.now.Add(idempotency.Lease + time.Second)
	answered, err := keys.Begin(ctx, key, "fp", "req-6")
	if err != nil || answered.RequestID != "req-1" || answered.Answer == nil || *answered.Answer != answer {
		t.Fatalf("answered: %+v %v", answered, err)
	}
	if err := keys.Release(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if err := keys.Abandon(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if claim, _ := keys.Begin(ctx, key, "fp", "req-7"); claim.Answer == nil || *claim.Answer != answer {
		t.Fatalf("release and abandon leave an answered key alone: %+v", claim)
	}

	// Abandoned, a key is free for a new request; expired, too.
	other := newKey()
	eight, err := keys.Begin(ctx, other, "fp", "req-8")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Abandon(ctx, eight); err != nil {
		t.Fatal(err)
	}
	if claim, err := keys.Begin(ctx, other, "new", "req-9"); err != nil || claim.RequestID != "req-9" || claim.Resumed {
		t.Fatalf("after abandon: %+v %v", claim, err)
	}
	c.now = c.now.Add(idempotency.TTL + time.Second)
	if claim, err := keys.Begin(ctx, key, "newer", "req-10"); err != nil || claim.RequestID != "req-10" || claim.Resumed {
		t.Fatalf("an expired key: %+v %v", claim, err)
	}
	// A key resumed just before it expires is not given away while the
	// resuming attempt holds its lease.
	third := newKey()
	if _, err := keys.Begin(ctx, third, "fp", "req-11"); err != nil {
		t.Fatal(err)
	}
	c.now = c.now.Add(idempotency.TTL - 10*time.Second)
	if claim, err := keys.Begin(ctx, third, "fp", "req-12"); err != nil || claim.RequestID != "req-11" || !claim.Resumed {
		t.Fatalf("resumed before expiry: %+v %v", claim, err)
	}
	// Its expiry is moved past the lease: a store's TTL, which knows nothing
	// of leases, does not forget it under the resuming attempt.
	if r, _, err := s.Get(ctx, third); err != nil || !r.ExpiresAt.After(r.LeaseUntil) {
		t.Fatalf("resumed before expiry: kept %+v %v, want it to expire after its lease", r, err)
	}
	c.now = c.now.Add(20 * time.Second)
	if _, err := keys.Begin(ctx, third, "other", "req-13"); !users.IsKind(err, users.KeyReused) {
		t.Fatalf("past the key's first expiry, within the lease: %v, want the key still bound (key-reused)", err)
	}
}

// same says whether two claims are one: the same request, lease and state.
func same(a, b idempotency.Claim) bool {
	return a.RequestID == b.RequestID && a.Resumed == b.Resumed && a.Lease.Equal(b.Lease) && (a.Answer == nil) == (b.Answer == nil)
}

// testWrittenBeforeLeases: a key written before keys were bound to request
// ids (no request id, no lease) is in progress until it expires: its request
// may be queued under an id nobody knows, so nothing may be sent under
// another.
func testWrittenBeforeLeases(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	c := &clock{now: time.Now()}
	keys := idempotency.New(s, c.Now)
	key := newKey()
	if err := s.Create(ctx, idempotency.Record{Key: key, Fingerprint: "fp", ExpiresAt: c.now.Add(time.Hour).Truncate(time.Second)}); err != nil {
		t.Fatal(err)
	}
	WrittenBeforeLeases(t, keys, func(d time.Duration) { c.now = c.now.Add(d) }, key)
}

// WrittenBeforeLeases checks that key, which a store holds as it was written
// before keys were bound to request ids (fingerprint "fp", no request id, no
// lease, expiring an hour after the time keys reads), is in progress until it
// expires, and then free. advance moves the time keys reads on.
func WrittenBeforeLeases(t *testing.T, keys *idempotency.Keys, advance func(time.Duration), key string) {
	t.Helper()
	ctx := t.Context()
	advance(10 * time.Minute)
	if claim, err := keys.Begin(ctx, key, "fp", "req-new"); !users.IsKind(err, users.Conflict) {
		t.Fatalf("an old in-progress key: %+v %v, want a conflict", claim, err)
	}
	advance(time.Hour)
	if claim, err := keys.Begin(ctx, key, "fp", "req-new"); err != nil || claim.RequestID != "req-new" || claim.Resumed {
		t.Fatalf("once expired: %+v %v, want a new claim", claim, err)
	}
}

// testGone: completing, releasing or abandoning a key that is gone creates
// nothing; nor does a claim that holds nothing.
func testGone(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	keys, _, key, c := begin(t, s)
	if err := keys.Abandon(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, claim := range []idempotency.Claim{c, {RequestID: "req-1"}} {
		for _, err := range []error{keys.Complete(ctx, claim, idempotency.Answer{Body: "{}"}), keys.Release(ctx, claim), keys.Abandon(ctx, claim),
			keys.Fail(ctx, claim, true), keys.Fail(ctx, claim, false)} {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if r, ok, err := s.Get(ctx, key); ok || err != nil {
		t.Fatalf("a missing key got a record: %+v %v", r, err)
	}
}

// testLateComplete: the answer belongs to the request, so an attempt whose
// lease another attempt at the same request took over may still record it;
// not once the key is bound to another request.
func testLateComplete(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	keys, c, key, first := begin(t, s)
	c.now = c.now.Add(idempotency.Lease + time.Second)
	if resumed, err := keys.Begin(ctx, key, "fp", "req-2"); err != nil || !resumed.Resumed {
		t.Fatalf("resume: %+v %v", resumed, err)
	}
	answer := idempotency.Answer{Body: `{"requestId":"req-1"}`, Location: "/dev/requests/req-1"}
	if err := keys.Complete(ctx, first, answer); err != nil {
		t.Fatal(err)
	}
	if got, err := keys.Begin(ctx, key, "fp", "req-3"); err != nil || got.Answer == nil || *got.Answer != answer {
		t.Fatalf("the first attempt's late answer: %+v %v", got, err)
	}

	// Expired and claimed afresh by another request, the key is not answered
	// by the old one.
	c.now = c.now.Add(idempotency.TTL + idempotency.Lease)
	fresh, err := keys.Begin(ctx, key, "other", "req-4")
	if err != nil || fresh.RequestID != "req-4" {
		t.Fatalf("an expired key: %+v %v", fresh, err)
	}
	if err := keys.Complete(ctx, first, idempotency.Answer{Body: "stale"}); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Begin(ctx, key, "other", "req-5"); !users.IsKind(err, users.Conflict) {
		t.Fatalf("a key another request's answer may not complete: %v, want it still in progress", err)
	}
}

// testFail: a failed request's key is forgotten if nothing can have been
// sent, and released (the retry resumes the same request) if this attempt
// tried to send, or resumed an attempt that may have.
func testFail(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	keys, _, key, claim := begin(t, s)
	if err := keys.Fail(ctx, claim, false); err != nil {
		t.Fatal(err)
	}
	if again, err := keys.Begin(ctx, key, "other", "req-2"); err != nil || again.RequestID != "req-2" || again.Resumed {
		t.Fatalf("after a failure before the send: %+v %v, want the key free", again, err)
	}

	keys, _, key, claim = begin(t, s)
	if err := keys.Fail(ctx, claim, true); err != nil {
		t.Fatal(err)
	}
	resumed, err := keys.Begin(ctx, key, "fp", "req-3")
	if err != nil || resumed.RequestID != "req-1" || !resumed.Resumed {
		t.Fatalf("after a failed send: %+v %v, want req-1 resumed at once", resumed, err)
	}
	if err := keys.Fail(ctx, resumed, false); err != nil {
		t.Fatal(err)
	}
	if again, err := keys.Begin(ctx, key, "fp", "req-4"); err != nil || again.RequestID != "req-1" || !again.Resumed {
		t.Fatalf("after a resumed request failed before its send: %+v %v, want req-1 resumed again", again, err)
	}
}

// testResumeRace: two or more retries that find the lease lapsed at once: one
// resumes, the others are told to wait.
func testResumeRace(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	keys := idempotency.New(s, nil)
	_, _, key, claim := begin(t, s)
	if err := keys.Release(ctx, claim); err != nil {
		t.Fatal(err)
	}
	results := make(chan error, 8)
	for range 8 {
		go func() {
			claim, err := keys.Begin(ctx, key, "fp", "req-x")
			if err == nil && claim.RequestID != "req-1" {
				t.Errorf("resumed %+v", claim)
			}
			results <- err
		}()
	}
	resumed := 0
	for range 8 {
		switch err := <-results; {
		case err == nil:
			resumed++
		case !users.IsKind(err, users.Conflict):
			t.Errorf("%v", err)
		}
	}
	if resumed != 1 {
		t.Fatalf("%d retries resumed the request, want 1", resumed)
	}
}
