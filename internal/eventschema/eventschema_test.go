package eventschema_test

import (
	"strings"
	"testing"

	"github.com/usersapi/usersapi/api"
	"github.com/usersapi/usersapi/internal/eventschema"
)

// good is a UserCreated event as EventBridge delivers it.
const good = `{"version":"0","id":"6f7e0d2a-0000-4000-8000-000000000000","detail-type":"UserCreated","source":"usersapi",
"account":"123456789012","time":"2025-03-01T12:00:00Z","region":"us-east-1","resources":[],
"detail":{"eventId":"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b#1","userId":"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b","version":1,
"requestId":"AQGi-request","occurredAt":"2025-03-01T12:00:00.123456789Z"}}`

func TestCheck(t *testing.T) {
	s, err := eventschema.New(api.AsyncAPI, api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check([]byte(good)); err != nil {
		t.Errorf("a good event: %v", err)
	}
	replayed := strings.Replace(good, `"resources":[]`, `"resources":[],"replay-name":"r1"`, 1)
	if err := s.Check([]byte(replayed)); err != nil {
		t.Errorf("a replayed event: %v", err)
	}
	tests := []struct {
		name, event string
		want        []string // in the reason
	}{
		{"unknown detail-type", strings.Replace(good, `"detail-type":"UserCreated"`, `"detail-type":"Ping"`, 1),
			[]string{`unknown detail-type "Ping"`, "UserCreated, UserDeleted, UserUpdated"}},
		{"no detail-type", strings.Replace(good, `"detail-type":"UserCreated",`, ``, 1), []string{`unknown detail-type ""`}},
		{"a malformed user id", strings.Replace(good, `"userId":"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"`, `"userId":"42"`, 1),
			[]string{"not a UserCreated", "detail.userId"}},
		{"personal data in the detail", strings.Replace(good, `"version":1,`, `"version":1,"email":"ada@example.com",`, 1),
			[]string{"detail", "email"}},
		{"no detail", strings.Replace(good, `"detail":{`, `"details":{`, 1), []string{`"detail"`}},
		{"not an object", `[1]`, []string{"not a JSON object"}},
		{"not JSON", `{`, []string{"not JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Check([]byte(tt.event))
			if err == nil {
				t.Fatal("matches")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("reason %q has no %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "ada@example.com") || strings.Contains(err.Error(), "\n") {
				t.Errorf("reason %q: a value, or more than a line", err)
			}
		})
	}
}

func TestPayloadsRefuse(t *testing.T) {
	for name, doc := range map[string]string{
		"no messages":  "asyncapi: 3.0.0\n",
		"other format": "components:\n  messages:\n    M:\n      payload:\n        schemaFormat: application/schema+json;version=draft-07\n        schema: {type: object}\n",
		"dangling ref": "components:\n  messages:\n    M:\n      payload:\n        schemaFormat: " + eventschema.SchemaFormat + "\n        schema: {$ref: '#/nowhere'}\n",
		"not YAML":     "components: [",
	} {
		if _, err := eventschema.New([]byte(doc), api.OpenAPI); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
