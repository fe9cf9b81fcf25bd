package idempotency_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/shared/idempotency"
	"github.com/usersapi/usersapi/shared/idempotency/idempotencytest"
	"github.com/usersapi/usersapi/shared/users"
)

func TestParseKey(t *testing.T) {
	tests := []struct {
		header, want string
		ok           bool
	}{
		{"", "", true},
		{"  ", "", true},
		{`"abc"`, "abc", true},
		{`abc`, "abc", true},
		{` "abc" `, "abc", true},
		{`a!#$%&'()*+,-./:;<=>?@[]^_{|}~`, `a!#$%&'()*+,-./:;<=>?@[]^_{|}~`, true},
		{strings.Repeat("k", 255), strings.Repeat("k", 255), true},
		{`"` + strings.Repeat("k", 255) + `"`, strings.Repeat("k", 255), true},
		{`""`, "", false},
		{`"a b"`, "", false},
		{`a b`, "", false},
		{`"é"`, "", false},
		{`a\b`, "", false},
		{`a"b`, "", false},
		{strings.Repeat("k", 256), "", false},
	}
	for _, tt := range tests {
		got, err := idempotency.ParseKey(tt.header)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseKey(%q) = %q, %v; want %q, ok %v", tt.header, got, err, tt.want, tt.ok)
		}
		if err != nil && !users.IsKind(err, users.Invalid) {
			t.Errorf("ParseKey(%q): %v, want an Invalid error", tt.header, err)
		}
	}
}

// Keys and fingerprints are stored: their digests must not change, or every
// key remembered would be lost (and a retry would have a second effect).
func TestDigestsAreStable(t *testing.T) {
	if got, want := idempotency.Scope("abc", "apikey-1", "alice"), "ab826c27b78ced3fe9085ef006b244c59b9248453e808eb1fc6974c743ef8bbd"; got != want {
		t.Errorf("Scope = %s, want %s", got, want)
	}
	if got, want := idempotency.Fingerprint("POST", "/users", "", "application/json", `{"name":"Ada"}`), "fa1ec778e673d9a55cf7f02658d29deadda81824dda4313ad6fdac2dc3c59623"; got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
	// Each part is hashed apart: moving a boundary makes another digest.
	if idempotency.Fingerprint("ab", "c") == idempotency.Fingerprint("a", "bc") {
		t.Error("the parts' boundaries are not hashed")
	}
	if idempotency.Scope("k", "a", "b") == idempotency.Scope("k", "b", "a") {
		t.Error("the owner's parts are not hashed in order")
	}
}

// The answer is stored as JSON {"body","location"}: answers stored before
// must still be replayed.
func TestAnswerIsStoredAsJSON(t *testing.T) {
	ctx := context.Background()
	store := idempotencytest.NewMemory()
	keys := idempotency.New(store, nil)
	c, err := keys.Begin(ctx, "k", "fp", "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Complete(ctx, c, idempotency.Answer{Body: `{"requestId":"req-1"}`, Location: "/dev/requests/req-1"}); err != nil {
		t.Fatal(err)
	}
	r, _, _ := store.Get(ctx, "k")
	if want := `{"body":"{\"requestId\":\"req-1\"}","location":"/dev/requests/req-1"}`; r.Answer != want {
		t.Fatalf("stored %s, want %s", r.Answer, want)
	}
	// An answer that cannot be read is an error, not a replay.
	r2 := r
	r2.Answer = "not json"
	if err := store.Replace(ctx, r, r2); err != nil {
		t.Fatal(err)
	}
	if c, err := keys.Begin(ctx, "k", "fp", "req-2"); err == nil || users.KindOf(err) != users.Internal {
		t.Fatalf("an unreadable answer: %+v %v, want an internal error", c, err)
	}
}

func ExampleKeys() {
	ctx := context.Background()
	keys := idempotency.New(idempotencytest.NewMemory(), nil)
	key, _ := idempotency.ParseKey(`"order-42"`)
	key = idempotency.Scope(key, "api-key", "alice")
	fp := idempotency.Fingerprint("POST", "/users", `{"name":"Ada"}`)

	claim, _ := keys.Begin(ctx, key, fp, "req-1")
	// ... send the request under claim.RequestID, then:
	_ = keys.Complete(ctx, claim, idempotency.Answer{Body: `{"requestId":"req-1"}`, Location: "/requests/req-1"})

	retry, _ := keys.Begin(ctx, key, fp, "req-2")
	fmt.Println(retry.RequestID, retry.Answer.Location)
	_, err := keys.Begin(ctx, key, idempotency.Fingerprint("POST", "/users", `{"name":"Grace"}`), "req-3")
	fmt.Println(users.KindOf(err))
	// Output:
	// req-1 /requests/req-1
	// idempotency-key-reused
}
