package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/usersapi/usersapi/api"
	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/apigw/apigwtest"
	"github.com/usersapi/usersapi/shared/eventstest"
	"github.com/usersapi/usersapi/shared/idempotency"
	"github.com/usersapi/usersapi/shared/idempotency/idempotencytest"
	"github.com/usersapi/usersapi/shared/metrics/metricstest"
	"github.com/usersapi/usersapi/shared/queue/envelope"
	"github.com/usersapi/usersapi/shared/requestid"
	"github.com/usersapi/usersapi/shared/signed"
	"github.com/usersapi/usersapi/shared/users"
)

const uid = "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"

// recorder is a sender that keeps what it is given, encoded as SQS would
// carry it; tried keeps every command it was asked to send, and deadlines
// the deadline of each send's context.
type recorder struct {
	sent      [][]byte
	tried     []users.Command
	deadlines []time.Time
	err       error
	block     bool // wait for the context's end, as a send that hangs
}

func (r *recorder) Send(ctx context.Context, cmd users.Command) error {
	r.tried = append(r.tried, cmd)
	d, _ := ctx.Deadline()
	r.deadlines = append(r.deadlines, d)
	if r.block {
		<-ctx.Done()
		return &users.Error{Kind: users.Unavailable, Detail: "the write queue is unavailable; try again", Err: ctx.Err()}
	}
	if r.err != nil {
		return &users.Error{Kind: users.Unavailable, Detail: "the write queue is unavailable; try again", Err: r.err}
	}
	b, err := envelope.Encode(cmd)
	if err != nil {
		return err
	}
	r.sent = append(r.sent, b)
	return nil
}

// owners is a finder of users owned by alice: uid, and the user of the sample
// events. The request ids it names under "applied:" are recorded outcomes;
// "requests-down" makes reading them fail.
type owners map[users.ID]string

func (o owners) Get(_ context.Context, id users.ID) (users.User, error) {
	owner, ok := o[id]
	if !ok {
		return users.User{}, users.Errorf(users.NotFound, "user %s does not exist", id)
	}
	return users.User{ID: id, Owner: owner, Version: 3}, nil
}

func (o owners) Request(_ context.Context, id string) (users.Request, bool, error) {
	if _, down := o["requests-down"]; down {
		return users.Request{}, false, errors.New("throttled")
	}
	_, ok := o[users.ID("applied:"+id)]
	return users.Request{ID: id}, ok, nil
}

// testKeys is the store of a handler's Idempotency-Keys: the store in memory
// that the contract suite holds to DynamoDB's behaviour, watched. It keeps
// the deadline of each write's context, fails the key's completion when told
// to (a throttled table), and keeps the clock of the handler's keys: lapse
// moves it past their leases, as time would.
type testKeys struct {
	*idempotencytest.Memory
	now           time.Time
	failComplete  bool
	beginUntil    time.Time // the deadline of the last claim's context
	completeUntil time.Time // the deadline of the last completion's context
	forgetUntil   time.Time // the deadline of the last release's or abandon's context
}

func (k *testKeys) Create(ctx context.Context, r idempotency.Record) error {
	k.beginUntil, _ = ctx.Deadline()
	return k.Memory.Create(ctx, r)
}

func (k *testKeys) Replace(ctx context.Context, old, r idempotency.Record) error {
	d, _ := ctx.Deadline()
	switch {
	case r.Answer != old.Answer:
		if k.completeUntil = d; k.failComplete {
			return errors.New("throttled")
		}
	case r.LeaseUntil.IsZero():
		k.forgetUntil = d
	default:
		k.beginUntil = d // a claim that resumes a key
	}
	return k.Memory.Replace(ctx, old, r)
}

func (k *testKeys) Delete(ctx context.Context, old idempotency.Record) error {
	k.forgetUntil, _ = ctx.Deadline()
	return k.Memory.Delete(ctx, old)
}

func (k *testKeys) lapse() { k.now = k.now.Add(idempotency.Lease + time.Second) }

func newHandler(t testing.TB) (*handler, *recorder) {
	h, q, _ := newKeyedHandler(t)
	return h, q
}

