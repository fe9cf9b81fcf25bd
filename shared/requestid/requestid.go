// Package requestid issues and reads the ids of accepted writes.
//
// A request id is a token sealed with the API's signing key that carries what
// GET /requests/{id} must show before the worker has recorded anything: the
// user, the operation, when it was accepted and a keyed digest of the caller.
// So the API writes nothing to a database when it answers 202, and can still
// tell a request it issued but has not processed (pending) from an id it never
// issued (404). The cost is a longer id (78 characters) and one HMAC per request.
package requestid

import (
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/signed"
	"github.com/usersapi/usersapi/shared/users"
)

const (
	purpose    = "request-id"
	version    = 1
	callerLen  = 8
	payloadLen = 1 + 16 + 1 + 16 + callerLen
)

var ops = []users.Op{users.Create, users.Replace, users.PatchOp, users.Delete}

// Claims is what a request id says.
type Claims struct {
	ID         uuid.UUID // a UUIDv7: its time is when the request was accepted
	UserID     users.ID
	Op         users.Op
	AcceptedAt time.Time
	caller     [callerLen]byte
}

// ErrInvalid is returned for an id that this API did not issue.
var ErrInvalid = errors.New("requestid: not an id this API issued")

// Issuer issues and reads request ids with one key.
type Issuer struct{ key signed.Key }

// NewIssuer returns an Issuer that seals ids with key.
func NewIssuer(key signed.Key) *Issuer { return &Issuer{key: key} }

// Issue returns a new request id for op on user, by caller (the subject of the
// caller's token, or "" for an anonymous caller), and the claims it carries.
func (is *Issuer) Issue(user users.ID, op users.Op, caller string) (string, Claims, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", Claims{}, err
	}
	uid, err := uuid.Parse(string(user))
	if err != nil {
		return "", Claims{}, err
	}
	opIndex := -1
	for i, o := range ops {
		if o == op {
			opIndex = i
		}
	}
	if opIndex < 0 {
		return "", Claims{}, errors.New("requestid: unknown operation " + string(op))
	}
	p := make([]byte, 0, payloadLen)
	p = append(p, version)
	p = append(p, id[:]...)
	p = append(p, byte(opIndex))
	p = append(p, uid[:]...)
	c := Claims{ID: id, UserID: user, Op: op, AcceptedAt: acceptedAt(id)}
	copy(c.caller[:], is.key.Hash(purpose, caller, callerLen))
	p = append(p, c.caller[:]...)
	return is.key.Seal(purpose, p), c, nil
}

// Parse returns the claims of an id that is returned by Issue.
func (is *Issuer) Parse(s string) (Claims, error) {
	p, err := is.key.Open(purpose, s)
	if err != nil || len(p) != payloadLen || p[0] != version || int(p[17]) >= len(ops) {
		return Claims{}, ErrInvalid
	}
	var c Claims
	copy(c.ID[:], p[1:17])
	c.Op = ops[p[17]]
	var uid uuid.UUID
	copy(uid[:], p[18:34])
	c.UserID = users.ID(uid.String())
	copy(c.caller[:], p[34:])
	c.AcceptedAt = acceptedAt(c.ID)
	return c, nil
}

// IssuedTo reports whether the id was issued to caller.
func (is *Issuer) IssuedTo(c Claims, caller string) bool {
	h := is.key.Hash(purpose, caller, callerLen)
	return string(h) == string(c.caller[:])
}

func acceptedAt(id uuid.UUID) time.Time {
	sec, nsec := id.Time().UnixTime()
	return time.Unix(sec, nsec).UTC()
}
