package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/metrics"
	"github.com/usersapi/usersapi/shared/trace"
)

// errUnauthorized is the one error API Gateway turns into 401 Unauthorized;
// its text must be exactly this.
var errUnauthorized = errors.New("Unauthorized")

// errUnavailable is returned when the token cannot be judged (the key set is
// out of reach): any error but errUnauthorized makes API Gateway answer 500,
// and neither blames the client nor gets cached.
var errUnavailable = errors.New("authorizer unavailable")

// handler answers API Gateway's authorizer events.
type handler struct {
	tokens  *verifier
	log     *slog.Logger
	metrics *metrics.Recorder // refusals by reason, failures; API Gateway caches answers, so these count verdicts, not requests
	version string            // the Lambda version running (AWS_LAMBDA_FUNCTION_VERSION), the failures' dimension
}

// answerReserve is the time kept back from the function's deadline to answer:
// a token whose key set cannot be fetched in time is a failure this function
// counts and reports (500), not a timeout that only Lambda sees.
const answerReserve = 500 * time.Millisecond

// Handle answers one REQUEST authorizer event: an Allow policy for the whole
// API when the bearer token is valid and grants at least one of the API's
// scopes, a Deny policy when it is valid but grants none (API Gateway answers
// 403), and errUnauthorized when there is no valid token (401).
//
// The policy names every method and resource of the stage, so that API
// Gateway can cache it for the token whatever route it is used on; the
// functions behind the API read the granted scopes from the context.
func (h *handler) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (resp events.APIGatewayCustomAuthorizerResponse, err error) {
	defer func() { _ = h.metrics.Flush() }()
	defer func() {
		if p := recover(); p != nil {
			h.fail(ctx, "panic", fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
			resp, err = events.APIGatewayCustomAuthorizerResponse{}, errUnavailable
		}
	}()
	return h.handle(ctx, &req)
}

// fail counts and logs a failure of the authorizer: a token it could not judge.
func (h *handler) fail(ctx context.Context, reason string, err error) {
	h.log.ErrorContext(ctx, "authorizer failure", "reason", reason, "err", err)
	h.metrics.Count(metrics.AuthorizerFailures, 1)
	if h.version != "" {
		h.metrics.Count(metrics.AuthorizerFailures, 1, "version", h.version)
	}
}

func (h *handler) handle(ctx context.Context, req *events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	var none events.APIGatewayCustomAuthorizerResponse
	token, err := bearer(req)
	if err != nil {
		h.log.InfoContext(ctx, "unauthorized", "reason", err.Error())
		h.metrics.Count(metrics.RejectedRequests, 1, "reason", "unauthorized")
		return none, errUnauthorized
	}
	resource, err := apiResource(req.MethodArn)
	if err != nil {
		// Not something API Gateway sends: allow nothing, and say so.
		h.fail(ctx, "method-arn", err)
		return none, errUnauthorized
	}
	work, cancel := context.WithCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		work, cancel = context.WithDeadline(ctx, deadline.Add(-answerReserve))
	}
	defer cancel()
	var id identity
	var invalid error
	err = trace.Capture(work, "verify-token", func(ctx context.Context) error {
		id, invalid = h.tokens.verify(ctx, token)
		if errors.Is(invalid, errKeysUnavailable) {
			return invalid // a fault of the authorizer, not of the token
		}
		return nil
	})
	if err != nil {
		reason := "jwks"
		if errors.Is(work.Err(), context.DeadlineExceeded) {
			reason = "timeout"
		}
		h.fail(ctx, reason, err)
		return none, errUnavailable
	}
	if invalid != nil {
		h.log.InfoContext(ctx, "unauthorized", "reason", invalid.Error())
		h.metrics.Count(metrics.RejectedRequests, 1, "reason", "unauthorized")
		return none, errUnauthorized
	}
	effect := "Allow"
	if len(id.scopes) == 0 {
		effect = "Deny"
		h.metrics.Count(metrics.RejectedRequests, 1, "reason", "forbidden")
		h.log.InfoContext(ctx, "denied", "reason", "no scope of this API", "sub", id.subject, "client_id", id.clientID)
	}
	resp := events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: id.subject,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{"execute-api:Invoke"},
				Effect:   effect,
				Resource: []string{resource},
			}},
		},
		Context: map[string]any{
			"sub":    id.subject,
			"scopes": strings.Join(id.scopes, " "),
		},
	}
	if id.clientID != "" {
		resp.Context["clientId"] = id.clientID
	}
	return resp, nil
}

// bearer returns the token of the request's one Authorization header, which
// must use the Bearer scheme (RFC 6750, 2.1; the scheme is case-insensitive)
// and hold something shaped like a compact JWS. Its errors never hold the
// header.
func bearer(req *events.APIGatewayCustomAuthorizerRequestTypeRequest) (string, error) {
	var values []string
	for k, v := range req.MultiValueHeaders {
		if strings.EqualFold(k, "Authorization") {
			values = append(values, v...)
		}
	}
	if len(values) == 0 {
		for k, v := range req.Headers {
			if strings.EqualFold(k, "Authorization") {
				values = append(values, v)
			}
		}
	}
	switch len(values) {
	case 0:
		return "", errors.New("no Authorization header")
	case 1:
		return parseBearer(values[0])
	default:
		return "", errors.New("more than one Authorization header")
	}
}

// parseBearer returns the token of an Authorization header value.
func parseBearer(value string) (string, error) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(value), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errors.New("not a Bearer authorization")
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return "", errors.New("no token after Bearer")
	}
	if len(token) > maxTokenLen {
		return "", errors.New("token too long")
	}
	if strings.Count(token, ".") != 2 {
		return "", errors.New("token is not a JWS")
	}
	for _, r := range token {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.') {
			return "", errors.New("token is not base64url")
		}
	}
	return token, nil
}

// apiResource returns the ARN of every method of every resource of the stage
// that methodArn names (arn:aws:execute-api:region:account:api/stage/method/path):
// arn:aws:execute-api:region:account:api/stage/*/*.
func apiResource(methodArn string) (string, error) {
	parts := strings.SplitN(methodArn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "execute-api" || parts[3] == "" || parts[4] == "" {
		return "", fmt.Errorf("method ARN %q is not an execute-api ARN", methodArn)
	}
	path := strings.SplitN(parts[5], "/", 3)
	if len(path) != 3 || path[0] == "" || path[1] == "" {
		return "", fmt.Errorf("method ARN %q names no API and stage", methodArn)
	}
	return strings.Join(parts[:5], ":") + ":" + path[0] + "/" + path[1] + "/*/*", nil
}
