package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/idempotency"
	"github.com/usersapi/usersapi/shared/metrics"
	"github.com/usersapi/usersapi/shared/requestid"
	"github.com/usersapi/usersapi/shared/trace"
	"github.com/usersapi/usersapi/shared/users"
)

// sender is what the ingest handler needs; *queue.Sender has it.
type sender interface {
	Send(ctx context.Context, cmd users.Command) error
}

// finder reads a user and a request's outcome consistently; *dynamo.Table has it.
type finder interface {
	Get(ctx context.Context, id users.ID) (users.User, error)
	Request(ctx context.Context, id string) (users.Request, bool, error)
}

type handler struct {
	users     finder
	keys      *idempotency.Keys
	queue     sender
	ids       *requestid.Issuer
	newUserID func() (users.ID, error)
	log       *slog.Logger
	cors      apigw.CORS
	metrics   *metrics.Recorder
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
		resp := apigw.Unrouted(&req)
		h.cors.Apply(&req, &resp)
		return resp, nil
	}
	defer func() { _ = h.metrics.Flush() }()
	h.metrics.Count(metrics.WriteRequests, 1)
	resp, out, err := h.accept(ctx, &req, op)
	if wait := apigw.PreferWait(&req); err == nil && wait > 0 {
		resp = h.settle(ctx, &req, op, resp, wait)
	}
	switch {
	case err == nil && out == replayed:
		// A retry answered from its key: no new write.
	case err == nil:
		h.metrics.Count(metrics.AcceptedWrites, 1, "operation", string(op))
	default:
		resp = apigw.Error(ctx, h.log, &req, err)
		if resp.StatusCode >= 500 {
			h.metrics.Count(metrics.ServerErrors, 1)
		} else {
			h.metrics.Count(metrics.RejectedRequests, 1, "reason", strings.TrimPrefix(apigw.ProblemOf(err).Type, apigw.ProblemBase))
		}
	}
	h.cors.Apply(&req, &resp)
	return resp, nil
}

// outcome says what became of a write that was answered 202.
type outcome int

const (
	queued   outcome = iota + 1 // accepted now: sent to the queue, or found applied when resumed
	replayed                    // a retry answered from its Idempotency-Key: no new write
)

// accept checks a write, queues it and answers 202; with an Idempotency-Key,
// once per key.
func (h *handler) accept(ctx context.Context, req *events.APIGatewayProxyRequest, op users.Op) (events.APIGatewayProxyResponse, outcome, error) {
	caller, cmd, key, err := h.command(req, op)
	if err != nil {
		return events.APIGatewayProxyResponse{}, 0, err
	}
	// Everything up to the send keeps back time to answer before the function's
	// deadline: a write that was queued must not end in a timeout.
	work, cancel := reserve(ctx, workReserve)
	defer cancel()
	if key == "" {
		resp, _, err := h.enqueue(work, req, caller, &cmd, false)
		return resp, queued, err
	}
	// The key is looked up before the user is: a retry gets the answer of its
	// first attempt even when that write has been applied since (a DELETE,
	// after which the user is gone). Keys are scoped to the caller (its API
	// key and its subject), so a replay tells it only what it was told.
	claim, err := h.keys.Begin(work, idempotency.Scope(key, req.RequestContext.Identity.APIKeyID, caller.Subject),
		idempotency.Fingerprint(req.HTTPMethod, req.Path, apigw.Header(req, "If-Match"), apigw.Header(req, "Content-Type"), req.Body), cmd.RequestID)
	switch {
	case err != nil:
		return events.APIGatewayProxyResponse{}, 0, err
	case claim.Answer != nil:
		return replay(*claim.Answer), replayed, nil
	case claim.Resumed:
		if err := h.resume(ctx, &cmd, claim.RequestID); err != nil {
			return events.APIGatewayProxyResponse{}, 0, err
		}
	}
	resp, sent, err := h.enqueue(work, req, caller, &cmd, claim.Resumed)
	settle, cancelSettle := reserve(ctx, answerReserve)
	defer cancelSettle()
	if err != nil {
		// The key is forgotten only if no attempt can have queued the message;
		// else it is freed for the retry, which resumes the same request.
		if ferr := h.keys.Fail(settle, claim, sent); ferr != nil {
			h.log.ErrorContext(ctx, "free idempotency key", "err", ferr)
		}
		return resp, 0, err
	}
	if err := h.keys.Complete(settle, claim, idempotency.Answer{Body: resp.Body, Location: resp.Headers["Location"]}); err != nil {
		// The write is accepted; a retry with the key will get 409 until the
		// lease lapses, then resume the same request: no second effect.
		h.log.ErrorContext(ctx, "complete idempotency key", "err", err)
	}
	return resp, queued, nil
}

