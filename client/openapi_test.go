package client_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/usersapi/usersapi/api"
	"github.com/usersapi/usersapi/client"
)

// operations maps every operationId of api/openapi.yaml to its method and
// path there and to the methods of *client.Client that call it.
// TestEveryOperationHasAMethod keeps it in step with the document both ways.
var operations = map[string]struct {
	method, path string
	calls        []string
}{
	"listUsers":           {"GET", "/users", []string{"ListUsers", "ListPage", "FindUser"}},
	"headUsers":           {"HEAD", "/users", []string{"HeadUsers"}},
	"createUser":          {"POST", "/users", []string{"CreateUser"}},
	"getUser":             {"GET", "/users/{id}", []string{"GetUser", "RefreshUser"}},
	"headUser":            {"HEAD", "/users/{id}", []string{"HeadUser"}},
	"replaceUser":         {"PUT", "/users/{id}", []string{"ReplaceUser"}},
	"patchUser":           {"PATCH", "/users/{id}", []string{"PatchUser"}},
	"deleteUser":          {"DELETE", "/users/{id}", []string{"DeleteUser"}},
	"getRequest":          {"GET", "/requests/{requestId}", []string{"GetRequest", "Follow"}},
	"headRequest":         {"HEAD", "/requests/{requestId}", []string{"HeadRequest"}},
	"preflightUsers":      {"OPTIONS", "/users", []string{"Preflight"}},
	"preflightUser":       {"OPTIONS", "/users/{id}", []string{"Preflight"}},
	"preflightRequest":    {"OPTIONS", "/requests/{requestId}", []string{"Preflight"}},
	"exportUser":          {"GET", "/users/{id}/export", []string{"ExportUser"}},
	"headUserExport":      {"HEAD", "/users/{id}/export", []string{"HeadUserExport"}},
	"preflightUserExport": {"OPTIONS", "/users/{id}/export", []string{"Preflight"}},
	"getOpenApiDocument":  {"GET", "/openapi.json", []string{"OpenAPIDocument"}},
	"headOpenApiDocument": {"HEAD", "/openapi.json", []string{"HeadOpenAPIDocument"}},
	"getDocs":             {"GET", "/docs", []string{"Docs"}},
	"headDocs":            {"HEAD", "/docs", []string{"HeadDocs"}},
	"getDocsFile":         {"GET", "/docs/{file}", []string{"DocsFile"}},
	"headDocsFile":        {"HEAD", "/docs/{file}", []string{"HeadDocsFile"}},
}

// schemas maps every object schema of the document's components to the
// client's type of it. TestEveryFieldHasAField keeps the two in step.
var schemas = map[string]reflect.Type{
	"User":          reflect.TypeFor[client.User](),
	"UserCreate":    reflect.TypeFor[client.UserInput](),
	"UserReplace":   reflect.TypeFor[client.UserInput](),
	"UserPatch":     reflect.TypeFor[client.UserPatch](),
	"UserPage":      reflect.TypeFor[client.Page](),
	"Accepted":      reflect.TypeFor[client.Accepted](),
	"RequestStatus": reflect.TypeFor[client.RequestStatus](),
	"UserExport":    reflect.TypeFor[client.UserExport](),
	"Problem":       reflect.TypeFor[client.Problem](),
	"FieldError":    reflect.TypeFor[client.FieldError](),
}

func document(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestEveryOperationHasAMethod: every operation of the document is in
// operations, at its method and path, with methods that *client.Client has;
// every entry of operations is in the document; and every exported method of
// *client.Client calls an operation.
func TestEveryOperationHasAMethod(t *testing.T) {
	doc := document(t)
	seen := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			want, ok := operations[op.OperationID]
			if !ok {
				t.Errorf("%s %s (%s) has no method in the client: add one, and a line to operations", method, path, op.OperationID)
				continue
			}
			seen[op.OperationID] = true
			if want.method != method || want.path != path {
				t.Errorf("%s is %s %s in the document, %s %s in operations", op.OperationID, method, path, want.method, want.path)
			}
		}
	}
	typ := reflect.TypeFor[*client.Client]()
	var calling []string
	for id, op := range operations {
		if !seen[id] {
			t.Errorf("operations lists %s, which the document does not have", id)
		}
		for _, m := range op.calls {
			if _, ok := typ.MethodByName(m); !ok {
				t.Errorf("%s: *client.Client has no method %s", id, m)
			}
			calling = append(calling, m)
		}
	}
	for i := range typ.NumMethod() {
		if m := typ.Method(i).Name; !slices.Contains(calling, m) {
			t.Errorf("(*client.Client).%s calls no operation that operations lists", m)
		}
	}
}

// TestEveryFieldHasAField: each object schema of the document's components
// has a client type in schemas whose JSON fields are exactly the schema's
// properties, a required property never omitted when empty and an optional
// one omitted; and the enums of a request's status and operation are the
// client's constants.
func TestEveryFieldHasAField(t *testing.T) {
	doc := document(t)
	for name, ref := range doc.Components.Schemas {
		s := ref.Value
		if len(s.Properties) == 0 {
			continue // a scalar (UserID, Name, ...)
		}
		typ, ok := schemas[name]
		if !ok {
			t.Errorf("the schema %s has no client type: add one, and a line to schemas", name)
			continue
		}
		fields := map[string]bool{} // JSON name → omitempty
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			if tag == "" || tag == "-" {
				if f.Anonymous || !f.IsExported() {
					continue
				}
				t.Errorf("%s.%s has no JSON name", typ.Name(), f.Name)
				continue
			}
			n, opts, _ := strings.Cut(tag, ",")
			fields[n] = strings.Contains(opts, "omitempty")
		}
		for prop := range s.Properties {
			omit, ok := fields[prop]
			switch {
			case !ok:
				t.Errorf("%s.%s has no field in %s", name, prop, typ.Name())
			case slices.Contains(s.Required, prop) && omit:
				t.Errorf("%s.%s is required, but %s omits it when empty", name, prop, typ.Name())
			case !slices.Contains(s.Required, prop) && !omit:
				t.Errorf("%s.%s is optional, but %s always sends it", name, prop, typ.Name())
			}
		}
		for f := range fields {
			if _, ok := s.Properties[f]; !ok {
				t.Errorf("%s has %s, which the schema %s does not", typ.Name(), f, name)
			}
		}
	}
	for name := range schemas {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("schemas maps %s, which the document does not have", name)
		}
	}
	st := doc.Components.Schemas["RequestStatus"].Value.Properties
	enums := []struct {
		prop   string
		client []string
	}{
		{"status", []string{client.StatusPending, client.StatusSucceeded, client.StatusFailed}},
		{"operation", []string{client.OpCreate, client.OpReplace, client.OpPatch, client.OpDelete}},
	}
	for _, e := range enums {
		var doc []string
		for _, v := range st[e.prop].Value.Enum {
			doc = append(doc, v.(string))
		}
		if !slices.Equal(doc, e.client) {
			t.Errorf("RequestStatus.%s: the document's %v, the client's %v", e.prop, doc, e.client)
		}
	}
}
