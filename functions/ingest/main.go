// Command ingest accepts the API's writes: it validates POST /users and PUT,
// PATCH and DELETE /users/{id}, enqueues each as a command on the SQS FIFO
// write queue, and answers 202 Accepted with a request id to follow; with
// Prefer: wait=N, the write's own answer (201, 200, 204 or its problem) when
// it is applied within N seconds.
package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/awsenv"
	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/function"
	"github.com/usersapi/usersapi/shared/idempotency"
	"github.com/usersapi/usersapi/shared/metrics"
	"github.com/usersapi/usersapi/shared/queue"
	"github.com/usersapi/usersapi/shared/requestid"
	"github.com/usersapi/usersapi/shared/signed"
	"github.com/usersapi/usersapi/shared/users"
)

func main() { function.Start(loadConfig, build) }

// build makes the handler and its clients once, at init.
func build(cfg config, log *slog.Logger) (any, error) {
	db := dynamo.NewClient(cfg.aws, cfg.dynamodb)
	h := &handler{
		users:     dynamo.NewTable(db, cfg.usersTable, cfg.requestsTable),
		keys:      idempotency.New(dynamo.NewKeys(db, cfg.keysTable), time.Now),
		queue:     queue.NewSender(queue.NewClient(cfg.aws, cfg.sqs), cfg.queueURL),
		ids:       requestid.NewIssuer(cfg.key),
		newUserID: newUserID,
		cors:      apigw.NewCORS(cfg.cors),
		log:       log,
		metrics:   metrics.New(os.Stdout, cfg.stage),
	}
	return h.Handle, nil
}

// newUserID makes a user id: a UUIDv7, so ids sort by creation time.
func newUserID() (users.ID, error) {
	id, err := uuid.NewV7()
	return users.ID(id.String()), err
}

// config is the ingest function's environment, read once at init.
type config struct {
	queueURL, usersTable, requestsTable, keysTable string
	key                                            signed.Key
	cors, stage                                    string     // ALLOWED_ORIGINS, STAGE
	aws                                            aws.Config // traced (awsenv.Load)
	dynamodb, sqs                                  *string    // endpoint overrides, local runs only
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{queueURL: getenv("QUEUE_URL"), usersTable: getenv("USERS_TABLE"), requestsTable: getenv("REQUESTS_TABLE"), keysTable: getenv("IDEMPOTENCY_TABLE"),
		cors: getenv("ALLOWED_ORIGINS"), stage: getenv("STAGE")}
	if c.queueURL == "" || c.usersTable == "" || c.requestsTable == "" || c.keysTable == "" {
		return config{}, function.Missing("QUEUE_URL, USERS_TABLE, REQUESTS_TABLE and IDEMPOTENCY_TABLE")
	}
	var err error
	if c.key, err = signed.NewKey(getenv("SIGNING_KEY")); err != nil {
		return config{}, err
	}
	c.aws, err = awsenv.Load(getenv)
	c.dynamodb, c.sqs = awsenv.Endpoint(getenv, "DYNAMODB"), awsenv.Endpoint(getenv, "SQS")
	return c, err
}
