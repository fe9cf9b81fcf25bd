package dynamo_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/dynamo/dynamotest"
	"github.com/usersapi/usersapi/shared/idempotency"
	"github.com/usersapi/usersapi/shared/idempotency/idempotencytest"
	"github.com/usersapi/usersapi/shared/users"
)

// The Idempotency-Key protocol over Keys, in the template's idempotency table
// in DynamoDB Local: the contract suite that the store in memory passes too.
func TestKeys(t *testing.T) {
	idempotencytest.Run(t, func(t *testing.T) idempotency.Store {
		tables := dynamotest.Deploy(t)
		return dynamo.NewKeys(tables.Client, tables.Idempotency)
	})
}

// The items Keys writes, attribute by attribute, as items written before
// were: a claim, its answer, its release.
func TestKeysItems(t *testing.T) {
	tables := dynamotest.Deploy(t)
	ctx := context.Background()
	now := time.Now()
	keys := idempotency.New(dynamo.NewKeys(tables.Client, tables.Idempotency), func() time.Time { return now })
	n := func(v int64) string { return "N:" + strconv.FormatInt(v, 10) }
	key := "key-" + uuid.NewString()
	claim, err := keys.Begin(ctx, key, "fp", "req-1")
	if err != nil {
		t.Fatal(err)
	}
	claimed := map[string]string{"pk": "S:" + key, "fingerprint": "S:fp", "requestId": "S:req-1",
		"leaseUntil": n(now.Add(idempotency.Lease).UnixMilli()), "expiresAt": n(now.Add(idempotency.TTL).Unix())}
	if got := tables.Item(t, tables.Idempotency, key); fmt.Sprint(got) != fmt.Sprint(claimed) {
		t.Fatalf("claimed: %v, want %v", got, claimed)
	}
	if err := keys.Complete(ctx, claim, idempotency.Answer{Body: `{"requestId":"req-1"}`, Location: "/dev/requests/req-1"}); err != nil {
		t.Fatal(err)
	}
	claimed["answer"] = `S:{"body":"{\"requestId\":\"req-1\"}","location":"/dev/requests/req-1"}`
	if got := tables.Item(t, tables.Idempotency, key); fmt.Sprint(got) != fmt.Sprint(claimed) {
		t.Fatalf("answered: %v, want %v", got, claimed)
	}

	other := "key-" + uuid.NewString()
	if claim, err = keys.Begin(ctx, other, "fp", "req-2"); err != nil {
		t.Fatal(err)
	}
	if err := keys.Release(ctx, claim); err != nil {
		t.Fatal(err)
	}
	released := map[string]string{"pk": "S:" + other, "fingerprint": "S:fp", "requestId": "S:req-2",
		"leaseUntil": "N:0", "expiresAt": n(now.Add(idempotency.TTL).Unix())}
	if got := tables.Item(t, tables.Idempotency, other); fmt.Sprint(got) != fmt.Sprint(released) {
		t.Fatalf("released: %v, want %v", got, released)
	}
	// Resumed, the key's lease is set again.
	now = now.Add(time.Second)
	if claim, err = keys.Begin(ctx, other, "fp", "req-3"); err != nil || !claim.Resumed {
		t.Fatalf("resume: %+v %v", claim, err)
	}
	released["leaseUntil"] = n(now.Add(idempotency.Lease).UnixMilli())
	if got := tables.Item(t, tables.Idempotency, other); fmt.Sprint(got) != fmt.Sprint(released) {
		t.Fatalf("resumed: %v, want %v", got, released)
	}
}

// A key item written before keys were bound to request ids (no requestId,
// no leaseUntil) is in progress until it expires: its request may be queued
// under an id nobody knows, so nothing may be sent under another.
func TestKeysWrittenBeforeLeases(t *testing.T) {
	tables := dynamotest.Deploy(t)
	ctx := context.Background()
	now := time.Now()
	store := dynamo.NewKeys(tables.Client, tables.Idempotency)
	key := "key-" + uuid.NewString()
	tables.Put(t, tables.Idempotency, map[string]any{"pk": key, "fingerprint": "fp", "expiresAt": now.Add(time.Hour).Unix()})
	r, ok, err := store.Get(ctx, key)
	if want := (idempotency.Record{Key: key, Fingerprint: "fp", ExpiresAt: now.Add(time.Hour).Truncate(time.Second)}); !ok || err != nil || !idempotencytest.Equal(r, want) {
		t.Fatalf("read as %+v %v %v, want %+v", r, ok, err, want)
	}
	keys := idempotency.New(store, func() time.Time { return now })
	idempotencytest.WrittenBeforeLeases(t, keys, func(d time.Duration) { now = now.Add(d) }, key)
}

// An item that cannot be read as a key is in progress: nothing is sent under
// a key whose binding is unknown.
func TestKeysUnreadable(t *testing.T) {
	tables := dynamotest.Deploy(t)
	ctx := context.Background()
	key := "key-" + uuid.NewString()
	tables.Put(t, tables.Idempotency, map[string]any{"pk": key, "fingerprint": "fp", "leaseUntil": "soon", "expiresAt": time.Now().Add(time.Hour).Unix()})
	keys := idempotency.New(dynamo.NewKeys(tables.Client, tables.Idempotency), nil)
	if claim, err := keys.Begin(ctx, key, "fp", "req-1"); !users.IsKind(err, users.Conflict) {
		t.Fatalf("an unreadable key: %+v %v, want a conflict", claim, err)
	}
}
