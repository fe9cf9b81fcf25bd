package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/usersapi/usersapi/api"
	"github.com/usersapi/usersapi/internal/eventschema"
	"github.com/usersapi/usersapi/shared/bus"
	"github.com/usersapi/usersapi/shared/users"
)

// detailTypes are the change events the stream publishes.
var detailTypes = []users.ChangeType{users.Created, users.Updated, users.Deleted}

// payloads returns each message's payload schema of api/asyncapi.yaml with
// every $ref inlined (those into openapi.yaml included), as JSON values; each
// is in OpenAPI 3.0's dialect (the dialect of openapi.yaml and of the registry).
func payloads(t *testing.T) map[string]any {
	t.Helper()
	p, err := eventschema.Payloads(api.AsyncAPI, api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func parseYAML(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// jsonValue returns v as encoding/json would decode it (float64 numbers).
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// inline is eventschema.Inline, failing the test on an error.
func inline(t *testing.T, v any, doc string, docs map[string]any) any {
	t.Helper()
	out, err := eventschema.Inline(v, doc, docs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compile(t *testing.T, v any) *openapi3.Schema {
	t.Helper()
	s, err := eventschema.Compile(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// recorder is an EventBridge client that keeps what it is asked to put.
type recorder struct{ entries []types.PutEventsRequestEntry }

func (r *recorder) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	r.entries = append(r.entries, in.Entries...)
	return &eventbridge.PutEventsOutput{Entries: make([]types.PutEventsResultEntry, len(in.Entries))}, nil
}

// published returns the events shared/bus publishes for a user's life (a
// full create, a minimal one, a patch that removes phone and age, a delete),
// as EventBridge delivers them to a rule's target.
func published(t *testing.T) []map[string]any {
	t.Helper()
	at := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	full := users.User{ID: "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", Name: "Ada Lovelace", Email: "ada@example.com", Phone: "5551234567", Age: 36,
		Version: 1, CreatedAt: at, UpdatedAt: at, Owner: "alice"}
	bare := full
	bare.Phone, bare.Age, bare.Version, bare.UpdatedAt = "", 0, 2, at.Add(time.Second)
	minimal := users.User{ID: "0193a4b2-7c3d-7e4f-8a5b-000000000001", Name: "M", Email: "m@example.com", Version: 1, CreatedAt: at, UpdatedAt: at}
	changes := []users.Change{
		{Type: users.Created, UserID: full.ID, Version: 1, RequestID: "AQGi-request", OccurredAt: at, New: &full, Trace: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"},
		{Type: users.Created, UserID: minimal.ID, Version: 1, RequestID: "AQGi-other", OccurredAt: at, New: &minimal},
		{Type: users.Updated, UserID: full.ID, Version: 2, RequestID: "AQGi-patch", OccurredAt: at.Add(time.Second), Old: &full, New: &bare},
		{Type: users.Deleted, UserID: full.ID, Version: 3, RequestID: "AQGi-delete", OccurredAt: at.Add(2 * time.Second), Old: &bare},
	}
	rec := &recorder{}
	if n, err := bus.NewPublisher(rec, "usersapi-dev-users", "usersapi").Publish(context.Background(), changes); err != nil || n != len(changes) {
		t.Fatalf("Publish = %d, %v", n, err)
	}
	var out []map[string]any
	for i, e := range rec.entries {
		var detail any
		if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, map[string]any{
			"version": "0", "id": fmt.Sprintf("6f7e0d2a-0000-4000-8000-%012d", i), "detail-type": aws.ToString(e.DetailType),
			"source": aws.ToString(e.Source), "account": "123456789012", "time": aws.ToTime(e.Time).UTC().Format(time.RFC3339),
			"region": "us-east-1", "resources": []any{}, "detail": detail,
		})
	}
	return out
}

// TestPublishedEventsMatchTheContract: every event shared/bus publishes
// validates against its detail-type's message in api/asyncapi.yaml, and
// against no other; events that break the contract do not validate.
func TestPublishedEventsMatchTheContract(t *testing.T) {
	schemas := map[string]*openapi3.Schema{}
	for name, p := range payloads(t) {
		schemas[name] = compile(t, p)
	}
	for _, dt := range detailTypes {
		if schemas[string(dt)] == nil {
			t.Errorf("api/asyncapi.yaml has no message %s", dt)
		}
	}
	if len(schemas) != len(detailTypes) {
		t.Errorf("api/asyncapi.yaml has %d messages, the stream publishes %d detail-types", len(schemas), len(detailTypes))
	}
	// Check, which the local events page marks events with, agrees.
	contract, err := eventschema.New(api.AsyncAPI, api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	check := func(ev map[string]any) error {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		return contract.Check(b)
	}
	events := published(t)
	for _, ev := range events {
		dt := ev["detail-type"].(string)
		if err := check(ev); err != nil {
			t.Errorf("Check: %v", err)
		}
		for name, s := range schemas {
			err := s.VisitJSON(ev)
			if name == dt && err != nil {
				t.Errorf("a %s event does not match its schema: %v\n%v", dt, err, ev)
			}
			if name != dt && err == nil {
				t.Errorf("a %s event matches the schema of %s", dt, name)
			}
		}
	}

	// What a publisher could get wrong is refused.
	broken := []struct {
		name   string
		event  int // index into events
		breaks func(ev, detail map[string]any)
	}{
		{"the user's data in a create", 0, func(_, d map[string]any) { d["new"] = map[string]any{"name": "Ada"} }},
		{"the user's data in a delete", 3, func(_, d map[string]any) { d["old"] = map[string]any{"email": "ada@example.com"} }},
		{"the owner", 2, func(_, d map[string]any) { d["owner"] = "alice" }},
		{"a user id that is not a UUIDv7", 0, func(_, d map[string]any) { d["userId"] = "42" }},
		{"no event id", 0, func(_, d map[string]any) { delete(d, "eventId") }},
		{"an event id of another form", 0, func(_, d map[string]any) { d["eventId"] = "1" }},
		{"a version of 0", 0, func(_, d map[string]any) { d["version"] = 0.0 }},
		{"another source", 0, func(ev, _ map[string]any) { ev["source"] = "someone-else" }},
	}
	for _, b := range broken {
		ev := jsonValue(t, events[b.event]).(map[string]any)
		b.breaks(ev, ev["detail"].(map[string]any))
		if err := schemas[ev["detail-type"].(string)].VisitJSON(ev); err == nil {
			t.Errorf("%s validates", b.name)
		}
		if check(ev) == nil {
			t.Errorf("%s passes Check", b.name)
		}
	}
}

// TestTheUserIDIsOpenAPIs: the user's id in an event is api/openapi.yaml's
// UserID, by reference, so the two documents cannot drift apart.
func TestTheUserIDIsOpenAPIs(t *testing.T) {
	if n := bytes.Count(api.AsyncAPI, []byte(`$ref: "./openapi.yaml#/components/schemas/UserID"`)); n != len(detailTypes) {
		t.Errorf("api/asyncapi.yaml takes the user id from api/openapi.yaml in %d messages of %d", n, len(detailTypes))
	}
	id := jsonValue(t, inline(t, map[string]any{"$ref": "./openapi.yaml#/components/schemas/UserID"}, "", map[string]any{"./openapi.yaml": parseYAML(t, api.OpenAPI)}))
	for name, p := range payloads(t) {
		detail := p.(map[string]any)["properties"].(map[string]any)["detail"].(map[string]any)["properties"].(map[string]any)
		if !reflect.DeepEqual(detail["userId"], id) {
			t.Errorf("%s.detail.userId is not openapi.yaml's UserID", name)
		}
	}
}

// TestRegistryHoldsTheContract: template.yaml registers, for each detail-type,
// an OpenApi3 schema in the EventBridge schema registry whose AWSEvent is that
// message's payload in api/asyncapi.yaml, exactly (both ways: no property
// more or less, the same constraints).
func TestRegistryHoldsTheContract(t *testing.T) {
	b, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tpl yaml.Node
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	resources := child(tpl.Content[0], "Resources")
	if resources == nil {
		t.Fatal("template.yaml has no Resources")
	}
	want := payloads(t)
	registered := map[string]bool{}
	for i := 0; i+1 < len(resources.Content); i += 2 {
		name, r := resources.Content[i].Value, resources.Content[i+1]
		if typ := child(r, "Type"); typ == nil || typ.Value != "AWS::EventSchemas::Schema" {
			continue
		}
		props := child(r, "Properties")
		content, format := child(props, "Content"), child(props, "Type")
		if content == nil || format == nil || format.Value != "OpenApi3" {
			t.Errorf("%s: want Type OpenApi3 and a literal Content", name)
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(content.Value), &doc); err != nil {
			t.Errorf("%s: Content is not JSON: %v", name, err)
			continue
		}
		event, _ := doc["components"].(map[string]any)["schemas"].(map[string]any)["AWSEvent"].(map[string]any)
		dt, _ := event["x-amazon-events-detail-type"].(string)
		registered[dt] = true
		got := jsonValue(t, inline(t, event, "", map[string]any{"": doc}))
		if w, ok := want[dt]; !ok {
			t.Errorf("%s registers %q, which api/asyncapi.yaml does not describe", name, dt)
		} else if !reflect.DeepEqual(got, w) {
			j, _ := json.Marshal(map[string]any{"openapi": "3.0.0", "info": map[string]any{"title": "usersapi@" + dt, "version": "1.0.0"},
				"paths": map[string]any{}, "components": map[string]any{"schemas": map[string]any{"AWSEvent": w}}})
			t.Errorf("%s's schema differs from api/asyncapi.yaml's %s; its Content should be:\n%s", name, dt, j)
		}
	}
	for dt := range want {
		if !registered[dt] {
			j, _ := json.Marshal(map[string]any{"openapi": "3.0.0", "info": map[string]any{"title": "usersapi@" + dt, "version": "1.0.0"},
				"paths": map[string]any{}, "components": map[string]any{"schemas": map[string]any{"AWSEvent": want[dt]}}})
			t.Errorf("template.yaml registers no schema for %s; its Content should be:\n%s", dt, j)
		}
	}
}

// child returns the value of key in the mapping node n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
