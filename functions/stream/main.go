// Command stream turns the users table's stream into change events: one
// EventBridge event (UserCreated, UserUpdated, UserDeleted) per applied write.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/usersapi/usersapi/shared/bus"
	"github.com/usersapi/usersapi/shared/metrics"
	"github.com/usersapi/usersapi/shared/trace"
)

func main() {
	log := trace.NewLogger()
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		log.Error("config", "err", err)
		os.Exit(1)
	}
	events := bus.NewPublisher(bus.NewClient(cfg.aws, cfg.eventbridge), cfg.bus, cfg.source)
	h := &handler{bus: events, log: log, metrics: metrics.New(os.Stdout, cfg.stage)}
	lambda.Start(h.Handle)
}
