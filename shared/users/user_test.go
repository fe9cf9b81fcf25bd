package users_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/shared/users"
)

func TestInputValidate(t *testing.T) {
	ok := users.Input{Name: "Ada Lovelace", Email: "ada@example.com", Phone: "5551234567", Age: 36}
	tests := []struct {
		name   string
		edit   func(*users.Input)
		fields []string // the fields refused; none means valid
	}{
		{"valid", func(*users.Input) {}, nil},
		{"optional fields absent", func(in *users.Input) { in.Phone, in.Age = "", 0 }, nil},
		{"name of 100 characters", func(in *users.Input) { in.Name = strings.Repeat("a", 100) }, nil},
		{"name of 101 characters", func(in *users.Input) { in.Name = strings.Repeat("a", 101) }, []string{"name"}},
		{"name of 100 multibyte characters", func(in *users.Input) { in.Name = strings.Repeat("é", 100) }, nil},
		{"name of 100 emoji (400 bytes)", func(in *users.Input) { in.Name = strings.Repeat("😀", 100) }, nil},
		{"name of 101 multibyte characters", func(in *users.Input) { in.Name = strings.Repeat("日", 101) }, []string{"name"}},
		{"empty name", func(in *users.Input) { in.Name = "" }, []string{"name"}},
		{"name of spaces", func(in *users.Input) { in.Name = "   " }, []string{"name"}},
		{"name of Unicode white space", func(in *users.Input) { in.Name = "\u00a0\u2003\u3000\t" }, []string{"name"}},
		{"name with surrounding spaces kept", func(in *users.Input) { in.Name = "  Ada  " }, nil},
		{"name with HTML and quotes", func(in *users.Input) { in.Name = `<b>"Ada"</b> & 'co'` }, nil},
		{"name with control characters", func(in *users.Input) { in.Name = "Ada\x00\x1f" }, []string{"name"}},
		{"name not UTF-8", func(in *users.Input) { in.Name = "\xff\xfe" }, []string{"name"}},
		{"phone of 9 digits", func(in *users.Input) { in.Phone = "555123456" }, []string{"phone"}},
		{"phone of 11 digits", func(in *users.Input) { in.Phone = "55512345678" }, []string{"phone"}},
		{"phone with a dash", func(in *users.Input) { in.Phone = "555-123456" }, []string{"phone"}},
		{"phone of Arabic-Indic digits", func(in *users.Input) { in.Phone = "٠١٢٣٤٥٦٧٨٩" }, []string{"phone"}},
		{"phone with trailing newline", func(in *users.Input) { in.Phone = "5551234567\n" }, []string{"phone"}},
		{"age 17", func(in *users.Input) { in.Age = 17 }, []string{"age"}},
		{"age 18", func(in *users.Input) { in.Age = 18 }, nil},
		{"age 120", func(in *users.Input) { in.Age = 120 }, nil},
		{"age 121", func(in *users.Input) { in.Age = 121 }, []string{"age"}},
		{"age negative", func(in *users.Input) { in.Age = -1 }, []string{"age"}},
		{"email without at", func(in *users.Input) { in.Email = "ada.example.com" }, []string{"email"}},
		{"email with display name", func(in *users.Input) { in.Email = "Ada <ada@example.com>" }, []string{"email"}},
		{"email with angle brackets", func(in *users.Input) { in.Email = "<ada@example.com>" }, []string{"email"}},
		{"email without dot in domain", func(in *users.Input) { in.Email = "ada@localhost" }, []string{"email"}},
		{"email with spaces", func(in *users.Input) { in.Email = " ada@example.com" }, []string{"email"}},
		{"email mixed case", func(in *users.Input) { in.Email = "Ada.Lovelace@Example.COM" }, nil},
		{"email plus tag", func(in *users.Input) { in.Email = "ada+test@example.co.uk" }, nil},
		{"email of 254 characters", func(in *users.Input) {
			in.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com"
		}, nil},
		{"email of 255 characters", func(in *users.Input) {
			in.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + ".com"
		}, []string{"email"}},
		{"email local part of 65", func(in *users.Input) { in.Email = strings.Repeat("a", 65) + "@example.com" }, []string{"email"}},
		{"empty email", func(in *users.Input) { in.Email = "" }, []string{"email"}},
		{"several fields", func(in *users.Input) { in.Name, in.Age = "", 200 }, []string{"name", "age"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			err := in.Validate()
			if got := refused(t, err); strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("refused %v, want %v (err %v)", got, tt.fields, err)
			}
		})
	}
}

func refused(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *users.Error
	if !errors.As(err, &e) || e.Kind != users.Invalid {
		t.Fatalf("error %v is not an Invalid *users.Error", err)
	}
	var fs []string
	for _, f := range e.Fields {
		if f.Reason == "" {
			t.Errorf("field %s refused with no reason", f.Field)
		}
		fs = append(fs, f.Field)
	}
	return fs
}

func ptr[T any](v T) *T { return &v }

