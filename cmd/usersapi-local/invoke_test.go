package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestInvokeEveryEvent runs `invoke` on every file of events/, as a user
// would, and checks each result.
func TestInvokeEveryEvent(t *testing.T) {
	t.Chdir(checkout(t, "template.yaml", "api", "events"))
	t.Setenv("USERSAPI_TOOLS", filepath.Join(cloudtest.Root(), ".tools"))

	// What each sample gives against empty tables: a status for the API's
	// functions, the number of batch item failures for the others.
	want := map[string]map[string]int{
		"ReadFunction": {"get-user.json": 404, "get-user-missing.json": 404, "get-user-query.json": 404, "list-users.json": 200,
			"get-request.json": 200, "method-not-allowed.json": 405, "export-user.json": 404},
		// The tables are empty: a write to a user that does not exist is 403 for its
		// would-be owner, as for another caller's user.
		"IngestFunction": {"create-user.json": 202, "create-user-invalid.json": 400, "replace-user.json": 403, "patch-user.json": 403, "delete-user.json": 403},
		"WorkerFunction": {"sqs-batch.json": 0, "sqs-poison.json": -1},
		"StreamFunction": {"stream-batch.json": 0},
	}
	covered := map[string]bool{}
	for fn, files := range want {
		t.Run(fn, func(t *testing.T) {
			args := []string{fn}
			var names []string
			for name := range files {
				args = append(args, "-e", filepath.Join("events", name))
				names = append(names, name)
				covered[name] = true
			}
			var out, logs bytes.Buffer
			code, err := invoke(context.Background(), args, &out, &logs)
			if err != nil {
				if strings.Contains(err.Error(), "make tools") && os.Getenv("CI") != "true" {
					t.Skip(err)
				}
				t.Fatalf("invoke: %v\n%s", err, logs.String())
			}
			if code != 0 {
				t.Fatalf("exit %d: a function failed\n%s", code, out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != len(names) {
				t.Fatalf("%d results for %d events", len(lines), len(names))
			}
			for i, line := range lines {
				var res struct {
					StatusCode        int
					BatchItemFailures []any `json:"batchItemFailures"`
				}
				if err := json.Unmarshal([]byte(line), &res); err != nil {
					t.Fatalf("%s: %v: %s", names[i], err, line)
				}
				w := files[names[i]]
				switch {
				case w >= 100 && res.StatusCode != w:
					t.Errorf("%s: status %d, want %d: %s", names[i], res.StatusCode, w, line)
				case w == 0 && len(res.BatchItemFailures) != 0:
					t.Errorf("%s: failures %v, want none", names[i], res.BatchItemFailures)
				case w == -1 && len(res.BatchItemFailures) == 0:
					t.Errorf("%s: no failure reported for its poison message", names[i])
				}
			}
		})
	}
	entries, _ := os.ReadDir(filepath.Join(cloudtest.Root(), "events"))
	for _, e := range entries {
		if !covered[e.Name()] && !strings.HasPrefix(e.Name(), "authorizer") {
			t.Errorf("events/%s is not invoked by this test", e.Name())
		}
	}
}
