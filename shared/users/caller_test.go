package users_test

import (
	"testing"

	"github.com/usersapi/usersapi/shared/users"
)

func TestCaller(t *testing.T) {
	alice := users.User{Owner: "alice"}
	tests := []struct {
		scopes                   string
		read, write, admin, owns bool
	}{
		{"", false, false, false, true},
		{"users.read", true, false, false, true},
		{"users.write", true, true, false, true},
		{"users.admin", true, true, true, true},
		{"profile users.readonly usersapi/users.read", false, false, false, true},
	}
	for _, tt := range tests {
		c := users.NewCaller("alice", tt.scopes)
		if c.CanRead() != tt.read || c.CanWrite() != tt.write || c.Admin() != tt.admin || c.Owns(alice) != tt.owns {
			t.Errorf("%q: read %v write %v admin %v owns %v", tt.scopes, c.CanRead(), c.CanWrite(), c.Admin(), c.Owns(alice))
		}
	}
	if users.NewCaller("bob", "users.write").Owns(alice) || !users.NewCaller("bob", "users.admin").Owns(alice) {
		t.Error("ownership across subjects")
	}
	if users.NewCaller("", "users.read").Owns(users.User{}) {
		t.Error("an empty subject owns an ownerless user")
	}
}
