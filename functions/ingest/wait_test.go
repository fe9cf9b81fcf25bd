package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/users"
)

// worker is a finder that sees the writes queued on q applied, as the worker
// would apply them, once its request has been read after times: decide says
// how each ends (succeeded by default). Users it makes or changes are read
// from it; others from owners.
type worker struct {
	owners
	q      *recorder
	after  int // the read of a request that finds it applied; 0: never applied
	reads  int
	down   bool // reading outcomes fails
	decide func(users.Command) users.Request
	made   map[users.ID]users.User
}

func (w *worker) Request(ctx context.Context, id string) (users.Request, bool, error) {
	w.reads++
	if w.down {
		return users.Request{}, false, errors.New("throttled")
	}
	if w.after == 0 || w.reads < w.after {
		return users.Request{}, false, nil
	}
	for _, cmd := range w.q.tried {
		if cmd.RequestID != id {
			continue
		}
		r := users.Request{ID: id, UserID: cmd.UserID, Op: cmd.Op, Status: users.Succeeded, Version: 4}
		if cmd.Op == users.Create {
			r.Version = 1
		}
		if w.decide != nil {
			r = w.decide(cmd)
		}
		if r.Status == users.Succeeded && cmd.Op != users.Delete {
			w.made[cmd.UserID] = users.User{ID: cmd.UserID, Name: cmd.Input.Name, Email: cmd.Input.Email, Version: r.Version, Owner: cmd.Owner}
		}
		return r, true, nil
	}
	return users.Request{}, false, nil
}

func (w *worker) Get(ctx context.Context, id users.ID) (users.User, error) {
	if u, ok := w.made[id]; ok {
		return u, nil
	}
	return w.owners.Get(ctx, id)
}

func newWaitingHandler(t *testing.T, after int) (*handler, *worker) {
	h, q := newHandler(t)
	w := &worker{owners: h.users.(owners), q: q, after: after, made: map[users.ID]users.User{}}
	h.users = w
	return h, w
}

func failedWith(kind users.Kind) func(users.Command) users.Request {
	return func(cmd users.Command) users.Request {
		return users.Request{ID: cmd.RequestID, UserID: cmd.UserID, Op: cmd.Op, Status: users.Failed, Error: users.Errorf(kind, "it failed")}
	}
}

func TestPreferWait(t *testing.T) {
	const created = "0193a4b2-7c3d-7e4f-8a5b-000000000042"
	ada := `{"name":"Ada","email":"ada@example.com"}`
	wait := map[string]string{"Prefer": "wait=10"}
	tests := []struct {
		name     string
		method   string
		body     string
		headers  map[string]string
		decide   func(users.Command) users.Request
		status   int
		etag     string
		location string
		problem  string
	}{
		{"create", "POST", ada, wait, nil, 201, `"1"`, "/dev/users/" + created, ""},
		{"replace", "PUT", ada, wait, nil, 200, `"4"`, "", ""},
		{"patch", "PATCH", `{"age":40}`, map[string]string{"Prefer": "respond-async, wait=3", "Content-Type": "application/merge-patch+json"}, nil, 200, `"4"`, "", ""},
		{"delete", "DELETE", "", wait, nil, 204, "", "", ""},
		{"stale If-Match", "PUT", ada, map[string]string{"Prefer": "wait=10", "If-Match": `"2"`}, failedWith(users.PreconditionFailed), 412, "", "", "precondition-failed"},
		{"email taken", "POST", ada, wait, failedWith(users.EmailTaken), 409, "", "", "email-taken"},
		{"gone meanwhile", "PATCH", `{}`, map[string]string{"Prefer": "wait=10", "Content-Type": "application/merge-patch+json"}, failedWith(users.NotFound), 404, "", "", "not-found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, w := newWaitingHandler(t, 3)
			w.decide = tt.decide
			resource, path, id := "/users/{id}", "/users/"+uid, uid
			if tt.method == "POST" {
				resource, path, id = "/users", "/users", ""
			}
			resp, err := h.Handle(context.Background(), write(tt.method, resource, path, id, tt.body, tt.headers))
			if err != nil || resp.StatusCode != tt.status {
				t.Fatalf("%d %v %s, want %d", resp.StatusCode, err, resp.Body, tt.status)
			}
			if len(w.q.sent) != 1 || w.reads != 3 {
				t.Errorf("%d sent, %d reads of the outcome; want 1 and 3", len(w.q.sent), w.reads)
			}
			want := apigw.PreferenceApplied(10)
			if strings.Contains(tt.headers["Prefer"], "wait=3") {
				want = "wait=3"
			}
			if got := resp.Headers["Preference-Applied"]; got != want {
				t.Errorf("Preference-Applied %q, want %q", got, want)
			}
			if got := resp.Headers["ETag"]; got != tt.etag {
				t.Errorf("ETag %q, want %q", got, tt.etag)
			}
			if got := resp.Headers["Location"]; got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			switch {
			case tt.problem != "":
				var p apigw.Problem
				if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || p.Type != apigw.ProblemBase+tt.problem || p.Status != tt.status ||
					resp.Headers["Content-Type"] != apigw.ProblemContentType || p.Instance != "api-1" {
					t.Errorf("problem %s (%s), want %s", resp.Body, resp.Headers["Content-Type"], tt.problem)
				}
			case tt.status == http.StatusNoContent:
				if resp.Body != "" {
					t.Errorf("204 with a body: %s", resp.Body)
				}
			default:
				var u users.User
				if err := json.Unmarshal([]byte(resp.Body), &u); err != nil || u.ID == "" || `"`+strconv.FormatInt(u.Version, 10)+`"` != tt.etag {
					t.Errorf("user %s (%v), want one at ETag %s", resp.Body, err, tt.etag)
				}
				if resp.Headers["Content-Type"] != "application/json" {
					t.Errorf("Content-Type %q", resp.Headers["Content-Type"])
				}
			}
		})
	}
}

