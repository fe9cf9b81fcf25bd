// Command worker carries out the accepted writes: it consumes batches of
// commands from the SQS FIFO write queue and applies each to DynamoDB exactly
// once, reporting the messages to retry as batch item failures.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/usersapi/usersapi/shared/awsenv"
	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/function"
	"github.com/usersapi/usersapi/shared/metrics"
)

func main() { function.Start(loadConfig, build) }

// build makes the handler and its clients once, at init.
func build(cfg config, log *slog.Logger) (any, error) {
	table := dynamo.NewTable(dynamo.NewClient(cfg.aws, cfg.dynamodb), cfg.usersTable, cfg.requestsTable,
		dynamo.ListShards(cfg.listShards))
	h := &handler{users: table, log: log, metrics: metrics.New(os.Stdout, cfg.stage)}
	return h.Handle, nil
}

// config is the worker's environment, read once at init.
type config struct {
	usersTable, requestsTable string
	stage                     string     // STAGE
	aws                       aws.Config // traced (awsenv.Load)
	dynamodb                  *string    // endpoint override, local runs only
	listShards                int        // LIST_SHARDS (dynamo.ParseListShards)
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{usersTable: getenv("USERS_TABLE"), requestsTable: getenv("REQUESTS_TABLE"), stage: getenv("STAGE")}
	if c.usersTable == "" || c.requestsTable == "" {
		return config{}, function.Missing("USERS_TABLE and REQUESTS_TABLE")
	}
	var err error
	if c.listShards, err = dynamo.ParseListShards(getenv("LIST_SHARDS")); err != nil {
		return config{}, err
	}
	c.aws, err = awsenv.Load(getenv)
	c.dynamodb = awsenv.Endpoint(getenv, "DYNAMODB")
	return c, err
}
