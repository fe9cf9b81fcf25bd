// Package envelope is the wire format of a users.Command on the write queue:
// a versioned JSON envelope that Encode writes and Decode reads, refusing
// anything else (a malformed body, an unknown version) as poison. It has no
// AWS dependency, so that the worker links no SQS client.
package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/usersapi/usersapi/shared/users"
)

// SchemaVersion is the version of the envelope that Encode writes and Decode reads.
const SchemaVersion = 1

// envelope is the message body: schemaVersion first so that a reader can tell
// what it holds before it reads the rest.
type envelope struct {
	SchemaVersion int             `json:"schemaVersion"`
	RequestID     string          `json:"requestId"`
	Op            users.Op        `json:"op"`
	UserID        users.ID        `json:"userId"`
	Payload       json.RawMessage `json:"payload,omitempty"`
	IfMatch       int64           `json:"ifMatch,omitempty"`
	AcceptedAt    time.Time       `json:"acceptedAt"`
	Owner         string          `json:"owner,omitempty"`
	Admin         bool            `json:"admin,omitempty"`
	Trace         string          `json:"trace,omitempty"`
}

// input is the payload of a create or a replace.
type input struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone,omitempty"`
	Age   int    `json:"age,omitempty"`
}

// Encode returns the message body of cmd.
func Encode(cmd users.Command) ([]byte, error) {
	env := envelope{
		SchemaVersion: SchemaVersion, RequestID: cmd.RequestID, Op: cmd.Op, UserID: cmd.UserID,
		IfMatch: cmd.IfMatch, AcceptedAt: cmd.AcceptedAt.UTC(), Owner: cmd.Owner, Admin: cmd.Admin, Trace: cmd.Trace,
	}
	var err error
	switch cmd.Op {
	case users.Create, users.Replace:
		in := cmd.Input
		env.Payload, err = json.Marshal(input{Name: in.Name, Email: in.Email, Phone: in.Phone, Age: in.Age})
	case users.PatchOp:
		env.Payload, err = encodePatch(cmd.Patch)
	case users.Delete:
	default:
		return nil, fmt.Errorf("encode command: unknown operation %q", cmd.Op)
	}
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	return json.Marshal(env)
}

// encodePatch writes p as a JSON merge patch: removals as null.
func encodePatch(p users.Patch) ([]byte, error) {
	m := map[string]any{}
	if p.Name != nil {
		m["name"] = *p.Name
	}
	if p.Email != nil {
		m["email"] = *p.Email
	}
	if p.Phone != nil {
		m["phone"] = nullIfZero(*p.Phone)
	}
	if p.Age != nil {
		m["age"] = nullIfZero(*p.Age)
	}
	return json.Marshal(m)
}

func nullIfZero[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// patch is a merge patch as the envelope holds it; a json.RawMessage of
// "null" tells a removal from an absent field.
type patch struct {
	Name  json.RawMessage `json:"name"`
	Email json.RawMessage `json:"email"`
	Phone json.RawMessage `json:"phone"`
	Age   json.RawMessage `json:"age"`
}

// Decode returns the command in a message body. A body that is not an
// envelope of SchemaVersion, or whose command breaks the rules, gives an
// Invalid *users.Error: such a message can never succeed.
func Decode(body []byte) (users.Command, error) {
	var env envelope
	if err := strictUnmarshal(body, &env); err != nil {
		return users.Command{}, poison("the message is not a command envelope: %v", err)
	}
	if env.SchemaVersion != SchemaVersion {
		return users.Command{}, poison("schema version %d is not %d", env.SchemaVersion, SchemaVersion)
	}
	if !env.Op.Valid() {
		return users.Command{}, poison("unknown operation %q", env.Op)
	}
	if _, err := users.ParseID(string(env.UserID)); err != nil {
		return users.Command{}, poison("user id %q is not valid", env.UserID)
	}
	if env.RequestID == "" || env.AcceptedAt.IsZero() {
		return users.Command{}, poison("requestId and acceptedAt are required")
	}
	cmd := users.Command{
		RequestID: env.RequestID, Op: env.Op, UserID: env.UserID, IfMatch: env.IfMatch,
		AcceptedAt: env.AcceptedAt, Owner: env.Owner, Admin: env.Admin, Trace: env.Trace,
	}
	var err error
	switch env.Op {
	case users.Create, users.Replace:
		var in input
		if err = strictUnmarshal(env.Payload, &in); err == nil {
			cmd.Input = users.Input(in)
			err = cmd.Input.Validate()
		}
	case users.PatchOp:
		cmd.Patch, err = decodePatch(env.Payload)
		if err == nil {
			err = cmd.Patch.Validate()
		}
	case users.Delete:
		if len(env.Payload) != 0 && string(env.Payload) != "null" {
			err = errors.New("a delete has no payload")
		}
	}
	if err != nil {
		return users.Command{}, poison("the %s payload is not valid: %v", env.Op, err)
	}
	return cmd, nil
}

func decodePatch(b []byte) (users.Patch, error) {
	var raw patch
	if err := strictUnmarshal(b, &raw); err != nil {
		return users.Patch{}, err
	}
	var p users.Patch
	for _, f := range []struct {
		name     string
		raw      json.RawMessage
		dst      **string
		required bool
	}{{"name", raw.Name, &p.Name, true}, {"email", raw.Email, &p.Email, true}, {"phone", raw.Phone, &p.Phone, false}} {
		if f.raw == nil {
			continue
		}
		*f.dst = new(string)
		if isNull(f.raw) && !f.required {
			continue
		}
		if err := json.Unmarshal(f.raw, *f.dst); err != nil || isNull(f.raw) || **f.dst == "" && !f.required {
			return users.Patch{}, fmt.Errorf("%s must be a string", f.name)
		}
	}
	if raw.Age != nil {
		p.Age = new(int)
		if !isNull(raw.Age) {
			if err := json.Unmarshal(raw.Age, p.Age); err != nil || *p.Age == 0 {
				return users.Patch{}, errors.New("age must be an integer or null")
			}
		}
	}
	return p, nil
}

func isNull(b json.RawMessage) bool { return string(bytes.TrimSpace(b)) == "null" }

func strictUnmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return errors.New("empty")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

func poison(format string, args ...any) error {
	return &users.Error{Kind: users.Invalid, Detail: fmt.Sprintf(format, args...)}
}
