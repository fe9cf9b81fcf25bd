// Package function starts a Lambda function the one way every function of
// this project starts: a logger (trace.NewLogger), a handler built once from
// the environment, and lambda.Start.
package function

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/usersapi/usersapi/shared/trace"
)

// Start reads the function's configuration from the environment with load,
// builds its handler (and clients) with build, and serves the handler with
// lambda.Start. build returns what lambda.Start accepts, usually a method
// value such as h.Handle. A configuration that cannot be read or a handler
// that cannot be built is logged and the process exits 1, which Lambda
// reports as a failed init.
func Start[C any](load func(getenv func(string) string) (C, error), build func(C, *slog.Logger) (any, error)) {
	log := trace.NewLogger()
	cfg, err := load(os.Getenv)
	var h any
	if err == nil {
		h, err = build(cfg, log)
	}
	if err != nil {
		log.Error("init", "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
}

// Missing is the error of a load function whose environment lacks settings
// the function needs; it names them: Missing("EVENT_BUS and EVENT_SOURCE").
type Missing string

// Error says that the settings must be set.
func (m Missing) Error() string { return string(m) + " must be set" }
