package client

import (
	"cmp"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// User is a user as the API answers it (the document's User schema). Phone
// and Age are zero when the user has none.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Phone     string    `json:"phone,omitempty"`
	Age       int       `json:"age,omitempty"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ETag returns the user's ETag: its version in double quotes, as GET answers
// it and as If-Match and If-None-Match take it.
func (u User) ETag() string { return ETagOf(u.Version) }

// ETagOf returns the ETag of a user at version v.
func ETagOf(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// UserInput is the body of a create or a replace (the document's UserCreate
// and UserReplace schemas). Phone and Age are left out when zero: a replace
// without them removes them.
type UserInput struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone,omitempty"`
	Age   int    `json:"age,omitempty"`
}

// UserPatch is a JSON merge patch of a user (the document's UserPatch
// schema): a nil field is left as it is; a Phone of "" or an Age of 0 removes
// that field (it is sent as null).
type UserPatch struct {
	Name  *string `json:"name,omitempty"`
	Email *string `json:"email,omitempty"`
	Phone *string `json:"phone,omitempty"`
	Age   *int    `json:"age,omitempty"`
}

// MarshalJSON writes p as a merge patch: absent fields are left out, a
// removed phone or age is null.
func (p UserPatch) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if p.Name != nil {
		m["name"] = *p.Name
	}
	if p.Email != nil {
		m["email"] = *p.Email
	}
	if p.Phone != nil {
		m["phone"] = nil
		if *p.Phone != "" {
			m["phone"] = *p.Phone
		}
	}
	if p.Age != nil {
		m["age"] = nil
		if *p.Age != 0 {
			m["age"] = *p.Age
		}
	}
	return json.Marshal(m)
}

// String returns a pointer to s, for the fields of a UserPatch.
func String(s string) *string { return &s }

// Int returns a pointer to n, for the fields of a UserPatch.
func Int(n int) *int { return &n }

// Page is one page of users (the document's UserPage schema). NextCursor is
// empty on the last page.
type Page struct {
	Items      []User `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// Accepted is the body of a 202 Accepted (the document's Accepted schema).
type Accepted struct {
	RequestID string `json:"requestId"`
	UserID    string `json:"userId"`
	Status    string `json:"status"`
}

// The statuses of a request.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// The operations a request may be.
const (
	OpCreate  = "create"
	OpReplace = "replace"
	OpPatch   = "patch"
	OpDelete  = "delete"
)

// RequestStatus is the status of an accepted write (the document's
// RequestStatus schema). Version is set once the write succeeded, Error once
// it failed, CompletedAt once it did either.
type RequestStatus struct {
	RequestID   string     `json:"requestId"`
	UserID      string     `json:"userId"`
	Operation   string     `json:"operation"`
	Status      string     `json:"status"`
	Version     int64      `json:"version,omitempty"`
	Error       *Problem   `json:"error,omitempty"`
	AcceptedAt  time.Time  `json:"acceptedAt"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
}

// Pending reports whether the write is still to be applied.
func (s RequestStatus) Pending() bool { return s.Status == StatusPending }

// File is a document the API serves about itself: the OpenAPI document, the
// documentation page or one of its files. Body is nil for a HEAD request.
type File struct {
	Body        []byte
	ContentType string
	ETag        string
}

// ProblemBase prefixes the type of every problem the API answers.
const ProblemBase = "https://usersapi.dev/problems/"

// Problem is an error the API answered (RFC 9457, the document's Problem
// schema), or the outcome of a failed write. Use errors.As to get one.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status,omitempty"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
}

// FieldError is one refused field of a request body.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error returns the problem's status, kind and detail, with its refused fields.
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString("usersapi: ")
	if p.Status != 0 {
		b.WriteString(strconv.Itoa(p.Status) + " ")
	}
	b.WriteString(cmp.Or(p.Kind(), p.Title))
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	for i, f := range p.Errors {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + " " + f.Reason)
		if i == len(p.Errors)-1 {
			b.WriteString(")")
		}
	}
	return b.String()
}

// Kind returns the last part of the problem's type, such as "not-found",
// "precondition-failed", "email-taken" or "invalid"; "" for a type of
// another API.
func (p *Problem) Kind() string {
	k, ok := strings.CutPrefix(p.Type, ProblemBase)
	if !ok {
		return ""
	}
	return k
}

// The kinds of problem (Problem.Kind) a client may act on.
const (
	KindInvalid            = "invalid"
	KindNotFound           = "not-found"
	KindPreconditionFailed = "precondition-failed"
	KindEmailTaken         = "email-taken"
	KindConflict           = "conflict"
	KindKeyReused          = "idempotency-key-reused"
	KindForbidden          = "forbidden"
	KindUnauthorized       = "unauthorized"
	KindTooManyRequests    = "too-many-requests"
)
