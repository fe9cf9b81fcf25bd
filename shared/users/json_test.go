package users_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/shared/users"
)

func fieldsOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	e, ok := err.(*users.Error)
	if !ok || e.Kind != users.Invalid {
		t.Fatalf("error %v is not Invalid", err)
	}
	var fs []string
	for _, f := range e.Fields {
		fs = append(fs, f.Field)
	}
	if len(fs) == 0 {
		return "(body)"
	}
	return strings.Join(fs, ",")
}

func TestDecodeInput(t *testing.T) {
	long := strings.Repeat("a", 100)
	tests := []struct {
		name, body string
		refused    string // fields refused, "(body)" for the body as a whole, "" for none
	}{
		{"full", `{"name":"Ada","email":"ada@example.com","phone":"5551234567","age":36}`, ""},
		{"required only", `{"name":"Ada","email":"ada@example.com"}`, ""},
		{"100 characters", `{"name":"` + long + `","email":"a@example.com"}`, ""},
		{"101 characters", `{"name":"` + long + `b","email":"a@example.com"}`, "name"},
		{"100 multibyte", `{"name":"` + strings.Repeat("ü", 100) + `","email":"a@example.com"}`, ""},
		{"100 escaped multibyte", `{"name":"` + strings.Repeat(`\u00fc`, 100) + `","email":"a@example.com"}`, ""},
		{"101 multibyte", `{"name":"` + strings.Repeat("ü", 101) + `","email":"a@example.com"}`, "name"},
		{"blank name", `{"name":" \t ","email":"a@example.com"}`, "name"},
		{"phone 9", `{"name":"A","email":"a@example.com","phone":"123456789"}`, "phone"},
		{"phone 10", `{"name":"A","email":"a@example.com","phone":"1234567890"}`, ""},
		{"phone 11", `{"name":"A","email":"a@example.com","phone":"12345678901"}`, "phone"},
		{"phone as number", `{"name":"A","email":"a@example.com","phone":1234567890}`, "phone"},
		{"age 17", `{"name":"A","email":"a@example.com","age":17}`, "age"},
		{"age 18", `{"name":"A","email":"a@example.com","age":18}`, ""},
		{"age 120", `{"name":"A","email":"a@example.com","age":120}`, ""},
		{"age 121", `{"name":"A","email":"a@example.com","age":121}`, "age"},
		{"age 18.0", `{"name":"A","email":"a@example.com","age":18.0}`, ""},
		{"age 18.5", `{"name":"A","email":"a@example.com","age":18.5}`, "age"},
		{"age 1e2", `{"name":"A","email":"a@example.com","age":1e2}`, ""},
		{"age as string", `{"name":"A","email":"a@example.com","age":"30"}`, "age"},
		{"age huge", `{"name":"A","email":"a@example.com","age":1e300}`, "age"},
		{"age zero", `{"name":"A","email":"a@example.com","age":0}`, "age"},
		{"null name", `{"name":null,"email":"a@example.com"}`, "name"},
		{"null phone", `{"name":"A","email":"a@example.com","phone":null}`, "phone"},
		{"null age", `{"name":"A","email":"a@example.com","age":null}`, "age"},
		{"missing email", `{"name":"A"}`, "email"},
		{"empty object", `{}`, "email,name"},
		{"unknown field", `{"name":"A","email":"a@example.com","admin":true}`, "admin"},
		{"id", `{"id":"x","name":"A","email":"a@example.com"}`, "id"},
		{"version", `{"name":"A","email":"a@example.com","version":9}`, "version"},
		{"createdAt", `{"name":"A","email":"a@example.com","createdAt":"2020-01-01T00:00:00Z"}`, "createdAt"},
		{"updatedAt", `{"name":"A","email":"a@example.com","updatedAt":"2020-01-01T00:00:00Z"}`, "updatedAt"},
		{"name as number", `{"name":5,"email":"a@example.com"}`, "name"},
		{"bad email", `{"name":"A","email":"not-an-email"}`, "email"},
		{"several", `{"name":"","email":"x","phone":"1","age":5,"x":1}`, "age,email,name,phone,x"},
		{"HTML and quotes kept", `{"name":"<script>alert(\"x\")</script>","email":"a@example.com"}`, ""},
		{"control characters refused", `{"name":"A\u0000\u001b","email":"a@example.com"}`, "name"},
		{"not JSON", `name=Ada`, "(body)"},
		{"truncated", `{"name":"A"`, "(body)"},
		{"array", `[{"name":"A"}]`, "(body)"},
		{"null", `null`, "(body)"},
		{"string", `"x"`, "(body)"},
		{"empty", ``, "(body)"},
		{"two objects", `{"name":"A","email":"a@example.com"}{}`, "(body)"},
		{"invalid UTF-8", "{\"name\":\"\xff\",\"email\":\"a@example.com\"}", "(body)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := users.DecodeInput([]byte(tt.body))
			if got := fieldsOf(t, err); got != tt.refused {
				t.Fatalf("refused %q, want %q (%v)", got, tt.refused, err)
			}
			if err == nil && strings.Contains(tt.body, `"name":"<script>`) && in.Name != `<script>alert("x")</script>` {
				t.Errorf("name not kept exactly: %q", in.Name)
			}
		})
	}
}

