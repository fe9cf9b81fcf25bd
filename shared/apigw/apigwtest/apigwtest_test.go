package apigwtest

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/eventstest"
)

// TestSamples: AWS's REST API samples, POSTs through /{proxy+}, answered by a
// handler that routes nothing, are 404 problems.
func TestSamples(t *testing.T) {
	unrouted := func(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return apigw.Unrouted(&req), nil
	}
	Samples(t, eventstest.AWS, func(testing.TB) Handler { return unrouted }, []Sample{
		{Event: "apigw-request.json", Status: 404},
		{Event: "apigw-restapi-openapi-request.json", Status: 404},
	})
}
