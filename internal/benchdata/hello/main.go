// Command hello is the smallest aws-lambda-go function, built exactly as the
// functions are (-tags lambda.norpc, stripped, CGO_ENABLED=0): the yardstick
// that `make bench` divides their binary size, zip size and init time by.
// Nothing deploys it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

// event is whatever JSON object the invocation carries.
type event struct {
	Name string `json:"name"`
}

func main() {
	lambda.Start(func(_ context.Context, ev event) (string, error) {
		return "hello " + ev.Name, nil
	})
}
