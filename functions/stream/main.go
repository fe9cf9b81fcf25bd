// Command stream turns the users table's stream into change events: one
// EventBridge event (UserCreated, UserUpdated, UserDeleted) per applied write.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/usersapi/usersapi/shared/awsenv"
	"github.com/usersapi/usersapi/shared/bus"
	"github.com/usersapi/usersapi/shared/faults"
	"github.com/usersapi/usersapi/shared/metrics"
	"github.com/usersapi/usersapi/shared/trace"
)

func main() {
	log := trace.NewLogger()
	busName, source := os.Getenv("EVENT_BUS"), os.Getenv("EVENT_SOURCE")
	if busName == "" || source == "" {
		log.Error("config", "err", "EVENT_BUS and EVENT_SOURCE must be set")
		os.Exit(1)
	}
	awsCfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	trace.Instrument(&awsCfg)
	faults.Instrument(&awsCfg) // a no-op unless built with -tags faultinject (tests only)
	h := &handler{bus: bus.NewPublisher(bus.NewClient(awsCfg, awsenv.Endpoint(os.Getenv, "EVENTBRIDGE")), busName, source), log: log,
		metrics: metrics.New(os.Stdout, os.Getenv("STAGE"))}
	lambda.Start(h.Handle)
}
