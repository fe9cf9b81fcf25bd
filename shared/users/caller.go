package users

import "strings"

// The scopes of the API.
const (
	ScopeRead  = "users.read"
	ScopeWrite = "users.write"
	ScopeAdmin = "users.admin"
)

// Caller is who makes a request, as the authorizer established it.
type Caller struct {
	Subject string // the token's subject; the owner of the users it creates
	read    bool
	write   bool
	admin   bool
}

// NewCaller returns the caller with subject and the space-separated scopes.
func NewCaller(subject, scopes string) Caller {
	c := Caller{Subject: subject}
	for _, s := range strings.Fields(scopes) {
		switch s {
		case ScopeRead:
			c.read = true
		case ScopeWrite:
			c.write = true
		case ScopeAdmin:
			c.admin = true
		}
	}
	return c
}

// Admin reports whether the caller may do anything.
func (c Caller) Admin() bool { return c.admin }

// CanRead reports whether the caller may read users (its own, unless admin).
func (c Caller) CanRead() bool { return c.read || c.write || c.admin }

// CanWrite reports whether the caller may create users and change its own.
func (c Caller) CanWrite() bool { return c.write || c.admin }

// Owns reports whether the caller may see or change u: an admin may touch
// any user, anyone else only the users it created.
func (c Caller) Owns(u User) bool { return c.admin || (c.Subject != "" && u.Owner == c.Subject) }
