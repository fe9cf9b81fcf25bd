package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/users"
)

// Keys against DynamoDB Local: a key is bound to its first request id; within
// the lease a retry gets 409, after it (or after a Release) the retry resumes
// that request id; an answer is replayed; Abandon forgets; another request
// with the key is refused.
func TestKeys(t *testing.T) {
	_, db, st := table(t)
	ctx := context.Background()
	keys := dynamo.NewKeys(db, st.Resources["IdempotencyTable"].Name)
	now := time.Now()
	dynamo.SetClock(keys, func() time.Time { return now })
	key := "key-" + uuid.NewString()

	claim, err := keys.Begin(ctx, key, "fp", "req-1")
	if err != nil || claim != (dynamo.Claim{RequestID: "req-1"}) {
		t.Fatalf("first claim: %+v %v", claim, err)
	}
	if _, err := keys.Begin(ctx, key, "fp", "req-2"); !users.IsKind(err, users.Conflict) {
		t.Fatalf("within the lease: %v, want a conflict", err)
	}
	if _, err := keys.Begin(ctx, key, "other", "req-2"); !users.IsKind(err, users.KeyReused) {
		t.Fatalf("another request: %v, want key-reused", err)
	}

	now = now.Add(dynamo.KeyLease + time.Second)
	claim, err = keys.Begin(ctx, key, "fp", "req-3")
	if err != nil || claim != (dynamo.Claim{RequestID: "req-1", Resumed: true}) {
		t.Fatalf("after the lease: %+v %v, want req-1 resumed", claim, err)
	}
	if _, err := keys.Begin(ctx, key, "fp", "req-4"); !users.IsKind(err, users.Conflict) {
		t.Fatalf("the resumed claim holds a new lease: %v", err)
	}
	if err := keys.Release(ctx, key); err != nil {
		t.Fatal(err)
	}
	claim, err = keys.Begin(ctx, key, "fp", "req-5")
	if err != nil || claim != (dynamo.Claim{RequestID: "req-1", Resumed: true}) {
		t.Fatalf("after a release: %+v %v, want req-1 resumed", claim, err)
	}

	if err := keys.Complete(ctx, key, "the answer"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(dynamo.KeyLease + time.Second)
	claim, err = keys.Begin(ctx, key, "fp", "req-6")
	if err != nil || claim != (dynamo.Claim{RequestID: "req-1", Answer: "the answer"}) {
		t.Fatalf("answered: %+v %v", claim, err)
	}
	if err := keys.Release(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := keys.Abandon(ctx, key); err != nil {
		t.Fatal(err)
	}
	if claim, _ := keys.Begin(ctx, key, "fp", "req-7"); claim.Answer != "the answer" {
		t.Fatalf("release and abandon leave an answered key alone: %+v", claim)
	}

	// Abandoned, a key is free for a new request; expired, too.
	other := "key-" + uuid.NewString()
	if _, err := keys.Begin(ctx, other, "fp", "req-8"); err != nil {
		t.Fatal(err)
	}
	if err := keys.Abandon(ctx, other); err != nil {
		t.Fatal(err)
	}
	if claim, err := keys.Begin(ctx, other, "new", "req-9"); err != nil || claim != (dynamo.Claim{RequestID: "req-9"}) {
		t.Fatalf("after abandon: %+v %v", claim, err)
	}
	now = now.Add(dynamo.IdempotencyTTL + time.Second)
	if claim, err := keys.Begin(ctx, key, "newer", "req-10"); err != nil || claim != (dynamo.Claim{RequestID: "req-10"}) {
		t.Fatalf("an expired key: %+v %v", claim, err)
	}
}

// Two retries that find the lease lapsed at once: one resumes, the other is
// told to wait.
func TestKeysResumeRace(t *testing.T) {
	_, db, st := table(t)
	ctx := context.Background()
	keys := dynamo.NewKeys(db, st.Resources["IdempotencyTable"].Name)
	key := "key-" + uuid.NewString()
	if _, err := keys.Begin(ctx, key, "fp", "req-1"); err != nil {
		t.Fatal(err)
	}
	if err := keys.Release(ctx, key); err != nil {
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
