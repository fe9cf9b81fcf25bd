package eventpattern

import (
	"encoding/json"
	"testing"
)

func TestMatch(t *testing.T) {
	doc := map[string]any{}
	if err := json.Unmarshal([]byte(`{"source":"usersapi","detail-type":"UserCreated",
		"detail":{"id":"u1","age":40,"email":"ada@example.com"}}`), &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pattern string
		want    bool
	}{
		{`{}`, true},
		{`{"source":["usersapi"]}`, true},
		{`{"source":["other","usersapi"]}`, true},
		{`{"source":["other"]}`, false},
		{`{"source":"usersapi"}`, false}, // a value must be listed
		{`{"detail":{"id":["u1"],"age":[40]}}`, true},
		{`{"detail":{"id":["u2"]}}`, false},
		{`{"detail-type":[{"prefix":"User"}]}`, true},
		{`{"detail-type":[{"prefix":"Order"}]}`, false},
		{`{"detail":{"deleted":[{"exists":false}]}}`, true},
		{`{"detail":{"id":[{"exists":true}]}}`, true},
		{`{"detail":{"id":[{"exists":false}]}}`, false},
		{`{"detail-type":[{"anything-but":"UserDeleted"}]}`, true},
		{`{"detail-type":[{"anything-but":["UserCreated","UserDeleted"]}]}`, false},
		{`{"missing":[{"anything-but":"x"}]}`, false},
		{`{"source":{"nested":["x"]}}`, false},
	}
	for _, tt := range tests {
		var p map[string]any
		if err := json.Unmarshal([]byte(tt.pattern), &p); err != nil {
			t.Fatal(err)
		}
		if got := Match(p, doc); got != tt.want {
			t.Errorf("Match(%s) = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}
