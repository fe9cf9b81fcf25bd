package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// GetUser returns the user with the given id (GET /users/{id}).
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/users/" + url.PathEscape(id), retry: true})
	if err != nil {
		return User{}, err
	}
	var u User
	return u, decode(resp, &u)
}

// RefreshUser revalidates u (GET /users/{id} with If-None-Match: u.ETag()):
// it returns u itself and false when the user still has u's version (304),
// and the user as it is now and true otherwise.
func (c *Client) RefreshUser(ctx context.Context, u User) (User, bool, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/users/" + url.PathEscape(u.ID), retry: true,
		header: http.Header{"If-None-Match": {u.ETag()}}})
	if err != nil {
		return User{}, false, err
	}
	if resp.status == http.StatusNotModified {
		return u, false, nil
	}
	var now User
	return now, true, decode(resp, &now)
}

// HeadUser returns the ETag of the user with the given id (HEAD /users/{id}).
func (c *Client) HeadUser(ctx context.Context, id string) (string, error) {
	resp, err := c.do(ctx, request{method: http.MethodHead, path: "/users/" + url.PathEscape(id), retry: true})
	if err != nil {
		return "", err
	}
	return resp.header.Get("ETag"), nil
}

// FindUser returns the user with the given id as the query form of the list
// answers it (GET /users?userId=).
func (c *Client) FindUser(ctx context.Context, id string) (User, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/users?" + url.Values{"userId": {id}}.Encode(), retry: true})
	if err != nil {
		return User{}, err
	}
	var u User
	return u, decode(resp, &u)
}

// ListPage returns one page of at most limit users (0: the API's default of
// 25), from cursor (the previous page's NextCursor; "" for the first page)
// (GET /users?limit=&cursor=). Only an admin may list.
func (c *Client) ListPage(ctx context.Context, limit int, cursor string) (Page, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: listPath(limit, cursor), retry: true})
	if err != nil {
		return Page{}, err
	}
	var p Page
	return p, decode(resp, &p)
}

// HeadUsers returns the headers GET /users with limit and cursor would
// answer, without the page (HEAD /users).
func (c *Client) HeadUsers(ctx context.Context, limit int, cursor string) (http.Header, error) {
	resp, err := c.do(ctx, request{method: http.MethodHead, path: listPath(limit, cursor), retry: true})
	if err != nil {
		return nil, err
	}
	return resp.header, nil
}

// ListUsers returns every user, in id order (so oldest first), reading pages
// of pageSize (0: the API's default) as the loop goes. A failed page ends the
// sequence with its error.
func (c *Client) ListUsers(ctx context.Context, pageSize int) iter.Seq2[User, error] {
	return func(yield func(User, error) bool) {
		cursor := ""
		for {
			p, err := c.ListPage(ctx, pageSize, cursor)
			if err != nil {
				yield(User{}, err)
				return
			}
			for _, u := range p.Items {
				if !yield(u, nil) {
					return
				}
			}
			if p.NextCursor == "" {
				return
			}
			cursor = p.NextCursor
		}
	}
}

func listPath(limit int, cursor string) string {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return "/users"
	}
	return "/users?" + q.Encode()
}

// HeadRequest returns the headers GET /requests/{requestId} would answer,
// such as Retry-After while the write is pending (HEAD /requests/{requestId}).
func (c *Client) HeadRequest(ctx context.Context, requestID string) (http.Header, error) {
	resp, err := c.do(ctx, request{method: http.MethodHead, path: "/requests/" + url.PathEscape(requestID), retry: true})
	if err != nil {
		return nil, err
	}
	return resp.header, nil
}

// GetRequest returns the status of an accepted write (GET /requests/{requestId}).
func (c *Client) GetRequest(ctx context.Context, requestID string) (RequestStatus, error) {
	st, _, err := c.getRequest(ctx, requestID)
	return st, err
}

func (c *Client) getRequest(ctx context.Context, requestID string) (RequestStatus, response, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/requests/" + url.PathEscape(requestID), retry: true})
	if err != nil {
		return RequestStatus{}, resp, err
	}
	var st RequestStatus
	return st, resp, decode(resp, &st)
}

