package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/usersapi/usersapi/api"
	"github.com/usersapi/usersapi/shared/users"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	return doc
}

func schema(t *testing.T, doc *openapi3.T, name string) *openapi3.Schema {
	t.Helper()
	ref, ok := doc.Components.Schemas[name]
	if !ok || ref.Value == nil {
		t.Fatalf("no schema %s", name)
	}
	return ref.Value
}

// TestRulesAgree: the document states the very limits and patterns that
// shared/users enforces, and the same fields.
func TestRulesAgree(t *testing.T) {
	doc := load(t)
	for _, name := range []string{"UserCreate", "UserReplace", "UserPatch"} {
		s := schema(t, doc, name)
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		slices.Sort(props)
		want := slices.Clone(users.Fields)
		slices.Sort(want)
		if !slices.Equal(props, want) {
			t.Errorf("%s has fields %v, the Go code %v", name, props, want)
		}
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
			t.Errorf("%s allows other properties", name)
		}
		if name != "UserPatch" && !slices.Equal(sorted(s.Required), []string{"email", "name"}) {
			t.Errorf("%s requires %v", name, s.Required)
		}
		nameS, email, phone, age := s.Properties["name"].Value, s.Properties["email"].Value, s.Properties["phone"].Value, s.Properties["age"].Value
		if nameS.MinLength != 1 || nameS.MaxLength == nil || *nameS.MaxLength != users.NameMaxLength {
			t.Errorf("%s.name length %d..%v, Go 1..%d", name, nameS.MinLength, nameS.MaxLength, users.NameMaxLength)
		}
		if email.MaxLength == nil || *email.MaxLength != users.EmailMaxLength || email.Format != "email" {
			t.Errorf("%s.email: %v %q", name, email.MaxLength, email.Format)
		}
		if nameS.Pattern != users.NamePattern {
			t.Errorf("%s.name pattern %q, Go %q", name, nameS.Pattern, users.NamePattern)
		}
		if email.Pattern != users.TextPattern {
			t.Errorf("%s.email pattern %q, Go %q", name, email.Pattern, users.TextPattern)
		}
		if phone.Pattern != users.PhonePattern {
			t.Errorf("%s.phone pattern %q, Go %q", name, phone.Pattern, users.PhonePattern)
		}
		if age.Min == nil || *age.Min != users.AgeMin || age.Max == nil || *age.Max != users.AgeMax || !age.Type.Is("integer") {
			t.Errorf("%s.age %v..%v", name, age.Min, age.Max)
		}
	}
	if p := doc.Components.Parameters["IfMatch"].Value.Schema.Value.Pattern; p != users.ETagPattern {
		t.Errorf("If-Match pattern %q, Go %q", p, users.ETagPattern)
	}
	if p := schema(t, doc, "UserID").Pattern; p != users.IDPattern {
		t.Errorf("UserID pattern %q, Go %q", p, users.IDPattern)
	}
	user := schema(t, doc, "User")
	for _, f := range append(slices.Clone(users.Fields), "id", "version", "createdAt", "updatedAt") {
		if _, ok := user.Properties[f]; !ok {
			t.Errorf("User lacks %s", f)
		}
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// TestBothWays: bodies that the document's schema and the Go rules judge.
// Where the two differ, it is only because Go is stricter (Unicode white
// space, the shape of an email's domain), which the function enforces after
// API Gateway's validator: nothing the Go code accepts is refused by the
// document, and the listed cases are judged alike.
func TestBothWays(t *testing.T) {
	doc := load(t)
	s := schema(t, doc, "UserCreate")
	openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	inputs := []struct {
		in       users.Input
		goStrict bool // Go refuses what the document allows
	}{
		{users.Input{Name: "Ada", Email: "ada@example.com"}, false},
		{users.Input{Name: strings.Repeat("é", 100), Email: "ada@example.com"}, false},
		{users.Input{Name: strings.Repeat("é", 101), Email: "ada@example.com"}, false},
		{users.Input{Name: "", Email: "ada@example.com"}, false},
		{users.Input{Name: "   ", Email: "ada@example.com"}, false},
		{users.Input{Name: "\u3000\u3000", Email: "ada@example.com"}, true},
		{users.Input{Name: "Ada", Email: "ada@localhost"}, true},
		{users.Input{Name: "Ada", Email: "not-an-email"}, false},
		{users.Input{Name: "Ada", Email: strings.Repeat("a", 250) + "@x.io"}, false},
		{users.Input{Name: "Ada", Email: "ada@example.com", Phone: "123456789"}, false},
		{users.Input{Name: "Ada", Email: "ada@example.com", Phone: "1234567890"}, false},
		{users.Input{Name: "Ada", Email: "ada@example.com", Phone: "12345678901"}, false},
		{users.Input{Name: "Ada", Email: "ada@example.com", Age: 17}, false},
		{users.Input{Name: "Ada", Email: "ada@example.com", Age: 18}, false},
		{users.Input{Name: "Ada", Email: "ada@example.com", Age: 120}, false},
		{users.Input{Name: "Ada", Email: "ada@example.com", Age: 121}, false},
	}
	for _, tt := range inputs {
		m := map[string]any{"name": tt.in.Name, "email": tt.in.Email}
		if tt.in.Phone != "" {
			m["phone"] = tt.in.Phone
		}
		if tt.in.Age != 0 {
			m["age"] = tt.in.Age
		}
		b, _ := json.Marshal(m)
		var v any
		_ = json.Unmarshal(b, &v)
		docOK := s.VisitJSON(v) == nil
		goOK := tt.in.Validate() == nil
		switch {
		case goOK && !docOK:
			t.Errorf("%s: Go accepts what the document refuses", b)
		case tt.goStrict && (goOK || !docOK):
			t.Errorf("%s: expected only Go to refuse it (doc %v, Go %v)", b, docOK, goOK)
		case !tt.goStrict && goOK != docOK:
			t.Errorf("%s: document %v, Go %v", b, docOK, goOK)
		}
	}
}
