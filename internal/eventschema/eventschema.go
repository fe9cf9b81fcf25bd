package eventschema

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// SchemaFormat is the one payload format this package reads: OpenAPI 3.0's
// dialect, that of api/openapi.yaml and of EventBridge's schema registry.
const SchemaFormat = "application/vnd.oai.openapi;version=3.0.0"

// OpenAPIRef is how the AsyncAPI document refers to the OpenAPI document in
// its $refs ("./openapi.yaml#/components/schemas/UserID").
const OpenAPIRef = "./openapi.yaml"

// Payloads returns each message's payload schema of the AsyncAPI document
// asyncapi, by message name, with every $ref inlined (those into openapi, the
// OpenAPI document that OpenAPIRef names, too), as encoding/json would decode
// them. A payload of another format than SchemaFormat is an error.
func Payloads(asyncapi, openapi []byte) (map[string]any, error) {
	docs := map[string]any{}
	for name, b := range map[string][]byte{"": asyncapi, OpenAPIRef: openapi} {
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("parse %s: %w", cmp.Or(name, "the AsyncAPI document"), err)
		}
		docs[name] = v
	}
	root, _ := docs[""].(map[string]any)
	components, _ := root["components"].(map[string]any)
	msgs, _ := components["messages"].(map[string]any)
	if len(msgs) == 0 {
		return nil, errors.New("the AsyncAPI document has no components.messages")
	}
	out := map[string]any{}
	for name, m := range msgs {
		msg, _ := m.(map[string]any)
		p, _ := msg["payload"].(map[string]any)
		if f := p["schemaFormat"]; f != SchemaFormat {
			return nil, fmt.Errorf("message %s: schemaFormat %v, want %s", name, f, SchemaFormat)
		}
		schema, err := Inline(p["schema"], "", docs)
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", name, err)
		}
		if out[name], err = jsonValue(schema); err != nil {
			return nil, fmt.Errorf("message %s: %w", name, err)
		}
	}
	return out, nil
}

// Inline returns v with every {"$ref": "file#/pointer"} replaced by what it
// points at, recursively: file is a key of docs, and an empty file is doc,
// the document v is in. A $ref with siblings (which OpenAPI 3.0 ignores) or
// one that points at nothing is an error.
func Inline(v any, doc string, docs map[string]any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			if len(v) != 1 {
				return nil, fmt.Errorf("$ref %s has siblings, which OpenAPI 3.0 ignores", ref)
			}
			file, pointer, _ := strings.Cut(ref, "#")
			if file == "" {
				file = doc
			}
			target, ok := docs[file]
			if !ok {
				return nil, fmt.Errorf("$ref %s: no document %q", ref, file)
			}
			for part := range strings.SplitSeq(strings.TrimPrefix(pointer, "/"), "/") {
				part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
				m, ok := target.(map[string]any)
				if !ok || m[part] == nil {
					return nil, fmt.Errorf("$ref %s: nothing at %s", ref, part)
				}
				target = m[part]
			}
			return Inline(target, file, docs)
		}
		out := map[string]any{}
		for k, e := range v {
			var err error
			if out[k], err = Inline(e, doc, docs); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			var err error
			if out[i], err = Inline(e, doc, docs); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

// Compile returns a payload of Payloads as a schema to validate with.
func Compile(payload any) (*openapi3.Schema, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	var s openapi3.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	return &s, nil
}

// Schemas are the compiled payloads of an AsyncAPI document's messages, by
// message name: the change events' detail-types.
type Schemas map[string]*openapi3.Schema

// New compiles the payloads of the AsyncAPI document asyncapi, whose $refs
// into the OpenAPI document openapi it resolves (see Payloads).
func New(asyncapi, openapi []byte) (Schemas, error) {
	payloads, err := Payloads(asyncapi, openapi)
	if err != nil {
		return nil, err
	}
	s := Schemas{}
	for name, p := range payloads {
		if s[name], err = Compile(p); err != nil {
			return nil, fmt.Errorf("message %s: %w", name, err)
		}
	}
	return s, nil
}

// Check returns nil when event, an EventBridge event as JSON, matches the
// schema of the message named for its detail-type; otherwise an error that
// says why, in a line that names the fields and not their values: an event
// that is not a JSON object, an unknown detail-type, or the payload's
// violations (the first three).
func (s Schemas) Check(event []byte) error {
	var v any
	if err := json.Unmarshal(event, &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return errors.New("not a JSON object")
	}
	dt, _ := doc["detail-type"].(string)
	schema, ok := s[dt]
	if !ok {
		return fmt.Errorf("unknown detail-type %q: the contract describes %s", dt, strings.Join(slices.Sorted(maps.Keys(s)), ", "))
	}
	err := schema.VisitJSON(v, openapi3.MultiErrors())
	if err == nil {
		return nil
	}
	var reasons []string
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		for _, e := range multi {
			reasons = append(reasons, reason(e))
		}
	} else {
		reasons = append(reasons, reason(err))
	}
	if len(reasons) > 3 {
		reasons = append(reasons[:3], fmt.Sprintf("and %d more", len(reasons)-3))
	}
	return fmt.Errorf("not a %s: %s", dt, strings.Join(reasons, "; "))
}

// reason is a schema error in one line: where, and what is wrong.
func reason(err error) string {
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return err.Error()
	}
	why := se.Reason
	if why == "" && se.Origin != nil {
		why = se.Origin.Error()
	}
	if why == "" {
		why = "does not match " + se.SchemaField
	}
	p := se.JSONPointer()
	if se.SchemaField == "required" && len(p) > 0 {
		p = p[:len(p)-1] // the missing property's name, which the reason says
	}
	if len(p) > 0 {
		return strings.Join(p, ".") + ": " + why
	}
	return why
}

// jsonValue returns v as encoding/json would decode it (float64 numbers).
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}
