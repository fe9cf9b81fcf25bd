package users

import (
	"strconv"
	"time"
)

// Op is what a write does to a user.
type Op string

// The operations of the write API.
const (
	Create  Op = "create"
	Replace Op = "replace"
	PatchOp Op = "patch"
	Delete  Op = "delete"
)

// Valid reports whether o is one of the four operations.
func (o Op) Valid() bool {
	switch o {
	case Create, Replace, PatchOp, Delete:
		return true
	}
	return false
}

// Command is a write that the API accepted and the worker carries out.
type Command struct {
	RequestID  string
	Op         Op
	UserID     ID
	Input      Input     // Create and Replace
	Patch      Patch     // PatchOp
	IfMatch    int64     // the version the caller expects; 0: unconditional
	AcceptedAt time.Time // when the API answered 202
	Owner      string    // the caller's subject: the owner of a user it creates
	Admin      bool      // the caller may change users it does not own
	Trace      string    // the X-Ray trace header at acceptance
}

// Apply returns the user that cmd makes of cur. exists says whether cur is a
// live user. It returns a NotFound, PreconditionFailed or Conflict *Error when
// the command cannot apply: such failures are final outcomes, not faults.
func Apply(cur User, exists bool, cmd Command, now time.Time) (User, error) {
	if cmd.Op == Create {
		if exists {
			return User{}, Errorf(Conflict, "user %s already exists", cmd.UserID)
		}
		u := User{ID: cmd.UserID, Version: 1, CreatedAt: now, UpdatedAt: now, Owner: cmd.Owner}
		u.set(cmd.Input)
		return u, nil
	}
	if !exists {
		return User{}, Errorf(NotFound, "user %s does not exist", cmd.UserID)
	}
	if !cmd.Admin && cur.Owner != cmd.Owner {
		// The API answers 403 at once for another owner's user; this catches a
		// race with a change of hands between that check and the write.
		return User{}, Errorf(Forbidden, "user %s belongs to another caller", cmd.UserID)
	}
	if cmd.IfMatch != 0 && cmd.IfMatch != cur.Version {
		return User{}, Errorf(PreconditionFailed, "user %s is at version %d, not %d", cmd.UserID, cur.Version, cmd.IfMatch)
	}
	next := cur
	next.Version = cur.Version + 1
	next.UpdatedAt = now
	switch cmd.Op {
	case Replace:
		next.set(cmd.Input)
	case PatchOp:
		next.patch(cmd.Patch)
	case Delete:
		// The store keeps only a tombstone of a deleted user, none of its data.
	default:
		return User{}, Errorf(Invalid, "unknown operation %q", cmd.Op)
	}
	return next, nil
}

func (u *User) set(in Input) {
	u.Name, u.Email, u.Phone, u.Age = in.Name, in.Email, in.Phone, in.Age
}

func (u *User) patch(p Patch) {
	if p.Name != nil {
		u.Name = *p.Name
	}
	if p.Email != nil {
		u.Email = *p.Email
	}
	if p.Phone != nil {
		u.Phone = *p.Phone
	}
	if p.Age != nil {
		u.Age = *p.Age
	}
}

// Status is where a request stands.
type Status string

// The statuses of a request.
const (
	Pending   Status = "pending"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
)

// Request is the outcome of an accepted write, as GET /requests/{id} shows it.
type Request struct {
	ID          string
	UserID      ID
	Op          Op
	Status      Status
	Version     int64  // the user's version after the write; 0 if it failed
	Error       *Error // why it failed
	AcceptedAt  time.Time
	CompletedAt time.Time // zero while pending
	Owner       string
}

// ChangeType names a change event.
type ChangeType string

// The change events that the stream publishes.
const (
	Created ChangeType = "UserCreated"
	Updated ChangeType = "UserUpdated"
	Deleted ChangeType = "UserDeleted"
)

// Change is one applied write, as the stream publishes it.
type Change struct {
	Type       ChangeType
	UserID     ID
	Version    int64
	RequestID  string
	OccurredAt time.Time
	AcceptedAt time.Time // when the API accepted the write; zero for items written before it was recorded
	Old, New   *User     // nil for a create's Old and a delete's New
	Trace      string
}

// EventID is the change's deterministic id, "<userId>#<version>": a consumer
// that has seen it may drop the event as a duplicate.
func (c Change) EventID() string {
	return string(c.UserID) + "#" + strconv.FormatInt(c.Version, 10)
}
