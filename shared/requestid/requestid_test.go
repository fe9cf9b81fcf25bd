package requestid_test

import (
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/shared/requestid"
	"github.com/usersapi/usersapi/shared/signed"
	"github.com/usersapi/usersapi/shared/users"
)

func issuer(t testing.TB, secret string) *requestid.Issuer {
	k, err := signed.NewKey(strings.Repeat(secret, 32))
	if err != nil {
		t.Fatal(err)
	}
	return requestid.NewIssuer(k)
}

func TestIssueParse(t *testing.T) {
	is := issuer(t, "s")
	user := users.ID("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b")
	before := time.Now().Add(-time.Millisecond)
	for _, op := range []users.Op{users.Create, users.Replace, users.PatchOp, users.Delete} {
		id, claims, err := is.Issue(user, op, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if len(id) > 128 {
			t.Fatalf("id of %d characters is too long for an SQS deduplication id", len(id))
		}
		got, err := is.Parse(id)
		if err != nil {
			t.Fatalf("Parse(%q): %v", id, err)
		}
		if got.UserID != user || got.Op != op || got.ID != claims.ID || !got.AcceptedAt.Equal(claims.AcceptedAt) {
			t.Errorf("Parse = %+v, want %+v", got, claims)
		}
		if got.AcceptedAt.Before(before) || got.AcceptedAt.After(time.Now().Add(time.Millisecond)) {
			t.Errorf("acceptedAt %v is not now", got.AcceptedAt)
		}
		if !is.IssuedTo(got, "alice") || is.IssuedTo(got, "bob") || is.IssuedTo(got, "") {
			t.Error("IssuedTo does not tell callers apart")
		}
		if _, err := issuer(t, "t").Parse(id); err == nil {
			t.Error("an id parsed with another key")
		}
	}
	if _, err := is.Parse("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"); err == nil {
		t.Error("a made-up id parsed")
	}
}

func TestIssueRejectsBadInput(t *testing.T) {
	is := issuer(t, "s")
	if _, _, err := is.Issue("not-a-uuid", users.Create, ""); err == nil {
		t.Error("a bad user id was accepted")
	}
	if _, _, err := is.Issue("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", "upsert", ""); err == nil {
		t.Error("an unknown op was accepted")
	}
}
