// Package eventstest loads sample events for the functions' tests: the
// project's own in events/ and AWS's in ../shared/aws-events/.
package eventstest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
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

// AWS decodes ../shared/aws-events/<name> (AWS's own sample events, kept
// beside the repository and never copied into it) into v.
func AWS(tb testing.TB, name string, v any) {
	tb.Helper()
	decode(tb, filepath.Join(Root(tb), "..", "shared", "aws-events", name), v)
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
