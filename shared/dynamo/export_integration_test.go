package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/users"
)

// TestExport: an export holds the live user and its request history, oldest
// first, failures included; after a delete, the tombstone and the history;
// of an id never used, nothing.
func TestExport(t *testing.T) {
	tb, _ := table(t)
	ctx := context.Background()
	id := newID(t)
	c := create(id, uniqueEmail("export"))
	c.AcceptedAt = time.Now().Add(-time.Minute)
	apply(t, tb, c)
	stale := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.PatchOp, UserID: id, Owner: "alice", AcceptedAt: time.Now().Add(-30 * time.Second),
		IfMatch: 7, Patch: users.Patch{Age: ptr(40)}}
	apply(t, tb, stale)
	// Another user's request is not in this one's export.
	apply(t, tb, create(newID(t), uniqueEmail("bystander")))

	e, err := tb.Export(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if e.User == nil || e.User.Version != 1 || e.User.Owner != "alice" || e.Tombstone != nil || e.Truncated {
		t.Fatalf("export of a live user: %+v", e)
	}
	if len(e.Requests) != 2 || e.Requests[0].ID != c.RequestID || e.Requests[0].Status != users.Succeeded ||
		e.Requests[1].ID != stale.RequestID || e.Requests[1].Error == nil || e.Requests[1].Error.Kind != users.PreconditionFailed {
		t.Fatalf("requests %+v", e.Requests)
	}

	del := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.Delete, UserID: id, Owner: "alice", AcceptedAt: time.Now()}
	apply(t, tb, del)
	e, err = tb.Export(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if e.User != nil || e.Tombstone == nil || e.Tombstone.Version != 2 || e.Tombstone.Owner != "alice" || e.Tombstone.DeletedAt.IsZero() ||
		len(e.Requests) != 3 || e.Requests[2].ID != del.RequestID {
		t.Fatalf("export of a deleted user: %+v", e)
	}

	if e, err := tb.Export(ctx, newID(t)); err != nil || !e.Empty() {
		t.Fatalf("export of an unknown id: %+v, %v", e, err)
	}
}
