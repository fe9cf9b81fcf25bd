package apigw

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/users"
)

// ProblemBase prefixes every problem type: a problem's type is ProblemBase
// followed by its slug ("not-found"). api/openapi.yaml's gateway responses use
// the same base.
const ProblemBase = "https://usersapi.dev/problems/"

// ProblemContentType is the media type of every error body.
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string             `json:"type"`
	Title    string             `json:"title"`
	Status   int                `json:"status"`
	Detail   string             `json:"detail,omitempty"`
	Instance string             `json:"instance,omitempty"`
	Errors   []users.FieldError `json:"errors,omitempty"`
}

// statusOf is the one map from a users.Kind to an HTTP status.
var statusOf = map[users.Kind]int{
	users.Internal:           http.StatusInternalServerError,
	users.Invalid:            http.StatusBadRequest,
	users.NotFound:           http.StatusNotFound,
	users.Conflict:           http.StatusConflict,
	users.PreconditionFailed: http.StatusPreconditionFailed,
	users.EmailTaken:         http.StatusConflict,
	users.Forbidden:          http.StatusForbidden,
	users.Unauthorized:       http.StatusUnauthorized,
	users.Unavailable:        http.StatusServiceUnavailable,
	users.KeyReused:          http.StatusUnprocessableEntity,
}

// StatusOf returns the HTTP status of errors of kind k.
func StatusOf(k users.Kind) int {
	if s, ok := statusOf[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// NewProblem returns a problem of the given status whose type ends in slug.
func NewProblem(status int, slug, detail string) Problem {
	return Problem{Type: ProblemBase + slug, Title: http.StatusText(status), Status: status, Detail: detail}
}

// ProblemOf returns the problem that err may show a client: a *Problem as it
// is, a *users.Error by its kind. Anything else, and every error of kind
// Internal, shows nothing of itself.
func ProblemOf(err error) Problem {
	var p *Problem
	if errors.As(err, &p) {
		return *p
	}
	var e *users.Error
	if !errors.As(err, &e) || e.Kind == users.Internal {
		q := NewProblem(http.StatusInternalServerError, users.Internal.String(), "the server failed to answer; try again later")
		return q
	}
	q := NewProblem(StatusOf(e.Kind), e.Kind.String(), e.Detail)
	q.Errors = e.Fields
	return q
}

// Response returns p as a proxy response.
func (p Problem) Response() events.APIGatewayProxyResponse {
	r := JSON(p.Status, p)
	r.Headers["Content-Type"] = ProblemContentType
	if p.Status == http.StatusServiceUnavailable || p.Status == http.StatusTooManyRequests {
		r.Headers["Retry-After"] = strconv.Itoa(RetryAfterSeconds)
	}
	return r
}

// RetryAfterSeconds is what a 503 or 429 asks the client to wait.
const RetryAfterSeconds = 1

// Error returns the problem response for err, with the API request id as its
// instance. Internal errors are logged with their cause; their text is never shown.
func Error(ctx context.Context, log *slog.Logger, req *events.APIGatewayProxyRequest, err error) events.APIGatewayProxyResponse {
	p := ProblemOf(err)
	p.Instance = req.RequestContext.RequestID
	if p.Status >= 500 {
		log.ErrorContext(ctx, "request failed", "status", p.Status, "err", err)
	}
	return p.Response()
}

// JSON returns a proxy response whose body is v in JSON, with the headers every
// response of the API carries.
func JSON(status int, v any) events.APIGatewayProxyResponse {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here: every value the API sends marshals.
		status, body = http.StatusInternalServerError, []byte(`{"type":"`+ProblemBase+`internal","title":"Internal Server Error","status":500}`)
	}
	r := events.APIGatewayProxyResponse{StatusCode: status, Headers: baseHeaders(), Body: string(body)}
	r.Headers["Content-Type"] = "application/json"
	return r
}

// Empty returns a proxy response with no body, for 304 and HEAD.
func Empty(status int) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: baseHeaders()}
}

// baseHeaders are the headers that fit every API response: no sniffing, no
// framing, no caching by default, HTTPS only.
func baseHeaders() map[string]string {
	return map[string]string{
		"Cache-Control":             "no-store",
		"X-Content-Type-Options":    "nosniff",
		"X-Frame-Options":           "DENY",
		"Content-Security-Policy":   "default-src 'none'; frame-ancestors 'none'",
		"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
		"Referrer-Policy":           "no-referrer",
	}
}
