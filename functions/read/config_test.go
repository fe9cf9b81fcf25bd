package main

import (
	"strings"
	"testing"

	"github.com/usersapi/usersapi/shared/dynamo"
)

// TestLoadConfigListShards: LIST_SHARDS is read once, into the config; unset
// is the default count, and a count out of range stops the function at init.
func TestLoadConfigListShards(t *testing.T) {
	env := map[string]string{"USERS_TABLE": "u", "REQUESTS_TABLE": "r", "SIGNING_KEY": strings.Repeat("x", 32),
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}
	getenv := func(k string) string { return env[k] }
	for value, want := range map[string]int{"": dynamo.DefaultListShards, "1": 1, "32": 32} {
		env["LIST_SHARDS"] = value
		if c, err := loadConfig(getenv); err != nil || c.listShards != want {
			t.Errorf("LIST_SHARDS=%q: %d, %v; want %d", value, c.listShards, err, want)
		}
	}
	for _, bad := range []string{"0", "101", "many"} {
		env["LIST_SHARDS"] = bad
		if _, err := loadConfig(getenv); err == nil {
			t.Errorf("LIST_SHARDS=%q accepted", bad)
		}
	}
}