func TestDecodePatch(t *testing.T) {
	tests := []struct {
		name, body string
		refused    string
		check      func(users.Patch) bool
	}{
		{"empty", `{}`, "", func(p users.Patch) bool { return p == users.Patch{} }},
		{"remove phone and age", `{"phone":null,"age":null}`, "", func(p users.Patch) bool {
			return p.Phone != nil && *p.Phone == "" && p.Age != nil && *p.Age == 0 && p.Name == nil
		}},
		{"set name", `{"name":"Grace"}`, "", func(p users.Patch) bool { return p.Name != nil && *p.Name == "Grace" && p.Phone == nil }},
		{"set age", `{"age":40}`, "", func(p users.Patch) bool { return *p.Age == 40 }},
		{"null name", `{"name":null}`, "name", nil},
		{"null email", `{"email":null}`, "email", nil},
		{"bad phone", `{"phone":"12"}`, "phone", nil},
		{"empty phone", `{"phone":""}`, "phone", nil},
		{"bad age", `{"age":130}`, "age", nil},
		{"float age", `{"age":30.5}`, "age", nil},
		{"unknown", `{"nickname":"x"}`, "nickname", nil},
		{"version", `{"version":2}`, "version", nil},
		{"not an object", `[]`, "(body)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := users.DecodePatch([]byte(tt.body))
			if got := fieldsOf(t, err); got != tt.refused {
				t.Fatalf("refused %q, want %q (%v)", got, tt.refused, err)
			}
			if tt.check != nil && !tt.check(p) {
				t.Errorf("patch %+v", p)
			}
		})
	}
}

func FuzzDecodeInput(f *testing.F) {
	fuzzDecode(f, "input", users.DecodeInput,
		`{"name":"Ada","email":"ada@example.com","phone":"5551234567","age":36}`, `{}`, `[]`, `{"age":1e400}`, "{\"name\":\"\xff\"}", `{"name":"a","email":"a@b.co","age":18.0}`)
}

func FuzzDecodePatch(f *testing.F) {
	fuzzDecode(f, "patch", users.DecodePatch, `{"phone":null}`, `{"name":null}`, `{"age":null,"email":"x@y.z"}`, `null`)
}

// fuzzDecode checks, from the seed bodies on, that no body makes decode
// panic and that what it accepts is valid.
func fuzzDecode[T interface{ Validate() error }](f *testing.F, what string, decode func([]byte) (T, error), seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := decode(body)
		if err == nil && v.Validate() != nil {
			t.Fatalf("accepted an invalid %s %+v", what, v)
		}
	})
}

func TestEncodePatch(t *testing.T) {
	name, phone, age := "Grace", "", 0
	for _, p := range []users.Patch{{}, {Name: &name}, {Phone: &phone, Age: &age}} {
		b, err := users.EncodePatch(p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := users.DecodePatch(b)
		if err != nil || !reflect.DeepEqual(back, p) {
			t.Errorf("%+v encodes as %s, which decodes as %+v, %v", p, b, back, err)
		}
	}
	if b, _ := users.EncodePatch(users.Patch{Phone: &phone, Age: &age}); string(b) != `{"age":null,"phone":null}` {
		t.Errorf("removals encode as %s", b)
	}
}
