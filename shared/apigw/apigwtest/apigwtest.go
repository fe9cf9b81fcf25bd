// Package apigwtest checks the functions' API Gateway responses, for tests.
package apigwtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
)

// Problem returns the problem+json body of resp, failing t unless resp is
// one: the content type, a type under apigw.ProblemBase, a title, and the
// response's own status.
func Problem(t testing.TB, resp events.APIGatewayProxyResponse) apigw.Problem {
	t.Helper()
	if ct := resp.Headers["Content-Type"]; ct != apigw.ProblemContentType {
		t.Fatalf("Content-Type %q, want problem+json; body %s", ct, resp.Body)
	}
	var p apigw.Problem
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != resp.StatusCode || !strings.HasPrefix(p.Type, apigw.ProblemBase) || p.Title == "" {
		t.Fatalf("problem %+v does not match status %d", p, resp.StatusCode)
	}
	return p
}
