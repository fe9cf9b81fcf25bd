package main

import (
	"testing"

	"github.com/usersapi/usersapi/shared/dynamo"
)

// TestLoadConfig: the worker's settings are read once, into its config, and
// a missing table stops it at init. LIST_SHARDS goes through
// dynamo.ParseListShards (TestParseListShards has its range): unset is the
// default count, and a count it refuses stops the worker too.
func TestLoadConfig(t *testing.T) {
	env := map[string]string{"USERS_TABLE": "u", "REQUESTS_TABLE": "r", "STAGE": "dev", "LIST_SHARDS": "32",
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}
	getenv := func(k string) string { return env[k] }
	c, err := loadConfig(getenv)
	if err != nil || c.usersTable != "u" || c.requestsTable != "r" || c.stage != "dev" || c.listShards != 32 {
		t.Fatalf("tables %q %q, stage %q, %d shards, %v", c.usersTable, c.requestsTable, c.stage, c.listShards, err)
	}
	tests := []struct {
		name, key, value string
		ok               bool
	}{
		{"LIST_SHARDS unset", "LIST_SHARDS", "", true},
		{"a count ParseListShards refuses", "LIST_SHARDS", "many", false},
		{"no users table", "USERS_TABLE", "", false},
		{"no requests table", "REQUESTS_TABLE", "", false},
	}
	for _, tt := range tests {
		saved := env[tt.key]
		env[tt.key] = tt.value
		c, err := loadConfig(getenv)
		env[tt.key] = saved
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok %v", tt.name, err, tt.ok)
		}
		if tt.key == "LIST_SHARDS" && tt.ok && c.listShards != dynamo.DefaultListShards {
			t.Errorf("%s: %d shards, want %d", tt.name, c.listShards, dynamo.DefaultListShards)
		}
	}
}
