package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/usersapi/usersapi/shared/apigw/apigwtest"
	"github.com/usersapi/usersapi/shared/users"
)

// settling is a finder whose requests are recorded (succeeded) at the
// after'th read of each; 0: never.
type settling struct {
	*memory
	after int
	reads int
}

func (s *settling) Request(ctx context.Context, id string) (users.Request, bool, error) {
	s.reads++
	if s.after > 0 && s.reads >= s.after {
		return users.Request{ID: id, UserID: known, Op: users.PatchOp, Status: users.Succeeded, Version: 4}, true, nil
	}
	return s.memory.Request(ctx, id)
}

func TestRequestPrefersWait(t *testing.T) {
	h, m := newHandler(t)
	s := &settling{memory: m}
	h.users = s
	id, _, err := h.ids.Issue(known, users.PatchOp, "alice")
	if err != nil {
		t.Fatal(err)
	}
	get := func(prefer string) (status int, body map[string]any, headers map[string]string, took time.Duration) {
		start := time.Now()
		headers = map[string]string{}
		if prefer != "" {
			headers["Prefer"] = prefer
		}
		resp := apigwtest.Call(t, h.Handle, request("GET", "/requests/{requestId}", "/requests/"+id, map[string]string{"requestId": id}, nil, headers))
		_ = json.Unmarshal([]byte(resp.Body), &body)
		return resp.StatusCode, body, resp.Headers, time.Since(start)
	}

	// Pending: Retry-After, at once without a wait.
	status, body, headers, _ := get("")
	if status != 200 || body["status"] != "pending" || headers["Retry-After"] != "1" || headers["Preference-Applied"] != "" || s.reads != 1 {
		t.Errorf("pending: %d %v %v after %d reads", status, body, headers, s.reads)
	}
	for _, prefer := range []string{"wait=0", "wait=x", "respond-async"} {
		s.reads = 0
		if status, body, headers, _ := get(prefer); status != 200 || body["status"] != "pending" || headers["Preference-Applied"] != "" || s.reads != 1 {
			t.Errorf("Prefer: %s: %d %v %v after %d reads", prefer, status, body, headers, s.reads)
		}
	}

	// With a wait: answered once it is no longer pending.
	s.reads, s.after = 0, 4
	status, body, headers, took := get("wait=5")
	if status != 200 || body["status"] != "succeeded" || body["version"] != 4.0 || headers["Retry-After"] != "" ||
		headers["Preference-Applied"] != "wait=5" || s.reads != 4 || took > 2*time.Second {
		t.Errorf("settled while waiting: %d %v %v after %d reads, %s", status, body, headers, s.reads, took)
	}

	// Not in time: the pending document after the wait.
	s.reads, s.after = 0, 0
	status, body, headers, took = get("wait=1")
	if status != 200 || body["status"] != "pending" || headers["Retry-After"] != "1" || headers["Preference-Applied"] != "wait=1" ||
		took < time.Second || took > 3*time.Second {
		t.Errorf("still pending: %d %v %v after %s", status, body, headers, took)
	}

	// Settled before: no wait, no reads beyond the first.
	s.reads, s.after = 0, 1
	if status, body, headers, _ := get("wait=10"); status != 200 || body["status"] != "succeeded" || headers["Preference-Applied"] != "" || s.reads != 1 {
		t.Errorf("settled already: %d %v %v after %d reads", status, body, headers, s.reads)
	}
}

// The wait keeps waitReserve back from the function's deadline.
func TestRequestWaitKeepsTheDeadline(t *testing.T) {
	h, m := newHandler(t)
	h.users = &settling{memory: m}
	id, _, _ := h.ids.Issue(known, users.Create, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), waitReserve+300*time.Millisecond)
	defer cancel()
	req := request("GET", "/requests/{requestId}", "/requests/"+id, map[string]string{"requestId": id}, nil, map[string]string{"Prefer": "wait=10"})
	resp, _ := h.Handle(ctx, req)
	deadline, _ := ctx.Deadline()
	if left := time.Until(deadline); resp.StatusCode != 200 || left < waitReserve-100*time.Millisecond {
		t.Fatalf("%d with %s left before the deadline, want about %s", resp.StatusCode, left, waitReserve)
	}
}
