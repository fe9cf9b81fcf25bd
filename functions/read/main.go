// Command read answers the API's reads: GET /users (a page, or the original
// ?userId= form), GET and HEAD /users/{id}, and GET /requests/{requestId}
// (with Retry-After while pending, and Prefer: wait=N to wait for it).
package main

import (
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/awsenv"
	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/function"
	"github.com/usersapi/usersapi/shared/requestid"
	"github.com/usersapi/usersapi/shared/signed"
)

func main() { function.Start(loadConfig, build) }

// build makes the handler and its clients once, at init.
func build(cfg config, log *slog.Logger) (any, error) {
	db := dynamo.NewClient(cfg.aws, cfg.dynamodb)
	h := &handler{users: dynamo.NewTable(db, cfg.usersTable, cfg.requestsTable, dynamo.ListShards(cfg.listShards)), cursor: cfg.key,
		ids: requestid.NewIssuer(cfg.key), log: log, now: time.Now, cors: apigw.NewCORS(cfg.cors)}
	return h.Handle, nil
}

// config is the read function's environment, read once at init.
type config struct {
	usersTable, requestsTable string
	key                       signed.Key
	cors                      string     // ALLOWED_ORIGINS
	aws                       aws.Config // traced (awsenv.Load)
	dynamodb                  *string    // endpoint override, local runs only
	listShards                int        // LIST_SHARDS (dynamo.ParseListShards)
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{usersTable: getenv("USERS_TABLE"), requestsTable: getenv("REQUESTS_TABLE"), cors: getenv("ALLOWED_ORIGINS")}
	if c.usersTable == "" || c.requestsTable == "" {
		return config{}, function.Missing("USERS_TABLE and REQUESTS_TABLE")
	}
	var err error
	if c.listShards, err = dynamo.ParseListShards(getenv("LIST_SHARDS")); err != nil {
		return config{}, err
	}
	if c.key, err = signed.NewKey(getenv("SIGNING_KEY")); err != nil {
		return config{}, err
	}
	c.aws, err = awsenv.Load(getenv)
	c.dynamodb = awsenv.Endpoint(getenv, "DYNAMODB")
	return c, err
}
