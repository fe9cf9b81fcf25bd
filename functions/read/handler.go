package main

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/requestid"
	"github.com/usersapi/usersapi/shared/signed"
	"github.com/usersapi/usersapi/shared/trace"
	"github.com/usersapi/usersapi/shared/users"
)

// Page sizes of GET /users.
const (
	defaultLimit = 25
	maxLimit     = 100
)

// cursorPurpose seals list cursors apart from every other token.
const cursorPurpose = "users-cursor"

// finder is what the read handler needs; *dynamo.Table has it.
type finder interface {
	Get(ctx context.Context, id users.ID) (users.User, error)
	List(ctx context.Context, limit int, next []byte) (users.Page, error)
	Request(ctx context.Context, id string) (users.Request, bool, error)
	Export(ctx context.Context, id users.ID) (users.Export, error)
}

var _ finder = (*dynamo.Table)(nil)

type handler struct {
	users  finder
	cursor signed.Key
	ids    *requestid.Issuer
	log    *slog.Logger
	now    func() time.Time
	cors   apigw.CORS
}

// Handle answers one API Gateway proxy request.
func (h *handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	if methods, ok := apigw.Methods[req.Resource]; ok && req.HTTPMethod == http.MethodOptions {
		return h.cors.Preflight(&req, methods), nil
	}
	resp := h.handle(ctx, &req)
	h.cors.Apply(&req, &resp)
	return resp, nil
}

func (h *handler) handle(ctx context.Context, req *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	var resp events.APIGatewayProxyResponse
	get := req.HTTPMethod == http.MethodGet || req.HTTPMethod == http.MethodHead
	routed := get && (req.Resource == "/users" || req.Resource == "/users/{id}" || req.Resource == "/users/{id}/export" ||
		req.Resource == "/requests/{requestId}")
	if !routed {
		return apigw.Unrouted(req)
	}
	caller, err := apigw.Caller(req)
	switch {
	case err != nil:
	case req.Resource == "/users":
		if id, ok := apigw.Query(req, "userId"); ok {
			// The page's parameters mean nothing here, but are checked as the list checks them.
			if _, _, err = h.pageQuery(req); err == nil {
				resp, err = h.getUser(ctx, req, caller, id, "userId")
			}
		} else {
			resp, err = h.list(ctx, req, caller)
		}
	case req.Resource == "/users/{id}":
		resp, err = h.getUser(ctx, req, caller, req.PathParameters["id"], "id")
	case req.Resource == "/users/{id}/export":
		resp, err = h.export(ctx, caller, req.PathParameters["id"])
	default:
		resp, err = h.request(ctx, caller, req.PathParameters["requestId"], apigw.PreferWait(req))
	}
	if err != nil {
		resp = apigw.Error(ctx, h.log, req, err)
	}
	if req.HTTPMethod == http.MethodHead {
		resp.Body = ""
	}
	return resp
}

func (h *handler) getUser(ctx context.Context, req *events.APIGatewayProxyRequest, caller users.Caller, raw, field string) (events.APIGatewayProxyResponse, error) {
	if !caller.CanRead() {
		return events.APIGatewayProxyResponse{}, users.Errorf(users.Forbidden, "reading users needs the scope %s", users.ScopeRead)
	}
	id, err := users.ParseID(raw)
	if err != nil {
		return events.APIGatewayProxyResponse{}, &users.Error{Kind: users.Invalid, Detail: "the user id is not valid",
			Fields: []users.FieldError{{Field: field, Reason: "must be a lowercase UUIDv7"}}}
	}
	var u users.User
	err = trace.Capture(ctx, "get-user", func(ctx context.Context) error {
		u, err = h.users.Get(ctx, id)
		return err
	}, "user_id", string(id))
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	if !caller.Owns(u) {
		// Another caller's user looks exactly like a missing one: ids cannot be probed.
		return events.APIGatewayProxyResponse{}, users.Errorf(users.NotFound, "user %s does not exist", id)
	}
	etag := ETag(u.Version)
	if matches(apigw.Header(req, "If-None-Match"), etag) {
		resp := apigw.Empty(http.StatusNotModified)
		resp.Headers["ETag"] = etag
		resp.Headers["Cache-Control"] = "private, no-cache"
		return resp, nil
	}
	resp := apigw.JSON(http.StatusOK, u)
	resp.Headers["ETag"] = etag
	resp.Headers["Cache-Control"] = "private, no-cache"
	return resp, nil
}

