// Package signed makes tamper-evident tokens: a payload and an HMAC-SHA256 tag,
// in one URL-safe string. The API hands such tokens out (list cursors, request
// ids) so that it can later trust what they say without storing them.
//
// The payload is not encrypted: it must hold nothing secret.
package signed

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// MinKeyBytes is the shortest secret NewKey accepts.
const MinKeyBytes = 32

const tagBytes = 16

// encoding is strict so that one token has one spelling.
var encoding = base64.RawURLEncoding.Strict()

// ErrInvalid is returned by Open for a token that was not sealed with the key
// for the purpose, or was changed since.
var ErrInvalid = errors.New("signed: invalid token")

// Key seals and opens tokens.
type Key struct{ secret []byte }

// NewKey returns a Key for secret, which must be at least MinKeyBytes long.
func NewKey(secret string) (Key, error) {
	if len(secret) < MinKeyBytes {
		return Key{}, errors.New("signed: the signing key must be at least 32 bytes")
	}
	return Key{secret: []byte(secret)}, nil
}

// Seal returns payload and its tag for purpose, base64url-encoded. A token
// sealed for one purpose does not open for another.
func (k Key) Seal(purpose string, payload []byte) string {
	buf := make([]byte, 0, len(payload)+tagBytes)
	buf = append(buf, payload...)
	buf = append(buf, k.tag(purpose, payload)[:tagBytes]...)
	return encoding.EncodeToString(buf)
}

// Open returns the payload of token if it was sealed by k for purpose.
func (k Key) Open(purpose, token string) ([]byte, error) {
	if len(k.secret) == 0 {
		return nil, ErrInvalid
	}
	// encoding/base64 skips \r and \n while decoding; a token has one
	// spelling, so they make it invalid (found by FuzzOpen).
	if strings.ContainsAny(token, "\r\n") {
		return nil, ErrInvalid
	}
	buf, err := encoding.DecodeString(token)
	if err != nil || len(buf) < tagBytes {
		return nil, ErrInvalid
	}
	payload, tag := buf[:len(buf)-tagBytes], buf[len(buf)-tagBytes:]
	if !hmac.Equal(tag, k.tag(purpose, payload)[:tagBytes]) {
		return nil, ErrInvalid
	}
	return payload, nil
}

// Hash returns a keyed digest of s, n bytes long (at most 32): a way to bind a
// value into a token without showing it.
func (k Key) Hash(purpose, s string, n int) []byte {
	return k.tag(purpose+"/hash", []byte(s))[:n]
}

func (k Key) tag(purpose string, payload []byte) []byte {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)
}
