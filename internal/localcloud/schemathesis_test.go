package localcloud_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// schemathesisConfig narrows Schemathesis's checks (all of them run) where
// the API is right and the document cannot say why; each exclusion is as
// narrow as Schemathesis's configuration allows, and the README explains it.
const schemathesisConfig = `
# An accepted write that later fails, and a reused Idempotency-Key: Schemathesis sends
# schema-valid writes that the API accepts and then fails as its outcome (README: a
# stale If-Match, an email another user has, a user deleted meanwhile); with
# Prefer: wait=N that outcome is the answer: 412 precondition-failed (409 email-taken
# and 404 not-found are expected anyway). And it sends the document's example key
# ("order-42") with different requests, which is 422 idempotency-key-reused by design.
# Every other status of a valid request still fails the check.
[checks.positive_data_acceptance]
expected-statuses = ["2XX", "3XX", "401", "403", "404", "409", "412", "422", "429"]

# Schemathesis's coverage phase sends a header of this pattern as the bare number 0
# (If-Match: 0), which it then counts as schema-valid (a bug of Schemathesis 4.32.5:
# 0 does not match ^"[1-9][0-9]{0,17}"$). A fixed valid ETag avoids it; a stale one
# is the accepted write that later fails above. The hostile-input tests send If-Match
# in every malformed form instead (hostile_e2e_test.go).
[parameters]
"header.If-Match" = '"1"'

# A cursor must be one the API returned (it is signed: README, "the cursor is opaque and
# signed: a changed one is 400"); no schema can say that, so a generated one is 400.
[[operations]]
include-operation-id = ["listUsers", "headUsers"]
checks.positive_data_acceptance.enabled = false

# A CORS preflight answers for its path whatever the id in it: the browser asks before
# the request and gets its answer from the CORS headers, never from a 400 or a 404. So
# an id of the wrong form is 204 there, not the 400 it is on the other methods, and so
# is the id of a user deleted a moment ago (the stateful phase's "deleted resource
# still available" is about the resource, which a preflight does not serve).
[[operations]]
include-operation-id = ["preflightUser", "preflightUserExport", "preflightRequest"]
checks.negative_data_rejection.enabled = false
checks.use_after_free.enabled = false

# The export of a deleted user answers 200 with what the API still holds of it (its
# tombstone and its request history, until they expire: docs/privacy.md), which is what
# the right of access asks; so "deleted resource still available" does not apply.
[[operations]]
include-operation-id = ["exportUser", "headUserExport"]
checks.use_after_free.enabled = false
`

// TestSchemathesis runs Schemathesis (tools/requirements.txt) against the
// local API with api/openapi.yaml and every check it has: the document's
// examples, its edge cases and invalid variants (coverage), generated cases
// (fuzzing), then sequences of calls (stateful) along the document's links
// (a create's 202 to its request and its user) and those Schemathesis infers.
// The exclusions are schemathesisConfig's, each with its reason. The cloud is
// cloudtest's, whose web ACL rate limit (WafRateLimit) is raised, so the run
// is not cut short by the rate rule. It is bounded (a few examples an
// operation, a fixed seed, a timeout on each request) to about a minute on
// two cores; SCHEMATHESIS_MAX_EXAMPLES and SCHEMATHESIS_SEED explore further.
func TestSchemathesis(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	bin := schemathesisBinary(t)
	c := cloudtest.Cloud(t)
	examples, seed := envInt(t, "SCHEMATHESIS_MAX_EXAMPLES", 25), envInt(t, "SCHEMATHESIS_SEED", 1)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	config := filepath.Join(dir, "schemathesis.toml")
	if err := os.WriteFile(config, []byte(schemathesisConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "--config-file", config, "run", filepath.Join(cloudtest.Root(), "api", "openapi.yaml"),
		"--url", c.URL,
		// A key on no usage plan, so that the run is not throttled, and an admin
		// token, so that listing and other callers' users are reached too.
		"--header", "x-api-key: "+cloudtest.TestKey,
		"--header", "Authorization: "+cloudtest.Token(t, c, "schemathesis", "users.read users.write users.admin"),
		// Writes answer with their outcome (201, 200, 204 or its problem) once applied,
		// so the stateful phase's next call (a read of the user just created, a read
		// after a delete) sees the write applied, as a client that waits does; without
		// it, a read right after a 202 may precede the write, which is the contract.
		"--header", "Prefer: wait=10",
		// Every check runs: Schemathesis 4 enables them all unless told otherwise, and
		// `--checks all` would override the per-operation exclusions of the config.
		"--phases", "examples,coverage,fuzzing,stateful",
		"--max-examples", strconv.Itoa(examples),
		"--seed", strconv.Itoa(seed),
		"--request-timeout", "10",
		"--generation-database", "none",
		"--max-failures", "20",
		"--no-color",
		"--report", "junit,ndjson", "--report-dir", dir,
	)
	cmd.Dir = dir // nothing written into the repository
	cmd.Env = append(os.Environ(), "HOME="+dir, "COLUMNS=120")
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("schemathesis (%d examples an operation, seed %d) ran in %s", examples, seed, time.Since(start).Round(time.Second))
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("schemathesis did not finish in time:\n%s", out)
	case errors.As(err, &exit):
		t.Fatalf("schemathesis found problems (exit %d); each names its operation, request and response:\n%s\n--- log ---\n%s",
			exit.ExitCode(), out, tail(cloudtest.Log.String()))
	case err != nil:
		t.Fatalf("schemathesis: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}

// schemathesisBinary is .tools/venv/bin/schemathesis ($USERSAPI_TOOLS, if set,
// names .tools). A missing one fails the test under CI=true, skips it elsewhere.
func schemathesisBinary(t *testing.T) string {
	t.Helper()
	tools := os.Getenv("USERSAPI_TOOLS")
	if tools == "" {
		tools = filepath.Join(cloudtest.Root(), ".tools")
	}
	bin := filepath.Join(tools, "venv", "bin", "schemathesis")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("schemathesis is not installed at %s (make tools)", bin)
		}
		t.Skipf("schemathesis is not installed at %s: run `make tools`", bin)
	}
	return bin
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
