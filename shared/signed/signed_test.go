package signed_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/shared/signed"
)

func key(t testing.TB, s string) signed.Key {
	k, err := signed.NewKey(strings.Repeat(s, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k := key(t, "k")
	tok := k.Seal("cursor", []byte(`{"id":"x"}`))
	got, err := k.Open("cursor", tok)
	if err != nil || !bytes.Equal(got, []byte(`{"id":"x"}`)) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := k.Open("request", tok); err == nil {
		t.Error("a cursor opened as a request id")
	}
	if _, err := key(t, "j").Open("cursor", tok); err == nil {
		t.Error("a token opened with another key")
	}
	for i := range tok {
		b := []byte(tok)
		b[i] ^= 1
		if _, err := k.Open("cursor", string(b)); err == nil {
			t.Fatalf("a token with byte %d changed still opens", i)
		}
	}
	for _, bad := range []string{"", "x", "!!!!", tok[:len(tok)-2], tok + "A"} {
		if _, err := k.Open("cursor", bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestNewKeyTooShort(t *testing.T) {
	if _, err := signed.NewKey("short"); err == nil {
		t.Fatal("a short key was accepted")
	}
}

func FuzzOpen(f *testing.F) {
	k := key(f, "k")
	f.Add(k.Seal("cursor", []byte("hello")))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := k.Open("cursor", tok)
		if err == nil && k.Seal("cursor", p) != tok {
			t.Fatalf("%q opened but does not seal back", tok)
		}
	})
}
