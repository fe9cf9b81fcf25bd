// Package apigwtest calls the functions' handlers with API Gateway's proxy
// events and checks their responses, for tests.
package apigwtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/eventstest"
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

// Handler is a function's Handle method for API Gateway's REST proxy events.
type Handler func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// Call returns h's response to req, failing t if h returns an error.
func Call(t testing.TB, h Handler, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	return eventstest.Handle(t, h, req)
}

// Sample is a sample event and the status a function answers it with.
type Sample struct {
	Event  string // the event's file, as the loader of Samples names it
	Status int
}

// Samples runs each of samples in a subtest named for its event: it decodes
// the event with load (eventstest.Project or eventstest.AWS), calls the
// handler that newHandler returns for the subtest with it, and fails unless
// the response has the sample's status and, for a status of 400 or more, is a
// problem (see Problem).
func Samples(t *testing.T, load func(testing.TB, string, any), newHandler func(testing.TB) Handler, samples []Sample) {
	t.Helper()
	for _, s := range samples {
		t.Run(s.Event, func(t *testing.T) {
			var req events.APIGatewayProxyRequest
			load(t, s.Event, &req)
			resp := Call(t, newHandler(t), req)
			if resp.StatusCode != s.Status {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, s.Status, resp.Body)
			}
			if s.Status >= 400 {
				Problem(t, resp)
			}
		})
	}
}
