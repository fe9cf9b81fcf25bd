package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// UserExport is everything the API holds about one user, as an admin's
// ExportUser returns it (the right of access).
type UserExport struct {
	UserID string `json:"userId"`
	// User is the user as it is; nil once deleted.
	User *User `json:"user,omitempty"`
	// Deleted is what a delete left of the user (none of its data); nil while
	// it lives, and once the tombstone has expired.
	Deleted *Tombstone `json:"deleted,omitempty"`
	// Owner is the subject of the token that created the user.
	Owner string `json:"owner,omitempty"`
	// Requests are the outcomes of the requests made to the user that are
	// still recorded, oldest first.
	Requests []RequestStatus `json:"requests"`
	// RequestsTruncated says that more requests are recorded than an export holds.
	RequestsTruncated bool      `json:"requestsTruncated,omitempty"`
	ExportedAt        time.Time `json:"exportedAt"`
}

// Tombstone is what the API keeps of a deleted user.
type Tombstone struct {
	Version   int64     `json:"version"` // the version the delete made
	CreatedAt time.Time `json:"createdAt"`
	DeletedAt time.Time `json:"deletedAt"`
}

// ExportUser returns everything the API holds about the user with the given
// id (GET /users/{id}/export). Only an admin may export; an id the API holds
// nothing about is a *Problem of status 404.
func (c *Client) ExportUser(ctx context.Context, id string) (UserExport, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: exportPath(id), retry: true})
	if err != nil {
		return UserExport{}, err
	}
	var e UserExport
	return e, decode(resp, &e)
}

// HeadUserExport returns the headers of the export of the user with the
// given id (HEAD /users/{id}/export).
func (c *Client) HeadUserExport(ctx context.Context, id string) (http.Header, error) {
	resp, err := c.do(ctx, request{method: http.MethodHead, path: exportPath(id), retry: true})
	if err != nil {
		return nil, err
	}
	return resp.header, nil
}

func exportPath(id string) string { return "/users/" + url.PathEscape(id) + "/export" }
