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
	"unicode/utf8"

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
		env.Payload, err = users.EncodePatch(cmd.Patch)
	case users.Delete:
	default:
		return nil, fmt.Errorf("encode command: unknown operation %q", cmd.Op)
	}
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	b, err := json.Marshal(env)
	return escapeForSQS(b), err
}

// escapeForSQS writes every character of a JSON text that SQS refuses in a
// message body (it allows #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
// #x10000-#x10FFFF) as a \u escape, which decodes to the same string:
// nothing a command holds can make SQS refuse its message. encoding/json
// already escapes the control characters and replaces invalid UTF-8, so in
// practice this escapes U+FFFE and U+FFFF, which it writes as they are.
func escapeForSQS(b []byte) []byte {
	if bytes.IndexFunc(b, func(r rune) bool { return !sqsAllowed(r) }) < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+12)
	for _, r := range string(b) {
		if sqsAllowed(r) {
			out = utf8.AppendRune(out, r)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out
}

func sqsAllowed(r rune) bool {
	return r == 0x9 || r == 0xa || r == 0xd || r >= 0x20 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
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
		cmd.Patch, err = users.DecodePatch(env.Payload)
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