// ETag returns the entity tag of a user at version.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// matches reports whether an If-None-Match value names etag: "*", or a list of
// tags compared weakly (RFC 9110, 13.1.2).
func matches(ifNoneMatch, etag string) bool {
	if strings.TrimSpace(ifNoneMatch) == "*" {
		return true
	}
	for tag := range strings.SplitSeq(ifNoneMatch, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == etag {
			return true
		}
	}
	return false
}

// pageBody is the body of GET /users.
type pageBody struct {
	Items      []users.User `json:"items"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

func (h *handler) list(ctx context.Context, req *events.APIGatewayProxyRequest, caller users.Caller) (events.APIGatewayProxyResponse, error) {
	if !caller.Admin() {
		return events.APIGatewayProxyResponse{}, users.Errorf(users.Forbidden, "only an admin (scope %s) lists all users", users.ScopeAdmin)
	}
	limit, next, err := h.pageQuery(req)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	var page users.Page
	err = trace.Capture(ctx, "list-users", func(ctx context.Context) (err error) {
		page, err = h.users.List(ctx, limit, next)
		return err
	})
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	body := pageBody{Items: page.Items}
	if page.Next != nil {
		body.NextCursor = h.cursor.Seal(cursorPurpose, page.Next)
	}
	return apigw.JSON(http.StatusOK, body), nil
}

// pageQuery reads the limit and the cursor of GET /users, or says which of
// them is not valid.
func (h *handler) pageQuery(req *events.APIGatewayProxyRequest) (int, []byte, error) {
	limit := defaultLimit
	var fields []users.FieldError
	if s, ok := apigw.Query(req, "limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			fields = append(fields, users.FieldError{Field: "limit", Reason: "must be an integer from 1 to 100"})
		}
		limit = n
	}
	var next []byte
	if s, ok := apigw.Query(req, "cursor"); ok {
		var err error
		if next, err = h.cursor.Open(cursorPurpose, s); err != nil {
			fields = append(fields, users.FieldError{Field: "cursor", Reason: "is not a cursor this API returned"})
		}
	}
	if fields != nil {
		return 0, nil, &users.Error{Kind: users.Invalid, Detail: "the query is not valid", Fields: fields}
	}
	return limit, next, nil
}

// requestBody is the body of GET /requests/{requestId}.
type requestBody struct {
	RequestID   string         `json:"requestId"`
	UserID      users.ID       `json:"userId"`
	Operation   users.Op       `json:"operation"`
	Status      users.Status   `json:"status"`
	Version     int64          `json:"version,omitempty"`
	Error       *apigw.Problem `json:"error,omitempty"`
	AcceptedAt  time.Time      `json:"acceptedAt"`
	CompletedAt *time.Time     `json:"completedAt,omitempty"`
}

// exportBody is the body of GET /users/{id}/export: everything the API holds
// about one user.
type exportBody struct {
	UserID     users.ID      `json:"userId"`
	User       *users.User   `json:"user,omitempty"`    // the live user
	Deleted    *deletedBody  `json:"deleted,omitempty"` // what a delete left of it
	Owner      string        `json:"owner,omitempty"`   // the subject of the token that created it
	Requests   []requestBody `json:"requests"`          // the requests made to it that are still recorded, oldest first
	Truncated  bool          `json:"requestsTruncated,omitempty"`
	ExportedAt time.Time     `json:"exportedAt"`
}

// deletedBody is a tombstone as the export shows it.
type deletedBody struct {
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	DeletedAt time.Time `json:"deletedAt"`
}

// export answers an admin's GET /users/{id}/export (the right of access).
func (h *handler) export(ctx context.Context, caller users.Caller, raw string) (events.APIGatewayProxyResponse, error) {
	if !caller.Admin() {
		return events.APIGatewayProxyResponse{}, users.Errorf(users.Forbidden, "only an admin (scope %s) exports a user", users.ScopeAdmin)
	}
	id, err := users.ParseID(raw)
	if err != nil {
		return events.APIGatewayProxyResponse{}, &users.Error{Kind: users.Invalid, Detail: "the user id is not valid",
			Fields: []users.FieldError{{Field: "id", Reason: "must be a lowercase UUIDv7"}}}
	}
	var e users.Export
	err = trace.Capture(ctx, "export-user", func(ctx context.Context) (err error) {
		e, err = h.users.Export(ctx, id)
		return err
	}, "user_id", string(id))
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	if e.Empty() {
		return events.APIGatewayProxyResponse{}, users.Errorf(users.NotFound, "the API holds nothing about user %s", id)
	}
	body := exportBody{UserID: id, User: e.User, Requests: []requestBody{}, Truncated: e.Truncated, ExportedAt: h.now().UTC()}
	if e.User != nil {
		body.Owner = e.User.Owner
	}
	if t := e.Tombstone; t != nil {
		body.Deleted, body.Owner = &deletedBody{Version: t.Version, CreatedAt: t.CreatedAt, DeletedAt: t.DeletedAt}, t.Owner
	}
	for _, r := range e.Requests {
		body.Requests = append(body.Requests, recordedBody(r))
	}
	// An access to personal data: who, to whom, never what.
	h.log.InfoContext(ctx, "user exported", "user_id", id, "by", caller.Subject, "requests", len(body.Requests))
	resp := apigw.JSON(http.StatusOK, body)
	resp.Headers["Cache-Control"] = "no-store"
	return resp, nil
}

// recordedBody is a recorded request's outcome as GET /requests/{id} shows it.
func recordedBody(r users.Request) requestBody {
	completed := r.CompletedAt
	b := requestBody{RequestID: r.ID, UserID: r.UserID, Operation: r.Op, Status: r.Status, Version: r.Version,
		AcceptedAt: r.AcceptedAt, CompletedAt: &completed}
	if r.Error != nil {
		p := apigw.ProblemOf(r.Error)
		b.Error = &p
	}
	return b
}

// pendingRetryAfter is the Retry-After, in seconds, of a pending request's
// status: about when a write that is not applied at once may be.
const pendingRetryAfter = "1"

// waitReserve is the time that the wait of a Prefer: wait keeps back from
// the function's deadline, to answer.
const waitReserve = 500 * time.Millisecond

// request answers GET /requests/{requestId}. A pending request's status says
// Retry-After; with wait (Prefer: wait=N), it is answered as soon as the
// request is no longer pending, or after wait seconds still pending.
func (h *handler) request(ctx context.Context, caller users.Caller, id string, wait int) (events.APIGatewayProxyResponse, error) {
	notFound := users.Errorf(users.NotFound, "no such request")
	claims, err := h.ids.Parse(id)
	if err != nil || !(caller.Admin() || h.ids.IssuedTo(claims, caller.Subject)) {
		return events.APIGatewayProxyResponse{}, notFound
	}
	var r users.Request
	var recorded bool
	err = trace.Capture(ctx, "get-request", func(ctx context.Context) (err error) {
		r, recorded, err = h.users.Request(ctx, id)
		return err
	}, "request_id", id)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	body := requestBody{RequestID: id, UserID: claims.UserID, Operation: claims.Op, Status: users.Pending, AcceptedAt: claims.AcceptedAt}
	if !recorded && h.now().Sub(claims.AcceptedAt) > dynamo.RequestTTL {
		// Its record, if it ever had one, has expired.
		return events.APIGatewayProxyResponse{}, notFound
	}
	applied := ""
	if !recorded && wait > 0 {
		applied = apigw.PreferenceApplied(wait)
		until := time.Now().Add(time.Duration(wait) * time.Second)
		if deadline, ok := ctx.Deadline(); ok && deadline.Add(-waitReserve).Before(until) {
			until = deadline.Add(-waitReserve)
		}
		err = trace.Capture(ctx, "await-request", func(ctx context.Context) (err error) {
			r, recorded, err = users.Await(ctx, h.users, id, until)
			return err
		}, "request_id", id)
		if err != nil && !recorded {
			// Still pending, as far as can be told: the status says so.
			h.log.WarnContext(ctx, "await request", "request_id", id, "err", err)
		}
	}
	if !recorded {
		resp := apigw.JSON(http.StatusOK, body)
		resp.Headers["Retry-After"] = pendingRetryAfter
		if applied != "" {
			resp.Headers["Preference-Applied"] = applied
		}
		return resp, nil
	}
	body.Status, body.Version = r.Status, r.Version
	completed := r.CompletedAt
	body.CompletedAt = &completed
	if r.Error != nil {
		p := apigw.ProblemOf(r.Error)
		body.Error = &p
	}
	resp := apigw.JSON(http.StatusOK, body)
	if applied != "" {
		resp.Headers["Preference-Applied"] = applied
	}
	return resp, nil
}
