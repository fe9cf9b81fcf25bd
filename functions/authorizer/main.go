// Command authorizer is the API's Lambda authorizer (REQUEST type, identity
// source the Authorization header). It verifies the bearer JWT against the
// issuer's JWK Set and answers API Gateway with an IAM policy for the whole
// API and the caller's sub, scopes and client id as context; no valid token
// is 401, a valid token with none of the API's scopes is 403.
package main

import (
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/usersapi/usersapi/shared/function"
	"github.com/usersapi/usersapi/shared/metrics"
)

func main() { function.Start(loadConfig, build) }

// build makes the handler and its clients once, at init.
func build(cfg config, log *slog.Logger) (any, error) {
	// Nothing is fetched here: the key set comes with the first token.
	h := &handler{tokens: newVerifier(cfg, newKeySet(cfg.jwksURL, log), time.Now), log: log, metrics: metrics.New(os.Stdout, cfg.stage), version: cfg.version}
	return h.Handle, nil
}

// config is the authorizer's environment, read once at init.
type config struct {
	jwksURL     string   // JWKS_URL: the issuer's JWK Set
	issuer      string   // ISSUER: the iss every token must have
	audience    string   // AUDIENCE: an aud that admits a token
	clientIDs   []string // CLIENT_ID: comma list of clients whose access tokens (no aud) are admitted
	scopePrefix string   // SCOPE_PREFIX: the resource server identifier before the scopes, optional
	stage       string   // STAGE: the metrics' dimension
	version     string   // AWS_LAMBDA_FUNCTION_VERSION, set by Lambda: the failures' dimension
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		jwksURL:     getenv("JWKS_URL"),
		issuer:      getenv("ISSUER"),
		audience:    strings.TrimSpace(getenv("AUDIENCE")),
		scopePrefix: strings.TrimSpace(getenv("SCOPE_PREFIX")),
		stage:       getenv("STAGE"),
		version:     getenv("AWS_LAMBDA_FUNCTION_VERSION"),
	}
	for id := range strings.SplitSeq(getenv("CLIENT_ID"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.clientIDs = append(c.clientIDs, id)
		}
	}
	if c.jwksURL == "" || c.issuer == "" {
		return config{}, function.Missing("JWKS_URL and ISSUER")
	}
	if c.audience == "" && c.clientIDs == nil {
		return config{}, function.Missing("AUDIENCE or CLIENT_ID")
	}
	u, err := url.Parse(c.jwksURL)
	if err != nil {
		return config{}, err
	}
	if err := checkURL(u); err != nil {
		return config{}, err
	}
	return c, nil
}
