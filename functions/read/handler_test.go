package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/apigw/apigwtest"
	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/eventstest"
	"github.com/usersapi/usersapi/shared/requestid"
	"github.com/usersapi/usersapi/shared/signed"
	"github.com/usersapi/usersapi/shared/users"
)

const known = users.ID("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b")

// memory is a finder over a map, with listing in id order.
type memory struct {
	users      map[users.ID]users.User
	requests   map[string]users.Request
	tombstones map[users.ID]*users.Tombstone // deleted users (Export)
}

func (m *memory) Get(_ context.Context, id users.ID) (users.User, error) {
	u, ok := m.users[id]
	if !ok {
		return users.User{}, users.Errorf(users.NotFound, "user %s does not exist", id)
	}
	return u, nil
}

func (m *memory) List(_ context.Context, limit int, next []byte) (users.Page, error) {
	var ids []string
	for id := range m.users {
		if string(id) > string(next) {
			ids = append(ids, string(id))
		}
	}
	slices.Sort(ids)
	var p users.Page
	for i, id := range ids {
		if i == limit {
			p.Next = []byte(ids[i-1])
			break
		}
		p.Items = append(p.Items, m.users[users.ID(id)])
	}
	return p, nil
}

func (m *memory) Request(_ context.Context, id string) (users.Request, bool, error) {
	r, ok := m.requests[id]
	return r, ok, nil
}

func newHandler(t testing.TB) (*handler, *memory) {
	// The local cloud's development key, which signed the request id in events/get-request.json.
	k, err := signed.NewKey("usersapi-local-signing-key-for-sample-events")
	if err != nil {
		t.Fatal(err)
	}
	m := &memory{users: map[users.ID]users.User{}, requests: map[string]users.Request{}}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	m.users[known] = users.User{ID: known, Name: "Ada", Email: "ada@example.com", Version: 3, CreatedAt: at, UpdatedAt: at, Owner: "alice"}
	// The sample events were made on 2026-11-23: a request id says when it was accepted.
	now := func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }
	return &handler{users: m, cursor: k, ids: requestid.NewIssuer(k), log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: now}, m
}

func request(method, resource, path string, params map[string]string, query map[string]string, headers map[string]string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		HTTPMethod: method, Resource: resource, Path: path, PathParameters: params,
		QueryStringParameters: query, Headers: headers,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "api-req-1", Stage: "dev", Path: "/dev" + path,
			Authorizer: map[string]any{"principalId": "alice", "sub": "alice", "scopes": "users.read users.write"}},
	}
}

// handle is newHandler's Handle, for apigwtest.Samples.
func handle(tb testing.TB) apigwtest.Handler {
	h, _ := newHandler(tb)
	return h.Handle
}

func TestGetUser(t *testing.T) {
	h, _ := newHandler(t)
	byID := map[string]string{"id": string(known)}
	tests := []struct {
		name    string
		req     events.APIGatewayProxyRequest
		status  int
		field   string // the field a 400 names
		hasBody bool
	}{
		{"by id", request("GET", "/users/{id}", "/users/"+string(known), byID, nil, nil), 200, "", true},
		{"head", request("HEAD", "/users/{id}", "/users/"+string(known), byID, nil, nil), 200, "", false},
		{"original query form", request("GET", "/users", "/users", nil, map[string]string{"userId": string(known)}, nil), 200, "", true},
		{"another caller's user looks missing", eventstest.As(request("GET", "/users/{id}", "/users/x", byID, nil, nil), "bob", "users.read"), 404, "", true},
		{"an admin reads anyone's", eventstest.As(request("GET", "/users/{id}", "/users/x", byID, nil, nil), "root", "users.admin"), 200, "", true},
		{"no scope to read", eventstest.As(request("GET", "/users/{id}", "/users/x", byID, nil, nil), "alice", "profile"), 403, "", true},
		{"no authorizer context", eventstest.As(request("GET", "/users/{id}", "/users/x", byID, nil, nil), "", ""), 401, "", true},
		{"missing", request("GET", "/users/{id}", "/users/x", map[string]string{"id": "0193a4b2-7c3d-7e4f-8a5b-000000000000"}, nil, nil), 404, "", true},
		{"missing, query form", request("GET", "/users", "/users", nil, map[string]string{"userId": "0193a4b2-7c3d-7e4f-8a5b-000000000000"}, nil), 404, "", true},
		{"bad id", request("GET", "/users/{id}", "/users/abc", map[string]string{"id": "abc"}, nil, nil), 400, "id", true},
		{"bad userId", request("GET", "/users", "/users", nil, map[string]string{"userId": "abc"}, nil), 400, "userId", true},
		{"if-none-match current", request("GET", "/users/{id}", "/users/x", byID, nil, map[string]string{"if-none-match": `"3"`}), 304, "", false},
		{"if-none-match list, weak", request("GET", "/users/{id}", "/users/x", byID, nil, map[string]string{"If-None-Match": `"1", W/"3"`}), 304, "", false},
		{"if-none-match star", request("GET", "/users/{id}", "/users/x", byID, nil, map[string]string{"If-None-Match": `*`}), 304, "", false},
		{"if-none-match stale", request("GET", "/users/{id}", "/users/x", byID, nil, map[string]string{"If-None-Match": `"2"`}), 200, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := apigwtest.Call(t, h.Handle, tt.req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, resp.Body)
			}
			if (resp.Body != "") != tt.hasBody {
				t.Fatalf("body %q, want a body: %v", resp.Body, tt.hasBody)
			}
			switch tt.status {
			case 200, 304:
				if resp.Headers["ETag"] != `"3"` {
					t.Errorf("ETag %q", resp.Headers["ETag"])
				}
			default:
				p := apigwtest.Problem(t, resp)
				if tt.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tt.field) {
					t.Errorf("errors %+v, want one on %s", p.Errors, tt.field)
				}
			}
			if tt.status == 200 && tt.hasBody {
				var u map[string]any
				if err := json.Unmarshal([]byte(resp.Body), &u); err != nil {
					t.Fatal(err)
				}
				if u["id"] != string(known) || u["version"] != 3.0 || u["owner"] != nil || u["createdAt"] != "2026-11-23T10:00:00Z" {
					t.Errorf("user %v", u)
				}
			}
		})
	}
}