func TestPatchValidate(t *testing.T) {
	tests := []struct {
		name   string
		p      users.Patch
		fields []string
	}{
		{"empty patch", users.Patch{}, nil},
		{"remove phone and age", users.Patch{Phone: ptr(""), Age: ptr(0)}, nil},
		{"set phone", users.Patch{Phone: ptr("0123456789")}, nil},
		{"bad phone", users.Patch{Phone: ptr("123")}, []string{"phone"}},
		{"bad age", users.Patch{Age: ptr(17)}, []string{"age"}},
		{"empty name", users.Patch{Name: ptr("")}, []string{"name"}},
		{"bad email", users.Patch{Email: ptr("x")}, []string{"email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := refused(t, tt.p.Validate())
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("refused %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestParseID(t *testing.T) {
	for _, s := range []string{"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", "019b0000-0000-7000-b000-000000000000"} {
		if _, err := users.ParseID(s); err != nil {
			t.Errorf("ParseID(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "0193A4B2-7C3D-7E4F-8A5B-6C7D8E9F0A1B", "0193a4b2-7c3d-4e4f-8a5b-6c7d8e9f0a1b", "0193a4b2-7c3d-7e4f-cа5b-6c7d8e9f0a1b", "../etc/passwd", "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b "} {
		if _, err := users.ParseID(s); !users.IsKind(err, users.Invalid) {
			t.Errorf("ParseID(%q) = %v, want Invalid", s, err)
		}
	}
}

func TestApply(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	later := now.Add(time.Minute)
	id := users.ID("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b")
	create := users.Command{Op: users.Create, UserID: id, Owner: "sub-1",
		Input: users.Input{Name: "Ada", Email: "ada@example.com", Phone: "5551234567", Age: 36}}
	u, err := users.Apply(users.User{}, false, create, now)
	if err != nil || u.Version != 1 || u.Name != "Ada" || !u.CreatedAt.Equal(now) || u.Owner != "sub-1" {
		t.Fatalf("create: %+v, %v", u, err)
	}
	if _, err := users.Apply(u, true, create, later); !users.IsKind(err, users.Conflict) {
		t.Errorf("create over an existing user: %v, want Conflict", err)
	}

	patched, err := users.Apply(u, true, users.Command{Op: users.PatchOp, UserID: id, Owner: "sub-1", Patch: users.Patch{Phone: ptr(""), Age: ptr(37)}}, later)
	if err != nil || patched.Version != 2 || patched.Phone != "" || patched.Age != 37 || patched.Name != "Ada" || !patched.UpdatedAt.Equal(later) || !patched.CreatedAt.Equal(now) {
		t.Fatalf("patch: %+v, %v", patched, err)
	}
	replaced, err := users.Apply(patched, true, users.Command{Op: users.Replace, UserID: id, Owner: "sub-1", IfMatch: 2, Input: users.Input{Name: "Grace", Email: "grace@example.com"}}, later)
	if err != nil || replaced.Version != 3 || replaced.Name != "Grace" || replaced.Age != 0 {
		t.Fatalf("replace: %+v, %v", replaced, err)
	}
	if _, err := users.Apply(replaced, true, users.Command{Op: users.Delete, UserID: id, Owner: "sub-1", IfMatch: 2}, later); !users.IsKind(err, users.PreconditionFailed) {
		t.Errorf("delete with a stale If-Match: %v, want PreconditionFailed", err)
	}
	deleted, err := users.Apply(replaced, true, users.Command{Op: users.Delete, UserID: id, Owner: "sub-1", IfMatch: 3}, later)
	if err != nil || deleted.Version != 4 {
		t.Fatalf("delete: %+v, %v", deleted, err)
	}
	if _, err := users.Apply(replaced, true, users.Command{Op: users.PatchOp, UserID: id, Owner: "sub-2"}, later); !users.IsKind(err, users.Forbidden) {
		t.Errorf("another owner's patch: %v, want Forbidden", err)
	}
	if u, err := users.Apply(replaced, true, users.Command{Op: users.PatchOp, UserID: id, Owner: "root", Admin: true}, later); err != nil || u.Owner != "sub-1" {
		t.Errorf("an admin's patch: %+v %v (the owner must stay)", u, err)
	}
	for _, op := range []users.Op{users.Replace, users.PatchOp, users.Delete} {
		if _, err := users.Apply(users.User{}, false, users.Command{Op: op, UserID: id}, later); !users.IsKind(err, users.NotFound) {
			t.Errorf("%s of a missing user: %v, want NotFound", op, err)
		}
	}
}

func TestChangeEventID(t *testing.T) {
	c := users.Change{UserID: "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", Version: 12}
	if got, want := c.EventID(), "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b#12"; got != want {
		t.Fatalf("EventID = %q, want %q", got, want)
	}
}

func TestKindNames(t *testing.T) {
	for k := users.Internal; k <= users.KeyReused; k++ {
		if users.ParseKind(k.String()) != k {
			t.Errorf("kind %d: %q does not parse back", k, k)
		}
	}
}