// command reads the write that req asks for, who asks, and the request's
// Idempotency-Key ("" for none); the command gets a new request id. The
// caller must be allowed to write, and the body must be one op takes.
func (h *handler) command(req *events.APIGatewayProxyRequest, op users.Op) (caller users.Caller, cmd users.Command, key string, err error) {
	if caller, err = apigw.Caller(req); err != nil {
		return caller, cmd, "", err
	}
	if !caller.CanWrite() {
		return caller, cmd, "", users.Errorf(users.Forbidden, "writing users needs the scope %s", users.ScopeWrite)
	}
	cmd = users.Command{Op: op, Owner: caller.Subject, Admin: caller.Admin()}
	if op == users.Create {
		if cmd.UserID, err = h.newUserID(); err != nil {
			return caller, cmd, "", err
		}
	} else if cmd.UserID, err = users.ParseID(req.PathParameters["id"]); err != nil {
		return caller, cmd, "", err
	}
	if cmd.IfMatch, err = ifMatch(apigw.LookupHeader(req, "If-Match")); err != nil {
		return caller, cmd, "", err
	}
	if err := h.decode(req, &cmd); err != nil {
		return caller, cmd, "", err
	}
	if key, err = idempotencyKey(apigw.LookupHeader(req, "Idempotency-Key")); err != nil {
		return caller, cmd, "", err
	}
	id, claims, err := h.ids.Issue(cmd.UserID, op, caller.Subject)
	if err != nil {
		return caller, cmd, "", err
	}
	cmd.RequestID, cmd.AcceptedAt = id, claims.AcceptedAt
	return caller, cmd, key, nil
}

// resume makes cmd the request with id, which an earlier attempt with the
// same Idempotency-Key stopped without answering and may have queued: the
// same request, under the same id (the FIFO deduplication id, and the
// worker's exactly-once record), of the same user, accepted at the same time.
func (h *handler) resume(ctx context.Context, cmd *users.Command, id string) error {
	claims, err := h.ids.Parse(id)
	if err != nil {
		return fmt.Errorf("resume key: %w", err)
	}
	cmd.RequestID, cmd.UserID, cmd.AcceptedAt = id, claims.UserID, claims.AcceptedAt
	h.log.InfoContext(ctx, "resuming an Idempotency-Key's request", "request_id", cmd.RequestID, "user_id", cmd.UserID)
	return nil
}

// The time that the steps of a write keep back from the function's deadline:
// the work up to the send leaves enough to release a key and answer; the key's
// completion, enough to answer.
const (
	workReserve   = 1500 * time.Millisecond
	answerReserve = 300 * time.Millisecond
)

// waitReserve is the time that the wait of a Prefer: wait keeps back from
// the function's deadline: enough to read the user and answer.
const waitReserve = time.Second