// A Prefer that does not ask to wait, or asks in a form not taken, changes
// nothing: the 202, no read of the outcome, no Preference-Applied.
func TestPreferWithoutWait(t *testing.T) {
	for _, prefer := range []string{"wait=0", "wait=soon", "wait=1.5", "respond-async", "return=representation", "wait"} {
		h, w := newWaitingHandler(t, 1)
		resp, _ := h.Handle(context.Background(), write("POST", "/users", "/users", "", `{"name":"Ada","email":"ada@example.com"}`, map[string]string{"Prefer": prefer}))
		if resp.StatusCode != 202 || w.reads != 0 || resp.Headers["Preference-Applied"] != "" || !strings.HasPrefix(resp.Headers["Location"], "/dev/requests/") {
			t.Errorf("Prefer: %s: %d %v after %d reads", prefer, resp.StatusCode, resp.Headers, w.reads)
		}
	}
}

// A write that does not settle in time, or whose outcome cannot be read, is
// answered the 202 it would have had without the preference.
func TestPreferWaitNotSettled(t *testing.T) {
	for _, down := range []bool{false, true} {
		h, w := newWaitingHandler(t, 0)
		w.down = down
		start := time.Now()
		resp, _ := h.Handle(context.Background(), write("DELETE", "/users/{id}", "/users/"+uid, uid, "", map[string]string{"Prefer": "wait=1"}))
		took := time.Since(start)
		var a accepted
		if err := json.Unmarshal([]byte(resp.Body), &a); err != nil || resp.StatusCode != 202 || a.Status != users.Pending || a.RequestID == "" ||
			resp.Headers["Location"] != "/dev/requests/"+a.RequestID || resp.Headers["Preference-Applied"] != "" {
			t.Errorf("down %v: %d %s %v", down, resp.StatusCode, resp.Body, resp.Headers)
		}
		if took < time.Second || took > 3*time.Second || w.reads < 5 {
			t.Errorf("down %v: answered after %s and %d reads, want 1 s", down, took, w.reads)
		}
	}
}

// The wait keeps waitReserve back from the function's deadline: a write is
// answered in time whatever the Prefer says.
func TestPreferWaitKeepsTheDeadline(t *testing.T) {
	h, _ := newWaitingHandler(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), waitReserve+300*time.Millisecond)
	defer cancel()
	resp, _ := h.Handle(ctx, write("POST", "/users", "/users", "", `{"name":"Ada","email":"ada@example.com"}`, map[string]string{"Prefer": "wait=10"}))
	deadline, _ := ctx.Deadline()
	if left := time.Until(deadline); resp.StatusCode != 202 || left < waitReserve-100*time.Millisecond {
		t.Fatalf("%d with %s left before the deadline, want 202 with about %s", resp.StatusCode, left, waitReserve)
	}
}

// A keyed retry of a request that has settled since gets the final answer
// with Prefer: wait, marked as a replay; without it, the 202 of the first.
func TestPreferWaitKeyedRetry(t *testing.T) {
	h, w := newWaitingHandler(t, 0)
	body := `{"name":"Ada","email":"ada@example.com"}`
	first, _ := h.Handle(context.Background(), write("POST", "/users", "/users", "", body, map[string]string{"Idempotency-Key": "k1"}))
	if first.StatusCode != 202 {
		t.Fatalf("first: %d %s", first.StatusCode, first.Body)
	}
	w.after = 1
	again, _ := h.Handle(context.Background(), write("POST", "/users", "/users", "", body, map[string]string{"Idempotency-Key": "k1"}))
	if again.StatusCode != 202 || again.Body != first.Body || w.reads != 0 {
		t.Fatalf("retry without Prefer: %d %s, want the first 202", again.StatusCode, again.Body)
	}
	retry, _ := h.Handle(context.Background(), write("POST", "/users", "/users", "", body, map[string]string{"Idempotency-Key": "k1", "Prefer": "wait=5"}))
	if retry.StatusCode != 201 || retry.Headers["Idempotent-Replayed"] != "true" || retry.Headers["ETag"] != `"1"` || retry.Headers["Preference-Applied"] != "wait=5" {
		t.Fatalf("retry with Prefer: %d %v %s", retry.StatusCode, retry.Headers, retry.Body)
	}
	if len(w.q.sent) != 1 {
		t.Errorf("%d sends, want 1: a retry has no second effect", len(w.q.sent))
	}
}
