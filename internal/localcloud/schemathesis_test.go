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

// schemathesisChecks are the properties every response must have: no 5xx, and
// nothing the document does not say (status, Content-Type, headers, body).
const schemathesisChecks = "not_a_server_error,status_code_conformance,content_type_conformance," +
	"response_headers_conformance,response_schema_conformance"

// TestSchemathesis runs Schemathesis (tools/requirements.txt) against the
// local API with api/openapi.yaml: examples made from the document's schemas,
// their edge cases and invalid variants, then sequences of calls. It is
// bounded (a few examples an operation, a fixed seed, a timeout on each
// request) to about a minute on two cores; SCHEMATHESIS_MAX_EXAMPLES and
// SCHEMATHESIS_SEED explore further.
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
	cmd := exec.CommandContext(ctx, bin, "run", filepath.Join(cloudtest.Root(), "api", "openapi.yaml"),
		"--url", c.URL,
		// A key on no usage plan, so that the run is not throttled, and an admin
		// token, so that listing and other callers' users are reached too.
		"--header", "x-api-key: "+cloudtest.TestKey,
		"--header", "Authorization: "+cloudtest.Token(t, c, "schemathesis", "users.read users.write users.admin"),
		"--checks", schemathesisChecks,
		"--max-examples", strconv.Itoa(examples),
		"--seed", strconv.Itoa(seed),
		"--request-timeout", "10",
		"--generation-database", "none",
		"--max-failures", "20",
		"--no-color",
		"--report", "junit", "--report-dir", dir,
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