// newKeyedHandler is newHandler, and the store of its Idempotency-Keys.
func newKeyedHandler(t testing.TB) (*handler, *recorder, *testKeys) {
	k, err := signed.NewKey(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	q := &recorder{}
	keys := &testKeys{Memory: idempotencytest.NewMemory(), now: time.Now()}
	return &handler{keys: idempotency.New(keys, func() time.Time { return keys.now }), users: owners{uid: "alice", "0193a4b2-8d4e-7f50-9b6c-7d8e9f0a1b2c": "alice", "0193a4b2-9e5f-7061-ac7d-8e9f0a1b2c3d": "alice"}, queue: q, ids: requestid.NewIssuer(k), log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		newUserID: func() (users.ID, error) { return "0193a4b2-7c3d-7e4f-8a5b-000000000042", nil }}, q, keys
}

func write(method, resource, path, id, body string, headers map[string]string) events.APIGatewayProxyRequest {
	if headers == nil {
		headers = map[string]string{}
	}
	if _, ok := headers["Content-Type"]; !ok && body != "" {
		headers["Content-Type"] = "application/json"
	}
	req := events.APIGatewayProxyRequest{HTTPMethod: method, Resource: resource, Path: path, Body: body, Headers: headers,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "api-1", Stage: "dev", Path: "/dev" + path,
			Authorizer: map[string]any{"principalId": "alice", "sub": "alice", "scopes": "users.read users.write"}}}
	if id != "" {
		req.PathParameters = map[string]string{"id": id}
	}
	return req
}

func TestWrites(t *testing.T) {
	ada := `{"name":"Ada","email":"ada@example.com"}`
	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		op     users.Op
		check  func(t *testing.T, cmd users.Command)
	}{
		{"create", write("POST", "/users", "/users", "", ada, nil), 202, users.Create, func(t *testing.T, cmd users.Command) {
			if cmd.UserID != "0193a4b2-7c3d-7e4f-8a5b-000000000042" || cmd.Input.Name != "Ada" || cmd.Owner != "alice" || cmd.Admin {
				t.Errorf("cmd %+v", cmd)
			}
		}},
		{"create with charset", write("POST", "/users", "/users", "", ada, map[string]string{"content-type": "application/json; charset=utf-8"}), 202, users.Create, nil},
		{"create base64", func() events.APIGatewayProxyRequest {
			r := write("POST", "/users", "/users", "", base64.StdEncoding.EncodeToString([]byte(ada)), nil)
			r.IsBase64Encoded = true
			return r
		}(), 202, users.Create, nil},
		{"replace if-match", write("PUT", "/users/{id}", "/users/"+uid, uid, ada, map[string]string{"If-Match": `"3"`}), 202, users.Replace, func(t *testing.T, cmd users.Command) {
			if cmd.IfMatch != 3 || cmd.UserID != uid {
				t.Errorf("cmd %+v", cmd)
			}
		}},
		{"patch", write("PATCH", "/users/{id}", "/users/"+uid, uid, `{"phone":null}`, map[string]string{"Content-Type": "application/merge-patch+json"}), 202, users.PatchOp, func(t *testing.T, cmd users.Command) {
			if cmd.Patch.Phone == nil || *cmd.Patch.Phone != "" {
				t.Errorf("cmd %+v", cmd)
			}
		}},
		{"delete", write("DELETE", "/users/{id}", "/users/"+uid, uid, "", nil), 202, users.Delete, nil},
		{"invalid body", write("POST", "/users", "/users", "", `{"name":"","email":"ada@example.com"}`, nil), 400, "", nil},
		{"invalid JSON", write("POST", "/users", "/users", "", `{"name":`, nil), 400, "", nil},
		{"no content type", write("POST", "/users", "/users", "", ada, map[string]string{"Content-Type": ""}), 415, "", nil},
		{"form content type", write("POST", "/users", "/users", "", ada, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), 415, "", nil},
		{"patch as text", write("PATCH", "/users/{id}", "/users/"+uid, uid, `{}`, map[string]string{"Content-Type": "text/plain"}), 415, "", nil},
		{"too large", write("POST", "/users", "/users", "", `{"name":"`+strings.Repeat("a", 64<<10)+`"}`, nil), 413, "", nil},
		{"bad id", write("PUT", "/users/{id}", "/users/1", "1", ada, nil), 400, "", nil},
		{"bad if-match", write("DELETE", "/users/{id}", "/users/"+uid, uid, "", map[string]string{"If-Match": `W/"3"`}), 400, "", nil},
		{"if-match zero", write("DELETE", "/users/{id}", "/users/"+uid, uid, "", map[string]string{"If-Match": `"0"`}), 400, "", nil},
		{"GET is not ours", write("GET", "/users", "/users", "", "", nil), 405, "", nil},
		{"another caller's user", eventstest.As(write("DELETE", "/users/{id}", "/users/"+uid, uid, "", nil), "bob", "users.write"), 403, "", nil},
		{"a user that does not exist", write("DELETE", "/users/{id}", "/users/x", "0193a4b2-7c3d-7e4f-8a5b-00000000dead", "", nil), 403, "", nil},
		{"an admin, a user that does not exist", eventstest.As(write("DELETE", "/users/{id}", "/users/x", "0193a4b2-7c3d-7e4f-8a5b-00000000dead", "", nil), "root", "users.admin"), 202, users.Delete, nil},
		{"an admin, another's user", eventstest.As(write("PATCH", "/users/{id}", "/users/"+uid, uid, `{}`, map[string]string{"Content-Type": "application/merge-patch+json"}), "root", "users.admin"), 202, users.PatchOp, func(t *testing.T, cmd users.Command) {
			if !cmd.Admin || cmd.Owner != "root" {
				t.Errorf("cmd %+v", cmd)
			}
		}},
		{"read scope only", eventstest.As(write("POST", "/users", "/users", "", ada, nil), "alice", "users.read"), 403, "", nil},
		{"no authorizer context", eventstest.As(write("POST", "/users", "/users", "", ada, nil), "", ""), 401, "", nil},
		{"unknown route", write("POST", "/admin", "/admin", "", ada, nil), 404, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, q := newHandler(t)
			resp := apigwtest.Call(t, h.Handle, tt.req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.status != 202 {
				if len(q.sent) != 0 {
					t.Fatal("a refused request was enqueued")
				}
				if resp.Headers["Content-Type"] != apigw.ProblemContentType {
					t.Fatalf("error without problem+json: %v", resp.Headers)
				}
				return
			}
			var body struct{ RequestID, UserID, Status string }
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatal(err)
			}
			if body.Status != "pending" || body.RequestID == "" || resp.Headers["Location"] != "/dev/requests/"+body.RequestID {
				t.Fatalf("202 body %s, Location %q", resp.Body, resp.Headers["Location"])
			}
			if len(q.sent) != 1 {
				t.Fatalf("%d messages sent, want 1", len(q.sent))
			}
			cmd, err := envelope.Decode(q.sent[0])
			if err != nil {
				t.Fatal(err)
			}
			if cmd.Op != tt.op || cmd.RequestID != body.RequestID || string(cmd.UserID) != body.UserID || cmd.AcceptedAt.IsZero() {
				t.Fatalf("enqueued %+v for %s", cmd, resp.Body)
			}
			claims, err := h.ids.Parse(body.RequestID)
			if err != nil || claims.UserID != cmd.UserID || claims.Op != tt.op {
				t.Fatalf("request id claims %+v, %v", claims, err)
			}
			if tt.check != nil {
				tt.check(t, cmd)
			}
		})
	}
}

