// Package eventstest loads sample events for the functions' tests and hands
// them to handlers (Handle). The samples are the project's own, in events/,
// and AWS's own: the test data of the github.com/aws/aws-lambda-go module
// (events/testdata) at the version go.mod pins, read from the module cache.
// Nothing is read from outside the repository and the modules it depends on.
package eventstest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Root returns the repository's root directory.
func Root(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("eventstest: cannot find the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Project decodes events/<name> into v, failing the test if it cannot.
func Project(tb testing.TB, name string, v any) {
	tb.Helper()
	decode(tb, filepath.Join(Root(tb), "events", name), v)
}

// AWS decodes <name> of AWS's sample events (events/testdata of the
// aws-lambda-go module, for example "apigw-request.json" or
// "sqs-event.json") into v, failing the test if it cannot.
func AWS(tb testing.TB, name string, v any) {
	tb.Helper()
	dir, err := awsTestdata()
	if err != nil {
		tb.Fatalf("eventstest: AWS's sample events: %v", err)
	}
	decode(tb, filepath.Join(dir, name), v)
}

// lambdaModule is the module whose events/testdata holds AWS's sample events.
const lambdaModule = "github.com/aws/aws-lambda-go"

// awsTestdata finds events/testdata of the aws-lambda-go module that go.mod
// pins: in the module cache, or else where `go list -m` says the module is.
var awsTestdata = sync.OnceValues(func() (string, error) {
	if dir := cachedModule(); dir != "" {
		return dir, nil
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", lambdaModule).Output()
	if err != nil {
		return "", fmt.Errorf("%s is not in the module cache, and go list -m: %w", lambdaModule, err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "events", "testdata")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("go list -m %s: %w", lambdaModule, err)
	}
	return dir, nil
})

// cachedModule returns events/testdata of aws-lambda-go, at the version
// go.mod requires, in the module cache (GOMODCACHE, or GOPATH's pkg/mod), or
// "" if it is not there. (A test binary carries no build info of its
// dependencies, so the version comes from go.mod.)
func cachedModule() string {
	_, file, _, _ := runtime.Caller(0)
	mod, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "go.mod"))
	if err != nil {
		return ""
	}
	version := ""
	for line := range strings.Lines(string(mod)) {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == lambdaModule {
			version = f[1]
		}
		if len(f) >= 1 && f[0] == "replace" && strings.Contains(line, lambdaModule) {
			return "" // go list -m knows where a replacement is
		}
	}
	if version == "" {
		return ""
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return ""
			}
			gopath = filepath.Join(home, "go")
		}
		cache = filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod")
	}
	// The path has no upper-case letters, which the cache would escape.
	dir := filepath.Join(cache, filepath.FromSlash(lambdaModule)+"@"+version, "events", "testdata")
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

func decode(tb testing.TB, path string, v any) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read event: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
}

// As returns req as sub would send it with scopes, as the authorizer's
// context says it; with no sub, req carries no authorizer context at all.
func As(req events.APIGatewayProxyRequest, sub, scopes string) events.APIGatewayProxyRequest {
	req.RequestContext.Authorizer = nil
	if sub != "" {
		req.RequestContext.Authorizer = map[string]any{"principalId": sub, "sub": sub, "scopes": scopes}
	}
	return req
}

// Handle returns what handle answers to ev, failing t if handle returns an
// error (a handler reports failures in its answer, not as an error).
func Handle[E, R any](t testing.TB, handle func(context.Context, E) (R, error), ev E) R {
	t.Helper()
	resp, err := handle(t.Context(), ev)
	if err != nil {
		t.Fatalf("Handle returned an error: %v", err)
	}
	return resp
}