func TestList(t *testing.T) {
	h, m := newHandler(t)
	for _, id := range []users.ID{"0193a4b2-7c3d-7e4f-8a5b-000000000001", "0193a4b2-7c3d-7e4f-8a5b-000000000002", "0193a4b2-7c3d-7e4f-8a5b-000000000003"} {
		m.users[id] = users.User{ID: id, Name: "N", Email: "n@example.com", Version: 1}
	}
	if resp := apigwtest.Call(t, h.Handle, request("GET", "/users", "/users", nil, nil, nil)); resp.StatusCode != 403 {
		t.Fatalf("a listing by a non-admin: %d, want 403", resp.StatusCode)
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		q := map[string]string{"limit": "3"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		resp := apigwtest.Call(t, h.Handle, eventstest.As(request("GET", "/users", "/users", nil, q, nil), "root", "users.admin"))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		var page struct {
			Items      []users.User `json:"items"`
			NextCursor string       `json:"nextCursor"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &page); err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Items {
			seen = append(seen, string(u.ID))
		}
		if page.NextCursor == "" {
			break
		}
		if pages > 3 {
			t.Fatal("listing does not end")
		}
		cursor = page.NextCursor
	}
	if len(seen) != 4 {
		t.Fatalf("listed %v, want 4 users once each", seen)
	}

	// A cursor is tamper-evident: every changed character is refused.
	admin := func(q map[string]string) events.APIGatewayProxyRequest {
		return eventstest.As(request("GET", "/users", "/users", nil, q, nil), "root", "users.admin")
	}
	resp := apigwtest.Call(t, h.Handle, admin(map[string]string{"limit": "1"}))
	var page struct{ NextCursor string }
	_ = json.Unmarshal([]byte(resp.Body), &page)
	b := []byte(page.NextCursor)
	b[len(b)/2] ^= 1
	for _, q := range []map[string]string{
		{"cursor": string(b)}, {"cursor": "eyJpZCI6IngifQ"}, {"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"limit": "2.5"}, {"limit": "-1"},
	} {
		resp := apigwtest.Call(t, h.Handle, admin(q))
		if resp.StatusCode != 400 {
			t.Errorf("query %v: status %d, want 400", q, resp.StatusCode)
			continue
		}
		if p := apigwtest.Problem(t, resp); len(p.Errors) != 1 {
			t.Errorf("query %v: errors %+v", q, p.Errors)
		}
	}
	for _, limit := range []string{"1", "100"} {
		if resp := apigwtest.Call(t, h.Handle, admin(map[string]string{"limit": limit})); resp.StatusCode != 200 {
			t.Errorf("limit %s: status %d", limit, resp.StatusCode)
		}
	}
}

func TestRequestStatus(t *testing.T) {
	h, m := newHandler(t)
	pending, _, err := h.ids.Issue(known, users.PatchOp, "alice")
	if err != nil {
		t.Fatal(err)
	}
	done, claims, _ := h.ids.Issue(known, users.Create, "alice")
	failed, _, _ := h.ids.Issue(known, users.Delete, "alice")
	completed := claims.AcceptedAt.Add(time.Second)
	m.requests[done] = users.Request{ID: done, UserID: known, Op: users.Create, Status: users.Succeeded, Version: 1, AcceptedAt: claims.AcceptedAt, CompletedAt: completed}
	m.requests[failed] = users.Request{ID: failed, UserID: known, Op: users.Delete, Status: users.Failed, Error: users.Errorf(users.PreconditionFailed, "stale"), AcceptedAt: claims.AcceptedAt, CompletedAt: completed}

	get := func(id string) (int, map[string]any) {
		resp := apigwtest.Call(t, h.Handle, request("GET", "/requests/{requestId}", "/requests/"+id, map[string]string{"requestId": id}, nil, nil))
		var body map[string]any
		_ = json.Unmarshal([]byte(resp.Body), &body)
		return resp.StatusCode, body
	}
	status, body := get(pending)
	if status != 200 || body["status"] != "pending" || body["operation"] != "patch" || body["userId"] != string(known) || body["acceptedAt"] == nil {
		t.Errorf("pending: %d %v", status, body)
	}
	if _, ok := body["completedAt"]; ok {
		t.Error("a pending request has completedAt")
	}
	status, body = get(done)
	if status != 200 || body["status"] != "succeeded" || body["version"] != 1.0 || body["completedAt"] == nil || body["error"] != nil {
		t.Errorf("succeeded: %d %v", status, body)
	}
	status, body = get(failed)
	if errObj, _ := body["error"].(map[string]any); status != 200 || body["status"] != "failed" || errObj["type"] != apigw.ProblemBase+"precondition-failed" {
		t.Errorf("failed: %d %v", status, body)
	}
	if resp := apigwtest.Call(t, h.Handle, eventstest.As(request("GET", "/requests/{requestId}", "/requests/x", map[string]string{"requestId": done}, nil, nil), "bob", "users.read")); resp.StatusCode != 404 {
		t.Errorf("another caller's request: %d, want 404", resp.StatusCode)
	}
	if resp := apigwtest.Call(t, h.Handle, eventstest.As(request("GET", "/requests/{requestId}", "/requests/x", map[string]string{"requestId": done}, nil, nil), "root", "users.admin")); resp.StatusCode != 200 {
		t.Errorf("an admin reading a request: %d, want 200", resp.StatusCode)
	}
	for _, id := range []string{"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", "nope", pending[:len(pending)-1]} {
		if status, _ := get(id); status != 404 {
			t.Errorf("made-up id %q: status %d, want 404", id, status)
		}
	}
}

func TestUnrouted(t *testing.T) {
	h, _ := newHandler(t)
	resp := apigwtest.Call(t, h.Handle, request("POST", "/requests/{requestId}", "/requests/x", nil, nil, nil))
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Headers["Allow"] != "GET, HEAD, OPTIONS" {
		t.Errorf("405: %d Allow %q", resp.StatusCode, resp.Headers["Allow"])
	}
	apigwtest.Problem(t, resp)
	resp = apigwtest.Call(t, h.Handle, request("GET", "/nothing", "/nothing", nil, nil, nil))
	if resp.StatusCode != 404 {
		t.Errorf("unknown route: %d", resp.StatusCode)
	}
	apigwtest.Problem(t, resp)
}

// TestEvents runs the handler on every read sample in events/. The users
// they name are newHandler's known user, of alice, whom they are sent as.
func TestEvents(t *testing.T) {
	apigwtest.Samples(t, eventstest.Project, handle, []apigwtest.Sample{
		{Event: "get-user.json", Status: 200},
		{Event: "get-user-query.json", Status: 200},
		{Event: "get-user-missing.json", Status: 404},
		{Event: "list-users.json", Status: 200},
		{Event: "get-request.json", Status: 200}, // pending: issued with the development key, not yet recorded
		{Event: "method-not-allowed.json", Status: 405},
	})
}

// TestAWSSampleEvent: AWS's REST API samples, both a POST through /{proxy+},
// are routes of no read: 404, as problem+json.
func TestAWSSampleEvent(t *testing.T) {
	apigwtest.Samples(t, eventstest.AWS, handle, []apigwtest.Sample{
		{Event: "apigw-request.json", Status: 404},
		{Event: "apigw-restapi-openapi-request.json", Status: 404},
	})
}

// TestLoadConfig: the read function's settings are read once, into its
// config, and one missing stops it at init. LIST_SHARDS goes through
// dynamo.ParseListShards (TestParseListShards has its range): unset is the
// default count, and a count it refuses stops the function too.
func TestLoadConfig(t *testing.T) {
	env := map[string]string{"USERS_TABLE": "u", "REQUESTS_TABLE": "r", "SIGNING_KEY": strings.Repeat("x", 32),
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}
	if c, err := loadConfig(func(k string) string { return env[k] }); err != nil || c.listShards != dynamo.DefaultListShards {
		t.Fatalf("LIST_SHARDS unset: %d shards, %v; want %d", c.listShards, err, dynamo.DefaultListShards)
	}
	env["LIST_SHARDS"] = "32"
	if c, err := loadConfig(func(k string) string { return env[k] }); err != nil || c.listShards != 32 {
		t.Errorf("LIST_SHARDS=32: %d shards, %v", c.listShards, err)
	}
	env["LIST_SHARDS"] = "many"
	if _, err := loadConfig(func(k string) string { return env[k] }); err == nil {
		t.Error("LIST_SHARDS=many accepted")
	}
	delete(env, "LIST_SHARDS")
	for _, drop := range []string{"USERS_TABLE", "REQUESTS_TABLE", "SIGNING_KEY", "AWS_REGION"} {
		v := env[drop]
		delete(env, drop)
		if _, err := loadConfig(func(k string) string { return env[k] }); err == nil {
			t.Errorf("config without %s accepted", drop)
		}
		env[drop] = v
	}
}