func TestQueueDown(t *testing.T) {
	h, q := newHandler(t)
	q.err = errors.New("dial tcp: connection refused")
	resp, _ := h.Handle(context.Background(), write("POST", "/users", "/users", "", `{"name":"Ada","email":"ada@example.com"}`, nil))
	if resp.StatusCode != 503 || resp.Headers["Retry-After"] == "" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Headers)
	}
	if strings.Contains(resp.Body, "connection refused") {
		t.Fatal("the cause leaked into the response")
	}
}

func TestIDsAreNeverReused(t *testing.T) {
	seen := map[users.ID]bool{}
	for range 1000 {
		id, err := newUserID()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := users.ParseID(string(id)); err != nil || seen[id] {
			t.Fatalf("id %q: %v (seen before: %v)", id, err, seen[id])
		}
		seen[id] = true
	}
}

// TestEvents runs the handler on every write sample in events/.
func TestEvents(t *testing.T) {
	apigwtest.Samples(t, eventstest.Project, func(tb testing.TB) apigwtest.Handler {
		h, _ := newHandler(tb)
		return h.Handle
	}, []apigwtest.Sample{
		{Event: "create-user.json", Status: 202},
		{Event: "create-user-invalid.json", Status: 400},
		{Event: "replace-user.json", Status: 202},
		{Event: "patch-user.json", Status: 202},
		{Event: "delete-user.json", Status: 202},
	})
}

