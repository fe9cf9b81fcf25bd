package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/dynamo/dynamotest"
	"github.com/usersapi/usersapi/shared/users"
)

// table returns a Table over the template's tables in DynamoDB Local, and the
// tables.
func table(t *testing.T) (*dynamo.Table, dynamotest.Tables) {
	t.Helper()
	tables := dynamotest.Deploy(t)
	return dynamo.NewTable(tables.Client, tables.Users, tables.Requests), tables
}

func newID(t testing.TB) users.ID {
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return users.ID(id.String())
}

func create(id users.ID, email string) users.Command {
	return users.Command{RequestID: "req-" + uuid.NewString(), Op: users.Create, UserID: id, AcceptedAt: time.Now(), Owner: "alice",
		Input: users.Input{Name: "Ada", Email: email, Phone: "5551234567", Age: 36}}
}

func apply(t *testing.T, tb *dynamo.Table, cmd users.Command) users.Request {
	t.Helper()
	r, err := tb.Apply(context.Background(), cmd)
	if err != nil {
		t.Fatalf("apply %s: %v", cmd.Op, err)
	}
	return r
}

func uniqueEmail(prefix string) string {
	return fmt.Sprintf("%s-%s@example.com", prefix, uuid.NewString()[:8])
}

func TestLifecycle(t *testing.T) {
	tb, _ := table(t)
	ctx := context.Background()
	id := newID(t)
	email := uniqueEmail("Ada")

	c := create(id, email)
	if r := apply(t, tb, c); r.Status != users.Succeeded || r.Version != 1 {
		t.Fatalf("create: %+v", r)
	}
	// A redelivered command changes nothing and reports the first outcome.
	if r := apply(t, tb, c); r.Status != users.Succeeded || r.Version != 1 {
		t.Fatalf("redelivered create: %+v", r)
	}
	u, err := tb.Get(ctx, id)
	if err != nil || u.Version != 1 || u.Email != email || u.Owner != "alice" || u.Age != 36 {
		t.Fatalf("get: %+v, %v", u, err)
	}

	patch := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.PatchOp, UserID: id, Owner: "alice", AcceptedAt: time.Now(), IfMatch: 1,
		Patch: users.Patch{Phone: new(string), Age: ptr(37)}}
	if r := apply(t, tb, patch); r.Status != users.Succeeded || r.Version != 2 {
		t.Fatalf("patch: %+v", r)
	}
	if r := apply(t, tb, patch); r.Version != 2 {
		t.Fatalf("redelivered patch: %+v", r)
	}
	u, _ = tb.Get(ctx, id)
	if u.Version != 2 || u.Phone != "" || u.Age != 37 {
		t.Fatalf("after patch: %+v", u)
	}

	stale := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.Replace, UserID: id, Owner: "alice", AcceptedAt: time.Now(), IfMatch: 1,
		Input: users.Input{Name: "Grace", Email: email}}
	if r := apply(t, tb, stale); r.Status != users.Failed || r.Error == nil || r.Error.Kind != users.PreconditionFailed {
		t.Fatalf("stale If-Match: %+v", r)
	}
	if rec, ok, err := tb.Request(ctx, stale.RequestID); err != nil || !ok || rec.Status != users.Failed || rec.Error.Kind != users.PreconditionFailed || rec.CompletedAt.IsZero() {
		t.Fatalf("recorded %+v %v %v", rec, ok, err)
	}

	bob := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.PatchOp, UserID: id, AcceptedAt: time.Now(), Owner: "bob", Patch: users.Patch{Age: ptr(50)}}
	if r := apply(t, tb, bob); r.Status != users.Failed || r.Error.Kind != users.Forbidden {
		t.Fatalf("another owner's patch: %+v", r)
	}
	admin := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.PatchOp, UserID: id, AcceptedAt: time.Now(), Owner: "root", Admin: true, Patch: users.Patch{Age: ptr(38)}}
	if r := apply(t, tb, admin); r.Status != users.Succeeded || r.Version != 3 {
		t.Fatalf("an admin's patch: %+v", r)
	}
	if u, _ := tb.Get(ctx, id); u.Owner != "alice" || u.Age != 38 {
		t.Fatalf("after the admin's patch: %+v", u)
	}
	del := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.Delete, UserID: id, Owner: "alice", AcceptedAt: time.Now()}
	if r := apply(t, tb, del); r.Status != users.Succeeded || r.Version != 4 {
		t.Fatalf("delete: %+v", r)
	}
	if _, err := tb.Get(ctx, id); !users.IsKind(err, users.NotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	again := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.PatchOp, UserID: id, Owner: "alice", AcceptedAt: time.Now(), Patch: users.Patch{Age: ptr(40)}}
	if r := apply(t, tb, again); r.Status != users.Failed || r.Error.Kind != users.NotFound {
		t.Fatalf("patch after delete: %+v", r)
	}
	// The delete freed the email.
	if r := apply(t, tb, create(newID(t), email)); r.Status != users.Succeeded {
		t.Fatalf("create with a freed email: %+v", r)
	}
}

