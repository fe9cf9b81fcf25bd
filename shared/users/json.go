package users

// The JSON forms of Input and Patch: the request bodies of the API and the
// payloads of the write queue, decoded by one codec.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Decoding is by hand over json.RawMessage, not by encoding/json into a
// struct: a struct cannot tell a null from an absent field, reports only the
// first bad field, and names Go types in its errors. Clients are owed every
// refused field with a reason in their own terms.

// readOnly are fields of a user that the server owns.
var readOnly = map[string]bool{"id": true, "version": true, "createdAt": true, "updatedAt": true}

// object splits a body into its members, or says why it is not a JSON object.
func object(body []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(body) {
		return nil, Errorf(Invalid, "the body is not valid UTF-8")
	}
	if loneSurrogate(body) {
		return nil, Errorf(Invalid, "the body is not valid UTF-8: it escapes a lone surrogate")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var m map[string]json.RawMessage
	if err := d.Decode(&m); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) || bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
			return nil, Errorf(Invalid, "the body must be a JSON object")
		}
		return nil, Errorf(Invalid, "the body is not valid JSON")
	}
	if m == nil {
		return nil, Errorf(Invalid, "the body must be a JSON object")
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, Errorf(Invalid, "the body is not valid JSON: data after the object")
	}
	return m, nil
}

// unknownFields checks that m has only the fields a client may send.
func unknownFields(m map[string]json.RawMessage) []FieldError {
	var fs []FieldError
	for k := range m {
		switch {
		case readOnly[k]:
			fs = append(fs, FieldError{Field: k, Reason: "is set by the server and cannot be sent"})
		case !slices.Contains(Fields, k):
			fs = append(fs, FieldError{Field: k, Reason: "is not a field of a user"})
		}
	}
	return fs
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// str decodes a string member.
func str(v json.RawMessage) (string, bool) {
	var s string
	if isNull(v) || json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// integer decodes an integer member: a JSON number without a fraction
// (18 and 18.0 alike, as JSON Schema counts integers).
func integer(v json.RawMessage) (int, bool) {
	var n json.Number
	// json.Number also takes a quoted number; a JSON string is no integer.
	if isNull(v) || bytes.HasPrefix(bytes.TrimSpace(v), []byte(`"`)) || json.Unmarshal(v, &n) != nil {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// DecodeInput decodes and validates a user as JSON (the body of a POST or a
// PUT): an Invalid *Error names every refused field with its reason.
func DecodeInput(body []byte) (Input, error) {
	m, err := object(body)
	if err != nil {
		return Input{}, err
	}
	fs := unknownFields(m)
	var in Input
	var ok bool
	for _, f := range []struct {
		name string
		dst  *string
	}{{"name", &in.Name}, {"email", &in.Email}} {
		v, present := m[f.name]
		switch {
		case !present:
			fs = append(fs, FieldError{Field: f.name, Reason: "is required"})
		case isNull(v):
			fs = append(fs, FieldError{Field: f.name, Reason: "must not be null"})
		default:
			if *f.dst, ok = str(v); !ok {
				fs = append(fs, FieldError{Field: f.name, Reason: "must be a string"})
			}
		}
	}
	if v, present := m["phone"]; present {
		if in.Phone, ok = str(v); !ok || in.Phone == "" {
			fs = append(fs, FieldError{Field: "phone", Reason: "must be a string of exactly 10 digits"})
		}
	}
	if v, present := m["age"]; present {
		if in.Age, ok = integer(v); !ok || in.Age == 0 {
			fs = append(fs, FieldError{Field: "age", Reason: "must be an integer from 18 to 120"})
			in.Age = 0
		}
	}
	return in, merge(fs, in.Validate())
}

// DecodePatch decodes and validates a JSON merge patch (RFC 7396) of a user:
// null removes an optional field and is refused for a required one. An
// Invalid *Error names every refused field with its reason.
func DecodePatch(body []byte) (Patch, error) {
	m, err := object(body)
	if err != nil {
		return Patch{}, err
	}
	fs := unknownFields(m)
	var p Patch
	for _, f := range []struct {
		name string
		dst  **string
	}{{"name", &p.Name}, {"email", &p.Email}} {
		v, present := m[f.name]
		if !present {
			continue
		}
		s, ok := str(v)
		switch {
		case isNull(v):
			fs = append(fs, FieldError{Field: f.name, Reason: "is required and cannot be removed"})
		case !ok:
			fs = append(fs, FieldError{Field: f.name, Reason: "must be a string"})
		default:
			*f.dst = &s
		}
	}
	if v, present := m["phone"]; present {
		s, ok := str(v)
		switch {
		case isNull(v):
			p.Phone = new(string)
		case !ok || s == "":
			fs = append(fs, FieldError{Field: "phone", Reason: "must be a string of exactly 10 digits, or null"})
		default:
			p.Phone = &s
		}
	}
	if v, present := m["age"]; present {
		n, ok := integer(v)
		switch {
		case isNull(v):
			p.Age = new(int)
		case !ok || n == 0:
			fs = append(fs, FieldError{Field: "age", Reason: "must be an integer from 18 to 120, or null"})
		default:
			p.Age = &n
		}
	}
	return p, merge(fs, p.Validate())
}

// merge adds the rule violations of err to the decoding errors fs, one
// reason per field.
func merge(fs []FieldError, err error) error {
	var e *Error
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			if !slices.ContainsFunc(fs, func(g FieldError) bool { return g.Field == f.Field }) {
				fs = append(fs, f)
			}
		}
	}
	if len(fs) == 0 {
		return nil
	}
	slices.SortFunc(fs, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return &Error{Kind: Invalid, Detail: "the request body is not valid", Fields: fs}
}

// EncodePatch writes p as a JSON merge patch, a removal as null: what
// DecodePatch reads back as p.
func EncodePatch(p Patch) ([]byte, error) {
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
