// Command echo is a test function: it answers its payload, or misbehaves as told.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type order struct {
	SleepMs int    `json:"sleepMs"`
	Error   string `json:"error"`
	Panic   bool   `json:"panic"`
	Exit    bool   `json:"exit"`
}

type answer struct {
	Order     order  `json:"order"`
	RequestID string `json:"requestId"`
	ARN       string `json:"arn"`
	Trace     string `json:"trace"`
	Deadline  bool   `json:"deadline"`
	PID       int    `json:"pid"`
	Env       string `json:"env"`
}

func main() {
	if os.Getenv("ECHO_FAIL_INIT") != "" {
		os.Exit(2)
	}
	lambda.Start(func(ctx context.Context, o order) (answer, error) {
		lc, _ := lambdacontext.FromContext(ctx)
		_, hasDeadline := ctx.Deadline()
		trace, _ := ctx.Value("x-amzn-trace-id").(string)
		switch {
		case o.Panic:
			panic("told to panic")
		case o.Exit:
			os.Exit(3)
		case o.Error != "":
			return answer{}, errors.New(o.Error)
		}
		time.Sleep(time.Duration(o.SleepMs) * time.Millisecond)
		return answer{Order: o, RequestID: lc.AwsRequestID, ARN: lc.InvokedFunctionArn, Trace: trace, Deadline: hasDeadline, PID: os.Getpid(), Env: os.Getenv("ECHO_ENV")}, nil
	})
}
