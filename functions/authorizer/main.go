// Command authorizer is the API's Lambda authorizer (REQUEST type, identity
// source the Authorization header). It verifies the bearer JWT against the
// issuer's JWK Set and answers API Gateway with an IAM policy for the whole
// API and the caller's sub, scopes and client id as context; no valid token
// is 401, a valid token with none of the API's scopes is 403.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

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
	// Nothing is fetched here: the key set comes with the first token.
	h := &handler{tokens: newVerifier(cfg, newKeySet(cfg.jwksURL, log), time.Now), log: log, metrics: metrics.New(os.Stdout, os.Getenv("STAGE"))}
	lambda.Start(h.Handle)
}
