// Command read answers the API's reads: GET /users (a page, or the original
// ?userId= form), GET and HEAD /users/{id}, and GET /requests/{requestId}.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/requestid"
	"github.com/usersapi/usersapi/shared/trace"
)

func main() {
	log := trace.NewLogger()
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		log.Error("config", "err", err)
		os.Exit(1)
	}
	db := dynamo.NewClient(cfg.aws, cfg.dynamodb)
	h := &handler{users: dynamo.NewTable(db, cfg.usersTable, cfg.requestsTable), cursor: cfg.key,
		ids: requestid.NewIssuer(cfg.key), log: log, now: time.Now, cors: apigw.NewCORS(cfg.cors)}
	lambda.Start(h.Handle)
}
