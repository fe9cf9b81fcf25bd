package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/apigw/apigwtest"
	"github.com/usersapi/usersapi/shared/eventstest"
	"github.com/usersapi/usersapi/shared/users"
)

// Export is what the memory finder holds about id: the user, or its
// tombstone, and the requests recorded for it.
func (m *memory) Export(_ context.Context, id users.ID) (users.Export, error) {
	e := users.Export{UserID: id, Tombstone: m.tombstones[id]}
	if u, ok := m.users[id]; ok {
		e.User = &u
	}
	for _, r := range m.requests {
		if r.UserID == id {
			e.Requests = append(e.Requests, r)
		}
	}
	return e, nil
}

func TestExport(t *testing.T) {
	h, m := newHandler(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	m.requests["r1"] = users.Request{ID: "r1", UserID: known, Op: users.Create, Status: users.Succeeded, Version: 1, AcceptedAt: at, CompletedAt: at, Owner: "alice"}
	gone := users.ID("0193a4b2-7c3d-7e4f-8a5b-00000000dead")
	m.tombstones = map[users.ID]*users.Tombstone{gone: {Version: 4, CreatedAt: at, DeletedAt: at.Add(time.Hour), Owner: "bob"}}
	m.requests["r2"] = users.Request{ID: "r2", UserID: gone, Op: users.PatchOp, Status: users.Failed, AcceptedAt: at, CompletedAt: at,
		Error: &users.Error{Kind: users.EmailTaken, Detail: "another user has the email this request gives", Fields: []users.FieldError{{Field: "email", Reason: "is taken by another user"}}}}

	export := func(id users.ID, sub, scopes string) events.APIGatewayProxyRequest {
		return eventstest.As(request("GET", "/users/{id}/export", "/users/"+string(id)+"/export", map[string]string{"id": string(id)}, nil, nil), sub, scopes)
	}
	as := func(method string, r events.APIGatewayProxyRequest) events.APIGatewayProxyRequest {
		r.HTTPMethod = method
		return r
	}
	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
	}{
		{"a live user", export(known, "root", "users.admin"), 200},
		{"a deleted user", export(gone, "root", "users.admin"), 200},
		{"head", as("HEAD", export(known, "root", "users.admin")), 200},
		{"an id the API knows nothing of", export("0193a4b2-7c3d-7e4f-8a5b-000000000000", "root", "users.admin"), 404},
		{"not a UUIDv7", eventstest.As(request("GET", "/users/{id}/export", "/users/abc/export", map[string]string{"id": "abc"}, nil, nil), "root", "users.admin"), 400},
		{"the owner, not an admin", export(known, "alice", "users.read users.write"), 403},
		{"no authorizer context", export(known, "", ""), 401},
		{"a method it does not answer", as("DELETE", export(known, "root", "users.admin")), 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := apigwtest.Call(t, h.Handle, tt.req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.status == 200 && resp.Headers["Cache-Control"] != "no-store" {
				t.Errorf("Cache-Control %q: an export must not be cached", resp.Headers["Cache-Control"])
			}
			if tt.status >= 400 {
				apigwtest.Problem(t, resp)
			}
		})
	}

	var live map[string]any
	if err := json.Unmarshal([]byte(apigwtest.Call(t, h.Handle, export(known, "root", "users.admin")).Body), &live); err != nil {
		t.Fatal(err)
	}
	u, _ := live["user"].(map[string]any)
	reqs, _ := live["requests"].([]any)
	if live["userId"] != string(known) || u["email"] != "ada@example.com" || u["owner"] != nil || live["owner"] != "alice" || live["deleted"] != nil ||
		len(reqs) != 1 || reqs[0].(map[string]any)["requestId"] != "r1" || live["exportedAt"] != "2026-11-23T12:00:00Z" {
		t.Errorf("export of a live user: %v", live)
	}

	var deleted struct {
		User    *users.User
		Owner   string
		Deleted struct {
			Version   int64
			DeletedAt time.Time
		}
		Requests []struct {
			RequestID string
			Error     *apigw.Problem
		}
	}
	if err := json.Unmarshal([]byte(apigwtest.Call(t, h.Handle, export(gone, "root", "users.admin")).Body), &deleted); err != nil {
		t.Fatal(err)
	}
	if deleted.User != nil || deleted.Owner != "bob" || deleted.Deleted.Version != 4 || !deleted.Deleted.DeletedAt.Equal(at.Add(time.Hour)) ||
		len(deleted.Requests) != 1 || deleted.Requests[0].Error == nil || deleted.Requests[0].Error.Type != apigw.ProblemBase+"email-taken" ||
		len(deleted.Requests[0].Error.Errors) != 1 || deleted.Requests[0].Error.Errors[0].Field != "email" {
		t.Errorf("export of a deleted user: %+v", deleted)
	}
}

func TestExportEvent(t *testing.T) {
	h, _ := newHandler(t)
	h.users.(*memory).requests["r1"] = users.Request{ID: "r1", UserID: known, Op: users.Create, Status: users.Succeeded, Version: 1}
	apigwtest.Samples(t, eventstest.Project, func(testing.TB) apigwtest.Handler { return h.Handle }, []apigwtest.Sample{
		{Event: "export-user.json", Status: 200},
	})
}