// settle answers a write that was accepted (resp, its 202, given now or, to a
// keyed retry, before) the way the write settles, if it settles within wait
// seconds (Prefer: wait=N): a create that succeeded 201 with the user, its
// Location and ETag; a replace or patch 200 with the user and its ETag; a
// delete 204; a failure the problem of its outcome. Otherwise, or if the
// outcome or the user cannot be read, the answer stays resp: the write is
// accepted whatever happens here, and the 202 is exactly the one it would
// have been without the preference. A final answer says Preference-Applied.
func (h *handler) settle(ctx context.Context, req *events.APIGatewayProxyRequest, op users.Op, resp events.APIGatewayProxyResponse, wait int) events.APIGatewayProxyResponse {
	var a accepted
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal([]byte(resp.Body), &a) != nil || a.RequestID == "" {
		return resp
	}
	until := time.Now().Add(time.Duration(wait) * time.Second)
	if deadline, ok := ctx.Deadline(); ok && deadline.Add(-waitReserve).Before(until) {
		until = deadline.Add(-waitReserve)
	}
	reads, cancel := reserve(ctx, answerReserve)
	defer cancel()
	var r users.Request
	var settled bool
	err := trace.Capture(reads, "await-outcome", func(ctx context.Context) (err error) {
		r, settled, err = users.Await(ctx, h.users, a.RequestID, until)
		return err
	}, "request_id", a.RequestID)
	if !settled {
		if err != nil {
			h.log.WarnContext(ctx, "await outcome", "request_id", a.RequestID, "err", err)
		}
		return resp
	}
	final, ok := h.settled(reads, req, op, r)
	if !ok {
		return resp
	}
	final.Headers["Preference-Applied"] = apigw.PreferenceApplied(wait)
	if v, ok := resp.Headers["Idempotent-Replayed"]; ok {
		final.Headers["Idempotent-Replayed"] = v
	}
	return final
}

// settled is the synchronous answer to a write whose outcome is r, and false
// when it cannot be given (the user it made cannot be read, or is gone).
func (h *handler) settled(ctx context.Context, req *events.APIGatewayProxyRequest, op users.Op, r users.Request) (events.APIGatewayProxyResponse, bool) {
	switch {
	case r.Status == users.Failed && r.Error != nil:
		p := apigw.ProblemOf(r.Error)
		p.Instance = req.RequestContext.RequestID
		return p.Response(), true
	case r.Status != users.Succeeded:
		return events.APIGatewayProxyResponse{}, false
	case op == users.Delete:
		return apigw.Empty(http.StatusNoContent), true
	}
	// The user as it is now: a later write may have changed it since, and
	// its ETag says which version it is.
	u, err := h.users.Get(ctx, r.UserID)
	if err != nil {
		if !users.IsKind(err, users.NotFound) {
			h.log.WarnContext(ctx, "read the written user", "user_id", r.UserID, "err", err)
		}
		return events.APIGatewayProxyResponse{}, false
	}
	status := http.StatusOK
	if op == users.Create {
		status = http.StatusCreated
	}
	resp := apigw.JSON(status, u)
	resp.Headers["ETag"] = `"` + strconv.FormatInt(u.Version, 10) + `"`
	if op == users.Create {
		resp.Headers["Location"] = apigw.BasePath(req) + "/users/" + string(u.ID)
	}
	return resp, true
}

// reserve returns ctx with its deadline, if it has one, brought forward by d.
func reserve(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, deadline.Add(-d))
	}
	return context.WithCancel(ctx)
}

// replay answers a retry with the answer its key's first attempt was given.
func replay(a idempotency.Answer) events.APIGatewayProxyResponse {
	resp := apigw.JSON(http.StatusAccepted, json.RawMessage(a.Body))
	resp.Headers["Location"] = a.Location
	resp.Headers["Idempotent-Replayed"] = "true"
	return resp
}

// enqueue checks that the caller may change the user, queues cmd and
// answers 202. sent says whether the send was tried (and so may have queued
// the message, whatever the error). A resumed request whose check fails now
// is answered 202 if its message was applied already: a DELETE, say.
func (h *handler) enqueue(ctx context.Context, req *events.APIGatewayProxyRequest, caller users.Caller, cmd *users.Command, resumed bool) (resp events.APIGatewayProxyResponse, sent bool, err error) {
	op, id := cmd.Op, cmd.RequestID
	if err := h.mayChange(ctx, caller, cmd.UserID, op); err != nil {
		if !resumed || !users.IsKind(err, users.Forbidden) {
			return resp, false, err
		}
		_, applied, rerr := h.users.Request(ctx, id)
		switch {
		case rerr != nil:
			// Not the refusal: the write may have been applied. Try again.
			return resp, false, &users.Error{Kind: users.Unavailable, Detail: "the request's outcome could not be read; try again", Err: rerr}
		case !applied:
			return resp, false, err
		}
	} else {
		sent = true
		err = trace.Capture(ctx, "enqueue", func(ctx context.Context) error {
			cmd.Trace = trace.Header(ctx)
			return h.queue.Send(ctx, *cmd)
		}, "user_id", string(cmd.UserID), "request_id", id, "operation", string(op))
		if err != nil {
			return resp, sent, err
		}
	}
	h.log.InfoContext(ctx, "accepted", "operation", op, "user_id", cmd.UserID, "request_id", id,
		"api_request_id", req.RequestContext.RequestID)

	resp = apigw.JSON(http.StatusAccepted, accepted{RequestID: id, UserID: cmd.UserID, Status: users.Pending})
	resp.Headers["Location"] = apigw.BasePath(req) + "/requests/" + id
	return resp, sent, nil
}

