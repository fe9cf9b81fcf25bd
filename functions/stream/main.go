// Command stream turns the users table's stream into change events: one
// EventBridge event (UserCreated, UserUpdated, UserDeleted) per applied write.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/usersapi/usersapi/shared/awsenv"
	"github.com/usersapi/usersapi/shared/bus"
	"github.com/usersapi/usersapi/shared/function"
	"github.com/usersapi/usersapi/shared/metrics"
)

func main() { function.Start(loadConfig, build) }

// build makes the handler and its clients once, at init.
func build(cfg config, log *slog.Logger) (any, error) {
	events := bus.NewPublisher(bus.NewClient(cfg.aws, cfg.eventbridge), cfg.bus, cfg.source)
	h := &handler{bus: events, log: log, metrics: metrics.New(os.Stdout, cfg.stage)}
	return h.Handle, nil
}

// config is the stream function's environment, read once at init.
type config struct {
	bus, source string     // EVENT_BUS, EVENT_SOURCE: where the change events go, and their source
	stage       string     // STAGE
	aws         aws.Config // traced (awsenv.Load)
	eventbridge *string    // endpoint override, local runs only
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{bus: getenv("EVENT_BUS"), source: getenv("EVENT_SOURCE"), stage: getenv("STAGE")}
	if c.bus == "" || c.source == "" {
		return config{}, function.Missing("EVENT_BUS and EVENT_SOURCE")
	}
	var err error
	c.aws, err = awsenv.Load(getenv)
	c.eventbridge = awsenv.Endpoint(getenv, "EVENTBRIDGE")
	return c, err
}
