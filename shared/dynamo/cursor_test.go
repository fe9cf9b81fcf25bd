package dynamo

import (
	"bytes"
	"testing"

	"github.com/usersapi/usersapi/shared/users"
)

func TestPosition(t *testing.T) {
	const id = users.ID("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b")
	b, err := encodePosition(id)
	if err != nil || len(b) != 17 {
		t.Fatalf("encodePosition: %x %v", b, err)
	}
	// Opaque: no key names, not even the id's text.
	for _, s := range []string{"pk", "listPk", "users", "USER#", string(id), "0193a4b2"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("position %q shows %q", b, s)
		}
	}
	if got, err := decodePosition(b); err != nil || got != string(id) {
		t.Fatalf("decodePosition: %q %v", got, err)
	}
	if got, err := decodePosition(nil); err != nil || got != "" {
		t.Fatalf("no position: %q %v", got, err)
	}
	for _, bad := range [][]byte{{}, b[:16], append(b, 0), append([]byte{2}, b[1:]...),
		[]byte(`{"pk":"USER#0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b","id":"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b","listPk":"users"}`)} {
		if _, err := decodePosition(bad); !users.IsKind(err, users.Invalid) {
			t.Errorf("decodePosition(%q): %v, want invalid", bad, err)
		}
	}
	if _, err := encodePosition("not-a-uuid"); err == nil {
		t.Error("encodePosition accepted a non-UUID id")
	}
}

// FuzzPosition: no position makes decoding panic, and what it accepts
// encodes back to itself.
func FuzzPosition(f *testing.F) {
	good, _ := encodePosition("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b")
	f.Add(good)
	f.Add([]byte(`{"pk":"USER#a","id":"a","listPk":"users"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := decodePosition(b)
		if err != nil || b == nil {
			return
		}
		back, err := encodePosition(users.ID(id))
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("accepted %x as %s, which encodes to %x (%v)", b, id, back, err)
		}
	})
}