// TestAWSSampleEvent: AWS's REST API samples, one a POST with a JSON body,
// are routes of no write: 404, as problem+json, and nothing enqueued.
func TestAWSSampleEvent(t *testing.T) {
	apigwtest.Samples(t, eventstest.AWS, func(tb testing.TB) apigwtest.Handler {
		h, q := newHandler(tb)
		tb.Cleanup(func() {
			if len(q.sent) != 0 {
				tb.Errorf("%d messages sent for a refused request, want none", len(q.sent))
			}
		})
		return h.Handle
	}, []apigwtest.Sample{
		{Event: "apigw-request.json", Status: 404},
		{Event: "apigw-restapi-openapi-request.json", Status: 404},
	})
}

func TestIdempotencyKey(t *testing.T) {
	h, q := newHandler(t)
	post := func(key, body string) events.APIGatewayProxyResponse {
		resp := apigwtest.Call(t, h.Handle, write("POST", "/users", "/users", "", body, map[string]string{"Idempotency-Key": key}))
		return resp
	}
	first := post(`"abc"`, `{"name":"Ada","email":"ada@example.com"}`)
	again := post(`abc`, `{"name":"Ada","email":"ada@example.com"}`) // a bare token is the same key
	if first.StatusCode != 202 || again.StatusCode != 202 || first.Body != again.Body || again.Headers["Location"] != first.Headers["Location"] {
		t.Fatalf("first %d %s, again %d %s", first.StatusCode, first.Body, again.StatusCode, again.Body)
	}
	if len(q.sent) != 1 {
		t.Fatalf("%d messages sent for one key, want 1", len(q.sent))
	}
	if r := post(`"abc"`, `{"name":"Grace","email":"grace@example.com"}`); r.StatusCode != 422 {
		t.Fatalf("the key with another body: %d, want 422", r.StatusCode)
	}
	for _, bad := range []string{`"a b"`, `"` + strings.Repeat("k", 256) + `"`, `"é"`} {
		if r := post(bad, `{"name":"Ada","email":"ada@example.com"}`); r.StatusCode != 400 {
			t.Errorf("key %s: %d, want 400", bad, r.StatusCode)
		}
	}
	q.err = errors.New("down")
	if r := post(`"k2"`, `{"name":"Ada","email":"ada@example.com"}`); r.StatusCode != 503 {
		t.Fatalf("queue down: %d", r.StatusCode)
	}
	q.err = nil
	if r := post(`"k2"`, `{"name":"Ada","email":"ada@example.com"}`); r.StatusCode != 202 {
		t.Fatalf("a retry after a 503 is accepted: %d", r.StatusCode)
	}

	// A DELETE retried after the worker applied it (the user is gone) gets
	// its first answer again, not the 403 of a missing user (found by the
	// chaos run).
	del := func() events.APIGatewayProxyResponse {
		resp, _ := h.Handle(context.Background(), write("DELETE", "/users/{id}", "/users/"+uid, uid, "", map[string]string{"Idempotency-Key": "d1"}))
		return resp
	}
	first = del()
	delete(h.users.(owners), uid)
	if again := del(); first.StatusCode != 202 || again.StatusCode != 202 || again.Body != first.Body {
		t.Fatalf("DELETE %d %s, retried once applied: %d %s", first.StatusCode, first.Body, again.StatusCode, again.Body)
	}
	// A refusal is not remembered: the key may be used again.
	resp, _ := h.Handle(context.Background(), write("DELETE", "/users/{id}", "/users/"+uid, uid, "", map[string]string{"Idempotency-Key": "d2"}))
	if resp.StatusCode != 403 {
		t.Fatalf("DELETE of a missing user: %d, want 403", resp.StatusCode)
	}
	h.users.(owners)[uid] = "alice"
	resp, _ = h.Handle(context.Background(), write("DELETE", "/users/{id}", "/users/"+uid, uid, "", map[string]string{"Idempotency-Key": "d2"}))
	if resp.StatusCode != 202 {
		t.Fatalf("the key of a refused request, used again: %d, want 202", resp.StatusCode)
	}
}