func ptr[T any](v T) *T { return &v }

func TestEmailUniqueness(t *testing.T) {
	tb, tables := table(t)
	email := uniqueEmail("race")
	var wg sync.WaitGroup
	results := make([]users.Request, 20)
	errs := make([]error, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = tb.Apply(context.Background(), create(newID(t), email))
		}()
	}
	wg.Wait()
	won, taken := 0, 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		switch {
		case r.Status == users.Succeeded:
			won++
		case r.Error != nil && r.Error.Kind == users.EmailTaken:
			taken++
		}
	}
	if won != 1 || taken != 19 {
		t.Fatalf("%d won, %d email-taken; want 1 and 19", won, taken)
	}
	// Re-casing one's own email is no conflict; another user's email in any case is.
	var winner users.ID
	for _, r := range results {
		if r.Status == users.Succeeded {
			winner = r.UserID
		}
	}
	recase := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.PatchOp, UserID: winner, Owner: "alice", AcceptedAt: time.Now(), Patch: users.Patch{Email: ptr(upper(email))}}
	if r := apply(t, tb, recase); r.Status != users.Succeeded {
		t.Fatalf("re-casing: %+v", r)
	}
	other := newID(t)
	apply(t, tb, create(other, uniqueEmail("other")))
	steal := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.PatchOp, UserID: other, Owner: "alice", AcceptedAt: time.Now(), Patch: users.Patch{Email: ptr(email)}}
	if r := apply(t, tb, steal); r.Status != users.Failed || r.Error.Kind != users.EmailTaken {
		t.Fatalf("taking another's email: %+v", r)
	}
	// Exactly one sentinel for the email, and it names the winner.
	if got := tables.Item(t, tables.Users, "EMAIL#"+users.EmailKey(email)); got["userId"] != "S:"+string(winner) {
		t.Fatalf("sentinel %v, want one naming %s", got, winner)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestListPages(t *testing.T) {
	tb, _ := table(t)
	ctx := context.Background()
	var made []users.ID
	for range 5 {
		id := newID(t)
		apply(t, tb, create(id, uniqueEmail("page")))
		made = append(made, id)
	}
	var seen []users.ID
	var next []byte
	for pages := 0; pages < 1000; pages++ {
		p, err := tb.List(ctx, 2, next)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > 2 {
			t.Fatalf("page of %d", len(p.Items))
		}
		for _, u := range p.Items {
			seen = append(seen, u.ID)
		}
		if p.Next == nil {
			break
		}
		next = p.Next
	}
	if !slices.IsSorted(seen) {
		t.Error("listing is not in id (creation) order")
	}
	for _, id := range made {
		if !slices.Contains(seen, id) {
			t.Errorf("user %s not listed", id)
		}
	}
	if _, err := tb.List(ctx, 2, []byte(`{"pk":"x"}`)); !users.IsKind(err, users.Invalid) {
		t.Errorf("a forged position: %v", err)
	}
}

// A create whose user exists under another request is refused as a conflict, and recorded.
func TestCreateOfExistingUser(t *testing.T) {
	tb, _ := table(t)
	id := newID(t)
	if r := apply(t, tb, create(id, uniqueEmail("first"))); r.Status != users.Succeeded {
		t.Fatalf("create: %+v", r)
	}
	again := create(id, uniqueEmail("again"))
	if r := apply(t, tb, again); r.Status != users.Failed || r.Error == nil || r.Error.Kind != users.Conflict {
		t.Fatalf("second create of %s: %+v", id, r)
	}
	if r := apply(t, tb, again); r.Status != users.Failed || r.Error.Kind != users.Conflict {
		t.Fatalf("redelivered second create: %+v", r)
	}
}
