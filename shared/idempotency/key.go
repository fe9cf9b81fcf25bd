package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/usersapi/usersapi/shared/users"
)

// ParseKey parses an Idempotency-Key header: a structured-field string
// ("abc", as the IETF httpapi draft has it) or the bare token (abc), which
// are the same key. An empty header is no key: "" and no error.
func ParseKey(h string) (string, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", nil
	}
	if len(h) >= 2 && h[0] == '"' && h[len(h)-1] == '"' {
		h = h[1 : len(h)-1]
	}
	ok := len(h) > 0 && len(h) <= 255
	for _, r := range h {
		ok = ok && r > ' ' && r < 0x7f && r != '"' && r != '\\'
	}
	if !ok {
		return "", &users.Error{Kind: users.Invalid, Detail: "the Idempotency-Key is not valid",
			Fields: []users.FieldError{{Field: "Idempotency-Key", Reason: "must be 1 to 255 printable ASCII characters, optionally in double quotes"}}}
	}
	return h, nil
}

// Scope returns the key under which a parsed key is kept: a digest of the
// key and of its owner (for the API, the caller's API key and subject), so
// that keys of different callers never meet and a replay tells a caller only
// what it was told.
func Scope(key string, owner ...string) string {
	return digest(append(slices.Clip(owner), key)...)
}

// Fingerprint returns a digest of the parts of a request that a retry must
// repeat for the key to be the same request's (for the API: method, path,
// If-Match, Content-Type and body).
func Fingerprint(parts ...string) string {
	return digest(parts...)
}

// digest hashes its parts, each one apart, into a hex string.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
