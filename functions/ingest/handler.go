package main

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/requestid"
	"github.com/usersapi/usersapi/shared/trace"
	"github.com/usersapi/usersapi/shared/users"
)

// sender is what the ingest handler needs; *queue.Sender has it.
type sender interface {
	Send(ctx context.Context, cmd users.Command) error
}

type handler struct {
	queue     sender
	ids       *requestid.Issuer
	newUserID func() (users.ID, error)
	log       *slog.Logger
}

// accepted is the body of a 202.
type accepted struct {
	RequestID string       `json:"requestId"`
	UserID    users.ID     `json:"userId"`
	Status    users.Status `json:"status"`
}

// Handle answers one API Gateway proxy request.
func (h *handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	var op users.Op
	switch {
	case req.Resource == "/users" && req.HTTPMethod == http.MethodPost:
		op = users.Create
	case req.Resource == "/users/{id}" && req.HTTPMethod == http.MethodPut:
		op = users.Replace
	case req.Resource == "/users/{id}" && req.HTTPMethod == http.MethodPatch:
		op = users.PatchOp
	case req.Resource == "/users/{id}" && req.HTTPMethod == http.MethodDelete:
		op = users.Delete
	default:
		return apigw.Unrouted(&req), nil
	}
	resp, err := h.accept(ctx, &req, op)
	if err != nil {
		return apigw.Error(ctx, h.log, &req, err), nil
	}
	return resp, nil
}

func (h *handler) accept(ctx context.Context, req *events.APIGatewayProxyRequest, op users.Op) (events.APIGatewayProxyResponse, error) {
	cmd := users.Command{Op: op}
	var err error
	if op == users.Create {
		if cmd.UserID, err = h.newUserID(); err != nil {
			return events.APIGatewayProxyResponse{}, err
		}
	} else if cmd.UserID, err = users.ParseID(req.PathParameters["id"]); err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	if cmd.IfMatch, err = ifMatch(apigw.Header(req, "If-Match")); err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	if err := h.decode(req, &cmd); err != nil {
		return events.APIGatewayProxyResponse{}, err
	}

	id, claims, err := h.ids.Issue(cmd.UserID, op, "")
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	cmd.RequestID, cmd.AcceptedAt = id, claims.AcceptedAt
	err = trace.Capture(ctx, "enqueue", func(ctx context.Context) error {
		cmd.Trace = trace.Header(ctx)
		return h.queue.Send(ctx, cmd)
	}, "user_id", string(cmd.UserID), "operation", string(op))
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	h.log.InfoContext(ctx, "accepted", "operation", op, "user_id", cmd.UserID, "request_id", id,
		"api_request_id", req.RequestContext.RequestID)

	resp := apigw.JSON(http.StatusAccepted, accepted{RequestID: id, UserID: cmd.UserID, Status: users.Pending})
	resp.Headers["Location"] = apigw.BasePath(req) + "/requests/" + id
	return resp, nil
}

// decode reads the body that op takes into cmd; a delete takes none.
func (h *handler) decode(req *events.APIGatewayProxyRequest, cmd *users.Command) error {
	if cmd.Op == users.Delete {
		return nil
	}
	body, err := apigw.Body(req)
	if err != nil {
		return err
	}
	mt := apigw.MediaType(req)
	if cmd.Op == users.PatchOp {
		if mt != "application/merge-patch+json" && mt != "application/json" {
			return unsupported("a PATCH body must be application/merge-patch+json")
		}
		cmd.Patch, err = decodePatch(body)
		return err
	}
	if mt != "application/json" {
		return unsupported("the body must be application/json")
	}
	cmd.Input, err = decodeInput(body)
	return err
}

func unsupported(detail string) error {
	p := apigw.NewProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", detail)
	return &p
}

// ifMatch parses an If-Match header: absent, or one strong entity tag "N".
func ifMatch(h string) (int64, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, nil
	}
	bad := &users.Error{Kind: users.Invalid, Detail: "If-Match must be one entity tag such as \"3\"",
		Fields: []users.FieldError{{Field: "If-Match", Reason: "must be a strong entity tag holding a version, such as \"3\""}}}
	if len(h) < 3 || h[0] != '"' || h[len(h)-1] != '"' {
		return 0, bad
	}
	v, err := strconv.ParseInt(h[1:len(h)-1], 10, 64)
	if err != nil || v < 1 {
		return 0, bad
	}
	return v, nil
}
