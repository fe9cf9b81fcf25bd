package dynamo_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/users"
)

// TestDeleteErases: once a delete is applied, no item of any table holds the
// user's name, email or phone, the tombstone keeps only what the contract
// needs, and the failure of another user's write that wanted the email does
// not name it.
func TestDeleteErases(t *testing.T) {
	tb, tables := table(t)
	ctx := context.Background()
	mark := strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	name, email, phone := "Erasable "+mark, "erase-"+mark+"@example.com", "55"+digits(mark)

	id := newID(t)
	c := create(id, email)
	c.Input = users.Input{Name: name, Email: email, Phone: phone, Age: 41}
	apply(t, tb, c)
	patch := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.PatchOp, UserID: id, Owner: "alice", AcceptedAt: time.Now(),
		Patch: users.Patch{Name: ptr(name + " Jr")}}
	apply(t, tb, patch)

	// Another user asks for the email: its failure is recorded, naming the field only.
	other := newID(t)
	apply(t, tb, create(other, uniqueEmail("other")))
	steal := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.PatchOp, UserID: other, Owner: "alice", AcceptedAt: time.Now(),
		Patch: users.Patch{Email: ptr(strings.ToUpper(email))}}
	r := apply(t, tb, steal)
	if r.Status != users.Failed || r.Error.Kind != users.EmailTaken || len(r.Error.Fields) != 1 || r.Error.Fields[0].Field != "email" {
		t.Fatalf("taking another's email: %+v", r)
	}
	if rec, ok, err := tb.Request(ctx, steal.RequestID); err != nil || !ok || rec.Error.Kind != users.EmailTaken || rec.Error.Fields[0].Field != "email" {
		t.Fatalf("recorded %+v %v %v", rec, ok, err)
	}

	del := users.Command{RequestID: "req-" + uuid.NewString(), Op: users.Delete, UserID: id, Owner: "alice", AcceptedAt: time.Now()}
	if r := apply(t, tb, del); r.Status != users.Succeeded || r.Version != 3 {
		t.Fatalf("delete: %+v", r)
	}

	for _, tbl := range []string{tables.Users, tables.Requests, tables.Idempotency} {
		for _, item := range tables.Items(t, tbl) {
			b, err := json.Marshal(item)
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.ToLower(string(b)); strings.Contains(s, strings.ToLower(mark)) || strings.Contains(s, phone) {
				t.Errorf("%s holds the erased user's data: %s", tbl, b)
			}
		}
	}
	stone := tables.Item(t, tables.Users, "USER#"+string(id))
	want := []string{"acceptedAt", "createdAt", "deleted", "expiresAt", "id", "lastRequestId", "owner", "pk", "updatedAt", "version"}
	if got := slices.Sorted(maps.Keys(stone)); !slices.Equal(got, want) {
		t.Errorf("the tombstone has %v, want %v", got, want)
	}
	if stone["version"] != "N:3" || stone["deleted"] != "BOOL:true" || stone["owner"] != "S:alice" {
		t.Errorf("tombstone %v", stone)
	}
	// The email is free again.
	if r := apply(t, tb, create(newID(t), email)); r.Status != users.Succeeded {
		t.Fatalf("create with the erased user's email: %+v", r)
	}
}

// digits turns a hex string into as many decimal digits, eight of them.
func digits(hex string) string {
	var b strings.Builder
	for _, r := range hex[:8] {
		b.WriteByte(byte('0' + int(r)%10))
	}
	return b.String()
}
