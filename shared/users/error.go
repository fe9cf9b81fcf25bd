package users

import (
	"errors"
	"fmt"
)

// Kind classifies an Error. Kinds are append-only: their values are stored in
// request records and their names are problem types that clients code against.
type Kind int

// The kinds of Error. The zero Kind is Internal: a failure the client is not told about.
const (
	Internal           Kind = iota // a fault of ours or of a dependency; never shown
	Invalid                        // the input breaks a rule; Fields says which
	NotFound                       // no such user, request or route
	Conflict                       // the request clashes with the state of the resource
	PreconditionFailed             // If-Match named another version
	EmailTaken                     // another user has the email
	Forbidden                      // the caller may not do this
	Unauthorized                   // the caller is not authenticated
	Unavailable                    // a dependency is down; try again later
	KeyReused                      // an Idempotency-Key came back with another request
)

var kindNames = [...]string{
	Internal:           "internal",
	Invalid:            "invalid",
	NotFound:           "not-found",
	Conflict:           "conflict",
	PreconditionFailed: "precondition-failed",
	EmailTaken:         "email-taken",
	Forbidden:          "forbidden",
	Unauthorized:       "unauthorized",
	Unavailable:        "unavailable",
	KeyReused:          "idempotency-key-reused",
}

// String returns the kind's slug, as used in problem types ("not-found").
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return kindNames[Internal]
	}
	return kindNames[k]
}

// ParseKind returns the Kind whose String is s, or Internal.
func ParseKind(s string) Kind {
	for k, name := range kindNames {
		if name == s {
			return Kind(k)
		}
	}
	return Internal
}

// FieldError says why one field of the input was refused.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is a failure a client may be told about.
type Error struct {
	Kind   Kind         // Invalid, NotFound, Conflict, ...; zero means Internal
	Detail string       // safe to show
	Fields []FieldError // for Invalid: each refused field
	Err    error        // cause: logged, never shown
}

// Errorf returns an *Error of kind k whose Detail is formatted from format and args.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	msg := e.Kind.String()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	for _, f := range e.Fields {
		msg += fmt.Sprintf("; %s: %s", f.Field, f.Reason)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// IsKind reports whether err's chain holds an *Error of kind k.
func IsKind(err error, k Kind) bool {
	return err != nil && KindOf(err) == k
}
