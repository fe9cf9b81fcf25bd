package client

import (
	"context"
	"errors"
	"fmt"
)

// Write is a write the API accepted: its answer, and the way to its outcome.
type Write struct {
	// RequestID is the id of the request to follow, from the 202's body;
	// empty for a write the API answered once applied (PreferWait).
	RequestID string
	// UserID is the user's id: for a create, the one the API made.
	UserID string
	// Location is the 202's Location header: the request's status URL.
	Location string
	// Replayed is true when the API answered with the answer it gave before to
	// this IdempotencyKey (Idempotent-Replayed: true).
	Replayed bool
	// IdempotencyKey is the key the write was sent with, on every try.
	IdempotencyKey string

	c    *Client
	op   string
	user *User
	done bool
}

// Follow returns a Write for the request with the given id, accepted
// earlier (by this process or another), so that its Wait can be called.
func (c *Client) Follow(requestID string) *Write {
	return &Write{c: c, RequestID: requestID}
}

// Status returns the request's status now (GET /requests/{requestId}).
func (w *Write) Status(ctx context.Context) (RequestStatus, error) {
	if w.RequestID == "" {
		return RequestStatus{}, errors.New("usersapi: this write was answered once applied; it has no request to follow")
	}
	return w.c.GetRequest(ctx, w.RequestID)
}

// Wait polls the request until it is no longer pending, honouring the API's
// Retry-After and otherwise backing off (Poll), and returns the user as the
// write left it: read once the write succeeded, or the zero User after a
// delete. A write that failed returns its outcome as a *Problem (its Kind is
// "not-found", "precondition-failed" or "email-taken"). Wait gives up when ctx
// is done.
func (w *Write) Wait(ctx context.Context) (User, error) {
	if w.done {
		return *w.user, nil
	}
	st, err := w.WaitStatus(ctx)
	if err != nil {
		return User{}, err
	}
	if st.Status == StatusFailed {
		if st.Error == nil {
			return User{}, &Problem{Type: "about:blank", Title: "Failed", Detail: "request " + st.RequestID + " failed"}
		}
		return User{}, st.Error
	}
	if st.Operation == OpDelete {
		w.user, w.done = &User{}, true
		return User{}, nil
	}
	// The read may lag the write for a moment: read until it shows the
	// version the write made (or a later one).
	delay := w.c.poll.First
	for {
		u, err := w.c.GetUser(ctx, st.UserID)
		if err != nil {
			return User{}, err
		}
		if u.Version >= st.Version {
			w.user, w.done = &u, true
			return u, nil
		}
		if err := sleep(ctx, jitter(delay, w.c.poll.Max)); err != nil {
			return User{}, fmt.Errorf("usersapi: waiting for user %s at version %d: %w", w.UserID, st.Version, err)
		}
		delay *= 2
	}
}

// WaitStatus polls the request as Wait does and returns its final status,
// succeeded or failed, without reading the user.
func (w *Write) WaitStatus(ctx context.Context) (RequestStatus, error) {
	if w.RequestID == "" {
		st := RequestStatus{UserID: w.UserID, Operation: w.op, Status: StatusSucceeded}
		if w.user != nil {
			st.Version = w.user.Version
		}
		return st, nil
	}
	delay := w.c.poll.First
	for {
		st, resp, err := w.c.getRequest(ctx, w.RequestID)
		if err != nil {
			return RequestStatus{}, err
		}
		if !st.Pending() {
			return st, nil
		}
		wait := retryAfter(resp.header)
		if wait == 0 {
			wait = jitter(delay, w.c.poll.Max)
			delay *= 2
		}
		if err := sleep(ctx, wait); err != nil {
			return RequestStatus{}, fmt.Errorf("usersapi: request %s still pending: %w", w.RequestID, err)
		}
	}
}
