// Command read answers the API's reads: GET /users (a page, or the original
// ?userId= form), GET and HEAD /users/{id}, and GET /requests/{requestId}.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/awsenv"
	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/faults"
	"github.com/usersapi/usersapi/shared/requestid"
	"github.com/usersapi/usersapi/shared/signed"
	"github.com/usersapi/usersapi/shared/trace"
)

func main() {
	log := trace.NewLogger()
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		log.Error("config", "err", err)
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
	h := &handler{
		users:  dynamo.NewTable(db, cfg.usersTable, cfg.requestsTable),
		cursor: cfg.key,
		ids:    requestid.NewIssuer(cfg.key),
		log:    log,
		now:    time.Now,
		cors:   apigw.NewCORS(os.Getenv("ALLOWED_ORIGINS")),
	}
	lambda.Start(h.Handle)
}

type config struct {
	usersTable, requestsTable string
	key                       signed.Key
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{usersTable: getenv("USERS_TABLE"), requestsTable: getenv("REQUESTS_TABLE")}
	if c.usersTable == "" || c.requestsTable == "" {
		return config{}, errMissing("USERS_TABLE and REQUESTS_TABLE")
	}
	var err error
	c.key, err = signed.NewKey(getenv("SIGNING_KEY"))
	return c, err
}

type errMissing string

func (e errMissing) Error() string { return string(e) + " must be set" }