// Every answer is counted: 202s by operation, refusals by reason, 5xx apart
// (the ingest 5xx-rate alarm divides ServerErrors by WriteRequests).
func TestMetrics(t *testing.T) {
	h, q := newHandler(t)
	rec, out := metricstest.Recorder()
	h.metrics = rec
	ctx := context.Background()
	got := func() map[string]float64 {
		defer out.Reset()
		return metricstest.Totals(t, out.Bytes())
	}
	check := func(req events.APIGatewayProxyRequest, want map[string]float64) {
		t.Helper()
		_, _ = h.Handle(ctx, req)
		if m := got(); !maps.Equal(m, want) {
			t.Errorf("%s %s: metrics %v, want %v", req.HTTPMethod, req.Path, m, want)
		}
	}
	check(write("POST", "/users", "/users", "", `{"name":"Ada","email":"ada@example.com"}`, nil),
		map[string]float64{"WriteRequests": 1, "AcceptedWrites/create": 1})
	check(write("POST", "/users", "/users", "", `{"name":"","email":"ada@example.com"}`, nil),
		map[string]float64{"WriteRequests": 1, "RejectedRequests/invalid": 1})
	check(write("DELETE", "/users/{id}", "/users/"+uid, uid, "", map[string]string{"If-Match": `"x"`}),
		map[string]float64{"WriteRequests": 1, "RejectedRequests/invalid": 1})
	keyed := write("POST", "/users", "/users", "", `{"name":"Ada","email":"ada@example.com"}`, map[string]string{"Idempotency-Key": "m1"})
	check(keyed, map[string]float64{"WriteRequests": 1, "AcceptedWrites/create": 1})
	check(keyed, map[string]float64{"WriteRequests": 1}) // replayed: no new write
	q.err = errors.New("dial tcp: connection refused")
	check(write("DELETE", "/users/{id}", "/users/"+uid, uid, "", nil),
		map[string]float64{"WriteRequests": 1, "ServerErrors": 1})
}

// A keyed request whose first attempt may have queued its message and then
// failed to answer is resumed by the retry under the same request id (and, for
// a create, the same user id), so SQS and the worker's request record
// deduplicate it: no second effect, whatever the first attempt got to do.
func TestIdempotencyKeyResume(t *testing.T) {
	h, q, keys := newKeyedHandler(t)
	n := 0
	h.newUserID = func() (users.ID, error) { n++; return users.ID(fmt.Sprintf("0193a4b2-7c3d-7e4f-8a5b-%012d", n)), nil }
	send := func(method, resource, id, body, key string) (int, map[string]any) {
		t.Helper()
		path := "/users"
		if id != "" {
			path += "/" + id
		}
		resp := apigwtest.Call(t, h.Handle, write(method, resource, path, id, body, map[string]string{"Idempotency-Key": key}))
		var m map[string]any
		_ = json.Unmarshal([]byte(resp.Body), &m)
		return resp.StatusCode, m
	}
	ada := `{"name":"Ada","email":"ada@example.com"}`

	// The send fails (its message may still have got through): the retry
	// sends the same request again at once.
	q.err = errors.New("read tcp: i/o timeout")
	if status, _ := send("POST", "/users", "", ada, "c1"); status != 503 {
		t.Fatalf("queue down: %d", status)
	}
	q.err = nil
	status, body := send("POST", "/users", "", ada, "c1")
	if status != 202 || body["requestId"] != q.tried[0].RequestID || body["userId"] != string(q.tried[0].UserID) {
		t.Fatalf("retry: %d %v, want the first attempt's request %s of user %s", status, body, q.tried[0].RequestID, q.tried[0].UserID)
	}
	if len(q.tried) != 2 || q.tried[1].RequestID != q.tried[0].RequestID || !q.tried[1].AcceptedAt.Equal(q.tried[0].AcceptedAt) {
		t.Fatalf("the retry sent %+v after %+v: want the same request", q.tried[len(q.tried)-1], q.tried[0])
	}

	// The message is queued but the answer is not recorded (the key's table
	// throttled, or the function timed out): 409 while the lease holds, then
	// the same request once it lapses.
	keys.failComplete = true
	status, first := send("PATCH", "/users/{id}", uid, `{"age":40}`, "p1")
	keys.failComplete = false
	if status != 202 {
		t.Fatalf("PATCH: %d", status)
	}
	if status, _ := send("PATCH", "/users/{id}", uid, `{"age":40}`, "p1"); status != 409 {
		t.Fatalf("retry within the lease: %d, want 409", status)
	}
	keys.lapse()
	sentBefore := len(q.tried)
	if status, again := send("PATCH", "/users/{id}", uid, `{"age":40}`, "p1"); status != 202 || again["requestId"] != first["requestId"] {
		t.Fatalf("retry after the lease: %d %v, want 202 %v", status, again, first)
	}
	if len(q.tried) != sentBefore+1 || q.tried[len(q.tried)-1].RequestID != first["requestId"] {
		t.Fatal("the resumed request was not sent again under its id (SQS and the worker drop the copy)")
	}
	if status, again := send("PATCH", "/users/{id}", uid, `{"age":40}`, "p1"); status != 202 || again["requestId"] != first["requestId"] || len(q.tried) != sentBefore+1 {
		t.Fatalf("once answered, the key replays: %d %v", status, again)
	}

	// A DELETE that was applied before its retry resumes: the user is gone,
	// the request's outcome is recorded, and the retry gets its 202.
	store := h.users.(owners)
	keys.failComplete = true
	status, del := send("DELETE", "/users/{id}", uid, "", "d1")
	keys.failComplete = false
	if status != 202 {
		t.Fatalf("DELETE: %d", status)
	}
	keys.lapse()
	delete(store, uid)
	if status, _ := send("DELETE", "/users/{id}", uid, "", "d1"); status != 403 {
		t.Fatalf("resumed DELETE of a missing user with no outcome recorded: %d, want 403", status)
	}
	store["requests-down"] = "x"
	if status, _ := send("DELETE", "/users/{id}", uid, "", "d1"); status != 503 {
		t.Fatalf("resumed DELETE of a missing user, its outcome unreadable: %d, want 503 (it may have applied)", status)
	}
	delete(store, "requests-down")
	store[users.ID("applied:"+del["requestId"].(string))] = "alice"
	if status, again := send("DELETE", "/users/{id}", uid, "", "d1"); status != 202 || again["requestId"] != del["requestId"] {
		t.Fatalf("resumed DELETE, applied meanwhile: %d %v, want 202 %v", status, again, del)
	}
}

