package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/usersapi/usersapi/shared/awsenv"
	"github.com/usersapi/usersapi/shared/signed"
)

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
		return config{}, errMissing("QUEUE_URL, USERS_TABLE, REQUESTS_TABLE and IDEMPOTENCY_TABLE")
	}
	var err error
	if c.key, err = signed.NewKey(getenv("SIGNING_KEY")); err != nil {
		return config{}, err
	}
	c.aws, err = awsenv.Load(getenv)
	c.dynamodb, c.sqs = awsenv.Endpoint(getenv, "DYNAMODB"), awsenv.Endpoint(getenv, "SQS")
	return c, err
}

type errMissing string

func (e errMissing) Error() string { return string(e) + " must be set" }
