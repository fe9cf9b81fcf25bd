package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/usersapi/usersapi/shared/awsenv"
)

// config is the worker's environment, read once at init.
type config struct {
	usersTable, requestsTable string
	stage                     string     // STAGE
	aws                       aws.Config // traced (awsenv.Load)
	dynamodb                  *string    // endpoint override, local runs only
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{usersTable: getenv("USERS_TABLE"), requestsTable: getenv("REQUESTS_TABLE"), stage: getenv("STAGE")}
	if c.usersTable == "" || c.requestsTable == "" {
		return config{}, errMissing("USERS_TABLE and REQUESTS_TABLE")
	}
	var err error
	c.aws, err = awsenv.Load(getenv)
	c.dynamodb = awsenv.Endpoint(getenv, "DYNAMODB")
	return c, err
}

type errMissing string

func (e errMissing) Error() string { return string(e) + " must be set" }
