package eventstest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestAWS(t *testing.T) {
	var ev events.SQSEvent
	AWS(t, "sqs-event.json", &ev)
	if len(ev.Records) == 0 || ev.Records[0].EventSource != "aws:sqs" {
		t.Fatalf("sqs-event.json decoded as %+v", ev)
	}
}

func TestAWSTestdata(t *testing.T) {
	dir, err := awsTestdata()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"apigw-request.json", "apigw-restapi-openapi-request.json", "apigw-custom-auth-request.json",
		"apigw-custom-auth-request-type-request.json", "sqs-event.json", "dynamodb-event.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("AWS's sample events in %s: %v", dir, err)
		}
	}
	if cachedModule() == "" {
		t.Logf("found by go list -m, not in the module cache: %s", dir)
	}
}

func TestHandle(t *testing.T) {
	double := func(_ context.Context, n int) (int, error) { return 2 * n, nil }
	if got := Handle(t, double, 21); got != 42 {
		t.Errorf("Handle: %d, want 42", got)
	}
}
