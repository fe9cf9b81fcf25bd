// Command worker carries out the accepted writes: it consumes batches of
// commands from the SQS FIFO write queue and applies each to DynamoDB exactly
// once, reporting the messages to retry as batch item failures.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/usersapi/usersapi/shared/dynamo"
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
	table := dynamo.NewTable(dynamo.NewClient(cfg.aws, cfg.dynamodb), cfg.usersTable, cfg.requestsTable)
	h := &handler{users: table, log: log, metrics: metrics.New(os.Stdout, cfg.stage)}
	lambda.Start(h.Handle)
}
