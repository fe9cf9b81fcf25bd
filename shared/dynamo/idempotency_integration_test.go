package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/users"
)

// keyTable returns Keys over the template's idempotency table in DynamoDB
// Local, the client and the table's name.
func keyTable(t *testing.T) (*dynamo.Keys, *dynamodb.Client, string) {
	t.Helper()
	_, db, st := table(t)
	name := st.Resources["IdempotencyTable"].Name
	return dynamo.NewKeys(db, name), db, name
}

// Keys against DynamoDB Local: a key is bound to its first request id; within
// the lease a retry gets 409, after it (or after a Release) the retry resumes
// that request id; an answer is replayed; Abandon forgets; another request
// with the key is refused.
func TestKeys(t *testing.T) {
	keys, _, _ := keyTable(t)
	ctx := context.Background()
	now := time.Now()
	dynamo.SetClock(keys, func() time.Time { return now })
	key := "key-" + uuid.NewString()

	first, err := keys.Begin(ctx, key, "fp", "req-1")
	if err != nil || first.RequestID != "req-1" || first.Resumed || first.Answer != "" {
		t.Fatalf("first claim: %+v %v", first, err)
	}
	if again, err := keys.Begin(ctx, key, "fp", "req-1"); err != nil || again != first {
		t.Fatalf("the same attempt's put, sent again by the SDK: %+v %v, want its own claim %+v", again, err, first)
	}
	if _, err := keys.Begin(ctx, key, "fp", "req-2"); !users.IsKind(err, users.Conflict) {
		t.Fatalf("within the lease: %v, want a conflict", err)
	}
	if _, err := keys.Begin(ctx, key, "other", "req-2"); !users.IsKind(err, users.KeyReused) {
		t.Fatalf("another request: %v, want key-reused", err)
	}

	now = now.Add(dynamo.KeyLease + time.Second)
	claim, err := keys.Begin(ctx, key, "fp", "req-3")
	if err != nil || claim.RequestID != "req-1" || !claim.Resumed {
		t.Fatalf("after the lease: %+v %v, want req-1 resumed", claim, err)
	}
	// The first attempt, outliving its lease, can no longer free the key.
	if err := keys.Abandon(ctx, key, first); err != nil {
		t.Fatal(err)
	}
	if err := keys.Release(ctx, key, first); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Begin(ctx, key, "fp", "req-4"); !users.IsKind(err, users.Conflict) {
		t.Fatalf("the resumed claim holds a new lease: %v", err)
	}
	if err := keys.Release(ctx, key, claim); err != nil {
		t.Fatal(err)
	}
	claim, err = keys.Begin(ctx, key, "fp", "req-5")
	if err != nil || claim.RequestID != "req-1" || !claim.Resumed {
		t.Fatalf("after a release: %+v %v, want req-1 resumed", claim, err)
	}

	if err := keys.Complete(ctx, key, claim, "the answer"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(dynamo.KeyLease + time.Second)
	answered, err := keys.Begin(ctx, key, "fp", "req-6")
	if err != nil || answered.RequestID != "req-1" || answered.Answer != "the answer" {
		t.Fatalf("answered: %+v %v", answered, err)
	}
	if err := keys.Release(ctx, key, claim); err != nil {
		t.Fatal(err)
	}
	if err := keys.Abandon(ctx, key, claim); err != nil {
		t.Fatal(err)
	}
	if claim, _ := keys.Begin(ctx, key, "fp", "req-7"); claim.Answer != "the answer" {
		t.Fatalf("release and abandon leave an answered key alone: %+v", claim)
	}

	// Abandoned, a key is free for a new request; expired, too.
	other := "key-" + uuid.NewString()
	eight, err := keys.Begin(ctx, other, "fp", "req-8")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Abandon(ctx, other, eight); err != nil {
		t.Fatal(err)
	}
	if claim, err := keys.Begin(ctx, other, "new", "req-9"); err != nil || claim.RequestID != "req-9" || claim.Resumed {
		t.Fatalf("after abandon: %+v %v", claim, err)
	}
	now = now.Add(dynamo.IdempotencyTTL + time.Second)
	if claim, err := keys.Begin(ctx, key, "newer", "req-10"); err != nil || claim.RequestID != "req-10" || claim.Resumed {
		t.Fatalf("an expired key: %+v %v", claim, err)
	}
	// A key resumed just before it expires is not given away while the
	// resuming attempt holds its lease.
	third := "key-" + uuid.NewString()
	if _, err := keys.Begin(ctx, third, "fp", "req-11"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(dynamo.IdempotencyTTL - 10*time.Second)
	if claim, err := keys.Begin(ctx, third, "fp", "req-12"); err != nil || claim.RequestID != "req-11" || !claim.Resumed {
		t.Fatalf("resumed before expiry: %+v %v", claim, err)
	}
	now = now.Add(20 * time.Second)
	if _, err := keys.Begin(ctx, third, "other", "req-13"); !users.IsKind(err, users.KeyReused) {
		t.Fatalf("past the key's first expiry, within the lease: %v, want the key still bound (key-reused)", err)
	}
}

// A key item written before keys were bound to request ids (no requestId,
// no leaseUntil) is in progress until it expires: its request may be queued
// under an id nobody knows, so nothing may be sent under another.
func TestKeysWrittenBeforeLeases(t *testing.T) {
	keys, db, name := keyTable(t)
	ctx := context.Background()
	now := time.Now()
	dynamo.SetClock(keys, func() time.Time { return now })
	key := "key-" + uuid.NewString()
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: key}, "fingerprint": &ddbtypes.AttributeValueMemberS{Value: "fp"},
		"expiresAt": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(now.Add(time.Hour).Unix())}}})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Minute)
	if claim, err := keys.Begin(ctx, key, "fp", "req-new"); !users.IsKind(err, users.Conflict) {
		t.Fatalf("an old in-progress key: %+v %v, want a conflict", claim, err)
	}
	now = now.Add(time.Hour)
	if claim, err := keys.Begin(ctx, key, "fp", "req-new"); err != nil || claim.RequestID != "req-new" || claim.Resumed {
		t.Fatalf("once expired: %+v %v, want a new claim", claim, err)
	}
}

// Completing, releasing or abandoning a key that is gone creates nothing.
func TestKeysGone(t *testing.T) {
	keys, db, name := keyTable(t)
	ctx := context.Background()
	key := "key-" + uuid.NewString()
	c := dynamo.Claim{RequestID: "req-1", Lease: 1}
	for _, err := range []error{keys.Complete(ctx, key, c, "answer"), keys.Release(ctx, key, c), keys.Abandon(ctx, key, c)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(name), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: key}}})
	if err != nil || out.Item != nil {
		t.Fatalf("a missing key got an item: %v %v", out.Item, err)
	}
}

// Two retries that find the lease lapsed at once: one resumes, the other is
// told to wait.
func TestKeysResumeRace(t *testing.T) {
	keys, _, _ := keyTable(t)
	ctx := context.Background()
	key := "key-" + uuid.NewString()
	claim, err := keys.Begin(ctx, key, "fp", "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Release(ctx, key, claim); err != nil {
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