// The steps of a write keep time back to answer before the function's
// deadline: a write that was queued must not end in a timeout, and a send
// that hangs until the work's deadline still leaves time to free the key.
func TestDeadlines(t *testing.T) {
	h, q, keys := newKeyedHandler(t)
	post := func(timeout time.Duration, key string) (events.APIGatewayProxyResponse, time.Time) {
		deadline := time.Now().Add(timeout)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		resp, _ := h.Handle(ctx, write("POST", "/users", "/users", "", `{"name":"Ada","email":"ada@example.com"}`, map[string]string{"Idempotency-Key": key}))
		return resp, deadline
	}
	resp, deadline := post(10*time.Second, "t1")
	if resp.StatusCode != 202 {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	for what, got := range map[string]time.Time{"the key's claim": keys.beginUntil, "the send": q.deadlines[0]} {
		if d := deadline.Sub(got); d != workReserve {
			t.Errorf("%s keeps %s back, want %s", what, d, workReserve)
		}
	}
	if d := deadline.Sub(keys.completeUntil); d != answerReserve {
		t.Errorf("the key's completion keeps %s back, want %s", d, answerReserve)
	}

	q.block = true
	resp, deadline = post(workReserve+200*time.Millisecond, "t2")
	if resp.StatusCode != 503 || time.Now().After(deadline) {
		t.Fatalf("a hanging send: %d at %s past the deadline, want 503 before it", resp.StatusCode, time.Since(deadline))
	}
	if d := deadline.Sub(keys.forgetUntil); d != answerReserve {
		t.Errorf("the key's release keeps %s back, want %s", d, answerReserve)
	}
	q.block = false
	if resp, _ := post(10*time.Second, "t2"); resp.StatusCode != 202 || q.tried[len(q.tried)-1].RequestID != q.tried[len(q.tried)-2].RequestID {
		t.Fatalf("the retry after a hanging send: %d, want 202 under the same request id", resp.StatusCode)
	}
}

// The document's Idempotency-Key parameter states the rule that
// idempotency.ParseKey applies (a client reads it there).
func TestIdempotencyKeyAsDocumented(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	p := doc.Components.Parameters["IdempotencyKey"]
	if p == nil || p.Value == nil || p.Value.Name != "Idempotency-Key" || p.Value.In != "header" {
		t.Fatalf("the document has no Idempotency-Key header parameter: %+v", p)
	}
	s := p.Value.Schema.Value
	for _, key := range []string{`"abc"`, `abc`, `"order-42"`, `a!#$%&'()*+,-./:;<=>?@[]^_{|}~`, strings.Repeat("k", 255), `"` + strings.Repeat("k", 255) + `"`,
		`""`, `"a b"`, `a b`, `"é"`, `a\b`, `a"b`, strings.Repeat("k", 256), `"` + strings.Repeat("k", 256) + `"`} {
		_, goErr := idempotency.ParseKey(key)
		docErr := s.VisitJSON(key)
		if (goErr == nil) != (docErr == nil) {
			t.Errorf("key %q: Go %v, document %v", key, goErr, docErr)
		}
	}
}