// mayChange answers 403 at once when the caller may not change the user: it
// is another caller's, or (for anyone but an admin) it does not exist, with
// the same answer for both so that ids cannot be probed. The read is
// consistent; the worker checks the owner again in its conditional write.
func (h *handler) mayChange(ctx context.Context, caller users.Caller, id users.ID, op users.Op) error {
	if op == users.Create {
		return nil // a new user is the caller's
	}
	forbidden := users.Errorf(users.Forbidden, "you may not change user %s", id)
	var u users.User
	err := trace.Capture(ctx, "check-owner", func(ctx context.Context) (err error) {
		u, err = h.users.Get(ctx, id)
		return err
	}, "user_id", string(id))
	switch {
	case users.IsKind(err, users.NotFound):
		if caller.Admin() {
			return nil // accepted; the request will fail as not-found
		}
		return forbidden
	case err != nil:
		return err
	case !caller.Owns(u):
		return forbidden
	}
	return nil
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
	if _, params, err := mime.ParseMediaType(apigw.Header(req, "Content-Type")); err == nil && params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8") {
		return unsupported("a JSON body is UTF-8 (RFC 8259): no other charset is taken")
	}
	if cmd.Op == users.PatchOp {
		if mt != "application/merge-patch+json" && mt != "application/json" {
			return unsupported("a PATCH body must be application/merge-patch+json")
		}
		cmd.Patch, err = users.DecodePatch(body)
		return err
	}
	if mt != "application/json" {
		return unsupported("the body must be application/json")
	}
	cmd.Input, err = users.DecodeInput(body)
	return err
}

func unsupported(detail string) error {
	p := apigw.NewProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", detail)
	return &p
}

// ifMatch parses an If-Match header: absent, or one strong entity tag "N"
// as users.ETagPattern has it. A header that is present but empty is
// refused, not taken for no header: a client whose ETag came out empty must
// not lose its concurrency check without a word.
func ifMatch(h string, present bool) (int64, error) {
	if !present {
		return 0, nil
	}
	h = strings.Trim(h, " \t")
	bad := &users.Error{Kind: users.Invalid, Detail: "If-Match must be one entity tag such as \"3\"",
		Fields: []users.FieldError{{Field: "If-Match", Reason: "must be a strong entity tag holding a version, such as \"3\""}}}
	// ^"[1-9][0-9]{0,17}"$, without a regular expression.
	digits := strings.TrimSuffix(strings.TrimPrefix(h, `"`), `"`)
	if len(h) != len(digits)+2 || len(digits) < 1 || len(digits) > 18 || digits[0] == '0' ||
		strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, bad
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, bad
	}
	return v, nil
}

// idempotencyKey parses an Idempotency-Key header: absent is no key; present,
// it must hold one (an empty one is refused rather than taken for none).
func idempotencyKey(h string, present bool) (string, error) {
	key, err := idempotency.ParseKey(h)
	if err == nil && key == "" && present {
		return "", &users.Error{Kind: users.Invalid, Detail: "the Idempotency-Key is empty",
			Fields: []users.FieldError{{Field: "Idempotency-Key", Reason: "must be 1 to 255 printable ASCII characters, optionally in double quotes"}}}
	}
	return key, err
}
