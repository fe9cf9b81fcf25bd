// Command worker carries out the accepted writes: it consumes batches of
// commands from the SQS FIFO write queue and applies each to DynamoDB exactly
// once, reporting the messages to retry as batch item failures.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/usersapi/usersapi/shared/awsenv"
	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/faults"
	"github.com/usersapi/usersapi/shared/metrics"
	"github.com/usersapi/usersapi/shared/trace"
)

func main() {
	log := trace.NewLogger()
	usersTable, requestsTable := os.Getenv("USERS_TABLE"), os.Getenv("REQUESTS_TABLE")
	if usersTable == "" || requestsTable == "" {
		log.Error("config", "err", "USERS_TABLE and REQUESTS_TABLE must be set")
		os.Exit(1)
	}
	awsCfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	trace.Instrument(&awsCfg)
	faults.Instrument(&awsCfg) // a no-op unless built with -tags faultinject (tests only)
	db := dynamo.NewClient(awsCfg, awsenv.Endpoint(os.Getenv, "DYNAMODB"))
	h := &handler{users: dynamo.NewTable(db, usersTable, requestsTable), log: log, metrics: metrics.New(os.Stdout, os.Getenv("STAGE"))}
	lambda.Start(h.Handle)
}