// WriteOption sets a header of one write.
type WriteOption func(*writeOptions)

type writeOptions struct {
	ifMatch    string
	key        string
	preferWait int
}

// IfMatch makes the write conditional on the user still having etag (such as
// User.ETag's): otherwise the request fails as precondition-failed.
func IfMatch(etag string) WriteOption { return func(o *writeOptions) { o.ifMatch = etag } }

// IfUnmodified makes the write conditional on the user still being at u's
// version: IfMatch(u.ETag()).
func IfUnmodified(u User) WriteOption { return IfMatch(u.ETag()) }

// IdempotencyKey sends key as the write's Idempotency-Key instead of one the
// client makes: the same key with the same request within 24 hours gets the
// very same answer, once only applied. Use it to carry a write across
// restarts of the caller.
func IdempotencyKey(key string) WriteOption { return func(o *writeOptions) { o.key = key } }

// PreferWait asks the API to answer once the write is applied, if that takes
// at most seconds (RFC 7240's Prefer: wait). An API that does not wait, or a
// write that takes longer, answers 202 as without it; Write.Wait works either way.
func PreferWait(seconds int) WriteOption { return func(o *writeOptions) { o.preferWait = seconds } }

// CreateUser queues the creation of a user (POST /users).
func (c *Client) CreateUser(ctx context.Context, in UserInput, opts ...WriteOption) (*Write, error) {
	return c.write(ctx, "", OpCreate, http.MethodPost, "/users", "application/json", in, opts)
}

// ReplaceUser queues the replacement of every field of a user (PUT
// /users/{id}); a phone or age left out is removed.
func (c *Client) ReplaceUser(ctx context.Context, id string, in UserInput, opts ...WriteOption) (*Write, error) {
	return c.write(ctx, id, OpReplace, http.MethodPut, "/users/"+url.PathEscape(id), "application/json", in, opts)
}

// PatchUser queues a merge patch of a user (PATCH /users/{id}).
func (c *Client) PatchUser(ctx context.Context, id string, p UserPatch, opts ...WriteOption) (*Write, error) {
	return c.write(ctx, id, OpPatch, http.MethodPatch, "/users/"+url.PathEscape(id), "application/merge-patch+json", p, opts)
}

// DeleteUser queues the deletion of a user (DELETE /users/{id}).
func (c *Client) DeleteUser(ctx context.Context, id string, opts ...WriteOption) (*Write, error) {
	return c.write(ctx, id, OpDelete, http.MethodDelete, "/users/"+url.PathEscape(id), "", nil, opts)
}

func (c *Client) write(ctx context.Context, id, op, method, path, ctype string, body any, opts []WriteOption) (*Write, error) {
	var o writeOptions
	for _, f := range opts {
		f(&o)
	}
	if o.key == "" {
		o.key = newKey()
	}
	req := request{method: method, path: path, ctype: ctype, retry: true, idemKey: true,
		header: http.Header{"Idempotency-Key": {o.key}}}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("usersapi: %s %s: %w", method, path, err)
		}
		req.body = b
	}
	if o.ifMatch != "" {
		req.header.Set("If-Match", o.ifMatch)
	}
	if o.preferWait > 0 {
		req.header.Set("Prefer", "wait="+strconv.Itoa(o.preferWait))
	}
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	w := &Write{c: c, op: op, UserID: id, IdempotencyKey: o.key, Location: resp.header.Get("Location"),
		Replayed: resp.header.Get("Idempotent-Replayed") == "true"}
	switch resp.status {
	case http.StatusAccepted:
		var a Accepted
		if err := decode(resp, &a); err != nil {
			return nil, err
		}
		w.RequestID, w.UserID = a.RequestID, a.UserID
	case http.StatusOK, http.StatusCreated: // answered once applied (Prefer: wait)
		var u User
		if err := decode(resp, &u); err != nil {
			return nil, err
		}
		w.user, w.done = &u, true
		w.UserID = u.ID
	case http.StatusNoContent: // a delete answered once applied
		w.user, w.done = &User{}, true
	default:
		return nil, fmt.Errorf("usersapi: %s %s: unexpected status %d", method, path, resp.status)
	}
	return w, nil
}
