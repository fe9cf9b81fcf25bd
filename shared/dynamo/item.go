package dynamo

import (
	"fmt"
	"strings"
	"time"

	"github.com/usersapi/usersapi/shared/users"
)

// Key prefixes and the listing index.
const (
	userPrefix  = "USER#"
	emailPrefix = "EMAIL#"
	listIndex   = "ByList"
)

// Retention of tombstones and request records before TTL removes them.
const (
	TombstoneTTL = 30 * 24 * time.Hour
	RequestTTL   = 30 * 24 * time.Hour
)

// userItem is a user as the table stores it.
type userItem struct {
	PK            string `dynamodbav:"pk"`
	ID            string `dynamodbav:"id"`
	Name          string `dynamodbav:"name,omitempty"` // absent on tombstones, as are email, phone and age
	Email         string `dynamodbav:"email,omitempty"`
	Phone         string `dynamodbav:"phone,omitempty"`
	Age           int    `dynamodbav:"age,omitempty"`
	Version       int64  `dynamodbav:"version"`
	CreatedAt     string `dynamodbav:"createdAt"`
	UpdatedAt     string `dynamodbav:"updatedAt"`
	Owner         string `dynamodbav:"owner,omitempty"`
	LastRequestID string `dynamodbav:"lastRequestId,omitempty"`
	AcceptedAt    string `dynamodbav:"acceptedAt,omitempty"` // when the API accepted the last write (end-to-end latency)
	ListPK        string `dynamodbav:"listPk,omitempty"`     // "users#<shard>"; absent on tombstones: they leave the listing index
	Trace         string `dynamodbav:"trace,omitempty"`
	Deleted       bool   `dynamodbav:"deleted,omitempty"`
	ExpiresAt     int64  `dynamodbav:"expiresAt,omitempty"`
}

// emailItem reserves an email for one user.
type emailItem struct {
	PK     string `dynamodbav:"pk"`
	UserID string `dynamodbav:"userId"`
}

// shardsItem records the table's list layout: the shard count its users are
// written with, the count before the last reshard, the count a reshard goes
// to while it begins, and whether one is under way (layout).
type shardsItem struct {
	PK     string `dynamodbav:"pk"`
	Shards int    `dynamodbav:"shards"`
	From   int    `dynamodbav:"from,omitempty"`
	To     int    `dynamodbav:"to,omitempty"`
	Moving bool   `dynamodbav:"moving,omitempty"`
}

// requestItem is the recorded outcome of a request.
type requestItem struct {
	RequestID   string             `dynamodbav:"requestId"`
	UserID      string             `dynamodbav:"userId"`
	Op          string             `dynamodbav:"op"`
	Status      string             `dynamodbav:"status"`
	Version     int64              `dynamodbav:"version,omitempty"`
	ErrorType   string             `dynamodbav:"errorType,omitempty"`
	ErrorDetail string             `dynamodbav:"errorDetail,omitempty"` // never a user's data: see emailTaken
	ErrorFields []users.FieldError `dynamodbav:"errorFields,omitempty"`
	AcceptedAt  string             `dynamodbav:"acceptedAt"`
	CompletedAt string             `dynamodbav:"completedAt"`
	Owner       string             `dynamodbav:"owner,omitempty"`
	ExpiresAt   int64              `dynamodbav:"expiresAt"`
}

func userKey(id users.ID) string   { return userPrefix + string(id) }
func emailKey(email string) string { return emailPrefix + users.EmailKey(email) }

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

func toItem(u users.User, cmd users.Command) userItem {
	requestID, trace := cmd.RequestID, cmd.Trace
	it := userItem{
		PK: userKey(u.ID), ID: string(u.ID), Name: u.Name, Email: u.Email, Phone: u.Phone, Age: u.Age,
		Version: u.Version, CreatedAt: formatTime(u.CreatedAt), UpdatedAt: formatTime(u.UpdatedAt),
		Owner: u.Owner, LastRequestID: requestID, Trace: trace,
	}
	if !cmd.AcceptedAt.IsZero() {
		it.AcceptedAt = formatTime(cmd.AcceptedAt)
	}
	return it
}

// tombstone returns what the users table keeps of a user deleted at now:
// what the contract needs (the id, the version the delete made, the owner,
// the timestamps, the mark, the last request and its trace) and nothing of
// the user's data. TTL removes it after TombstoneTTL.
func tombstone(it userItem, now time.Time) userItem {
	return userItem{PK: it.PK, ID: it.ID, Version: it.Version, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
		Owner: it.Owner, LastRequestID: it.LastRequestID, AcceptedAt: it.AcceptedAt, Trace: it.Trace,
		Deleted: true, ExpiresAt: now.Add(TombstoneTTL).Unix()}
}

func (it userItem) user() (users.User, error) {
	if !strings.HasPrefix(it.PK, userPrefix) || it.ID == "" {
		return users.User{}, fmt.Errorf("item %q is not a user", it.PK)
	}
	created, err := parseTime(it.CreatedAt)
	if err != nil {
		return users.User{}, fmt.Errorf("user %s: createdAt: %w", it.ID, err)
	}
	updated, err := parseTime(it.UpdatedAt)
	if err != nil {
		return users.User{}, fmt.Errorf("user %s: updatedAt: %w", it.ID, err)
	}
	return users.User{
		ID: users.ID(it.ID), Name: it.Name, Email: it.Email, Phone: it.Phone, Age: it.Age,
		Version: it.Version, CreatedAt: created, UpdatedAt: updated, Owner: it.Owner,
	}, nil
}

func (it userItem) tombstone() (*users.Tombstone, error) {
	created, err := parseTime(it.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("tombstone %s: createdAt: %w", it.ID, err)
	}
	deleted, err := parseTime(it.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("tombstone %s: updatedAt: %w", it.ID, err)
	}
	return &users.Tombstone{Version: it.Version, CreatedAt: created, DeletedAt: deleted, Owner: it.Owner}, nil
}

func (it requestItem) request() users.Request {
	r := users.Request{
		ID: it.RequestID, UserID: users.ID(it.UserID), Op: users.Op(it.Op), Status: users.Status(it.Status),
		Version: it.Version, Owner: it.Owner,
	}
	r.AcceptedAt, _ = parseTime(it.AcceptedAt)
	r.CompletedAt, _ = parseTime(it.CompletedAt)
	if it.ErrorType != "" {
		r.Error = &users.Error{Kind: users.ParseKind(it.ErrorType), Detail: it.ErrorDetail, Fields: it.ErrorFields}
		if r.Error.Kind == users.EmailTaken {
			// Records written before emailTaken named the address in their
			// detail; none is shown again.
			r.Error = emailTaken()
		}
	}
	return r
}

// emailTaken is the failure of a write whose email another user has. It names
// the field, never the address: request records keep it for RequestTTL, after
// the user who sent it may have been erased.
func emailTaken() *users.Error {
	return &users.Error{Kind: users.EmailTaken, Detail: "another user has the email this request gives",
		Fields: []users.FieldError{{Field: "email", Reason: "is taken by another user"}}}
}
