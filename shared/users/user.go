package users

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// The rules of a user's fields. api/openapi.yaml states the same rules for API
// Gateway's validator; a test keeps the two in step.
const (
	NameMaxLength  = 100 // code points, as JSON Schema's maxLength counts them
	EmailMaxLength = 254
	AgeMin         = 18
	AgeMax         = 120
	PhonePattern   = `^[0-9]{10}$`
	// ETagPattern is the pattern of an If-Match header: one strong entity tag
	// holding a version, with no leading zero and at most 18 digits.
	ETagPattern = `^"[1-9][0-9]{0,17}"$`
	// NamePattern is the name's rule as a regular expression over code
	// points: no character that NameReason calls forbidden, and one that is
	// not white space. NameReason is stricter in one way it cannot state: a
	// name of only invisible characters (zero-width spaces, a BOM) is refused.
	// The \uXXXX escapes read the same in ECMA-262, Java and Python, and
	// kin-openapi makes them Go's \x{XXXX}.
	NamePattern = `^` + nameChars + `*[^\s` + forbiddenChars + `]` + nameChars + `*$`
	// TextPattern is the rule on the characters of an email: none that
	// TextReason forbids.
	TextPattern = `^` + nameChars + `*$`
)

// forbiddenChars are the code points no name or email may hold, as the body
// of a regular expression's class: the control characters (C0, DEL and C1)
// and the noncharacters of the Basic Multilingual Plane, U+FFFE and U+FFFF
// among them (SQS refuses those two in a message).
const forbiddenChars = `\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF`

const nameChars = `[^` + forbiddenChars + `]`

// Fields names every field a client may send, in the order they are documented.
var Fields = []string{"name", "email", "phone", "age"}

// phoneRE is compiled on first use, not at init: most invocations of most
// functions never validate a phone.
var phoneRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(PhonePattern) })

// ID identifies a user: a lowercase UUIDv7, made by the server, k-sortable by
// creation time and never reused.
type ID string

// IDPattern is the pattern every ID matches.
const IDPattern = `^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`

// ParseID returns s as an ID, or an Invalid error when s is not a lowercase UUIDv7.
func ParseID(s string) (ID, error) {
	if !validID(s) {
		return "", &Error{Kind: Invalid, Detail: "the user id is not valid",
			Fields: []FieldError{{Field: "id", Reason: "must be a lowercase UUIDv7"}}}
	}
	return ID(s), nil
}

// User is a user as clients see it. Absent optional fields are zero: an empty
// Phone and a zero Age are never valid values, so zero means "not set".
type User struct {
	ID        ID        `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Phone     string    `json:"phone,omitempty"`
	Age       int       `json:"age,omitempty"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Owner     string    `json:"-"` // subject of the token that created the user; never shown
}

// Input is the body of a create or a full replacement.
type Input struct {
	Name  string
	Email string
	Phone string // "" when absent
	Age   int    // 0 when absent
}

// Validate returns an Invalid *Error naming every field that breaks a rule, or nil.
func (in Input) Validate() error {
	var fs []FieldError
	fs = appendReason(fs, "name", NameReason(in.Name))
	fs = appendReason(fs, "email", EmailReason(in.Email))
	if in.Phone != "" {
		fs = appendReason(fs, "phone", PhoneReason(in.Phone))
	}
	if in.Age != 0 {
		fs = appendReason(fs, "age", AgeReason(in.Age))
	}
	return invalid(fs)
}

// Patch is a JSON merge patch (RFC 7396) of a user, decoded: a nil field is
// left as it is; a Phone of "" or an Age of 0 removes that optional field.
type Patch struct {
	Name  *string
	Email *string
	Phone *string
	Age   *int
}

// Validate returns an Invalid *Error naming every field that breaks a rule, or nil.
func (p Patch) Validate() error {
	var fs []FieldError
	if p.Name != nil {
		fs = appendReason(fs, "name", NameReason(*p.Name))
	}
	if p.Email != nil {
		fs = appendReason(fs, "email", EmailReason(*p.Email))
	}
	if p.Phone != nil && *p.Phone != "" {
		fs = appendReason(fs, "phone", PhoneReason(*p.Phone))
	}
	if p.Age != nil && *p.Age != 0 {
		fs = appendReason(fs, "age", AgeReason(*p.Age))
	}
	return invalid(fs)
}

// NameReason says why name is not a valid name, or returns "".
func NameReason(name string) string {
	if reason := TextReason(name); reason != "" {
		return reason
	}
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return "must not be empty"
	case n > NameMaxLength:
		return fmt.Sprintf("must be at most %d characters", NameMaxLength)
	case strings.IndexFunc(name, func(r rune) bool { return !invisible(r) }) < 0:
		return "must contain a visible character, not only white space or invisible ones"
	}
	return ""
}

// TextReason says why s may not be a name or an email, whatever its form, or
// returns "": it must be UTF-8 without control characters (U+0000-U+001F,
// U+007F-U+009F: a tab or a newline included) and without the noncharacters
// of the Basic Multilingual Plane (U+FDD0-U+FDEF, U+FFFE, U+FFFF), which no
// text of a user holds and which SQS would refuse to carry.
func TextReason(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if strings.IndexFunc(s, forbidden) >= 0 {
		return "must not contain control characters or the noncharacters U+FDD0-U+FDEF, U+FFFE and U+FFFF"
	}
	return ""
}

// forbidden reports whether r is one of forbiddenChars.
func forbidden(r rune) bool {
	return r <= 0x1f || r >= 0x7f && r <= 0x9f || r >= 0xfdd0 && r <= 0xfdef || r == 0xfffe || r == 0xffff
}

// invisible reports whether r shows nothing on its own: white space, a
// format character (zero-width space and joiners, the BOM, direction marks,
// the soft hyphen), a variation selector, or another default-ignorable code
// point (the Hangul fillers, U+180B-U+180F, U+E0000-U+E0FFF, ...).
func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// EmailReason says why email is not a plain valid address, or returns "".
// net/mail does the RFC 5322 parsing; on top of it an address must be bare
// (no display name or angle brackets) and its domain must hold a dot.
func EmailReason(email string) string {
	if email == "" {
		return "must not be empty"
	}
	if reason := TextReason(email); reason != "" {
		return reason
	}
	if len(email) > EmailMaxLength {
		return fmt.Sprintf("must be at most %d characters", EmailMaxLength)
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return "must be a plain email address such as ada@example.com"
	}
	at := strings.LastIndexByte(email, '@')
	local, domain := email[:at], email[at+1:]
	if len(local) > 64 {
		return "the part before @ must be at most 64 characters"
	}
	if !validDomain(domain) {
		return "must have a domain such as example.com after @"
	}
	return ""
}

func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > unicode.MaxASCII) {
				return false
			}
		}
	}
	return true
}

// PhoneReason says why phone is not ten digits, or returns "".
func PhoneReason(phone string) string {
	if !phoneRE().MatchString(phone) {
		return "must be exactly 10 digits"
	}
	return ""
}

// AgeReason says why age is out of range, or returns "".
func AgeReason(age int) string {
	if age < AgeMin || age > AgeMax {
		return fmt.Sprintf("must be an integer from %d to %d", AgeMin, AgeMax)
	}
	return ""
}

// EmailKey is the form of an email that uniqueness is decided on: two emails
// that differ only in case, or whose domains are one internationalized
// domain written in Unicode and in its ASCII form (bücher.de and
// xn--bcher-kva.de), belong to one user. The domain's labels are lowercased
// and each non-ASCII one written as IDNA's A-label ("xn--" and Punycode).
// The email itself is stored as it was sent.
func EmailKey(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return strings.ToLower(email)
	}
	labels := strings.Split(strings.ToLower(email[at+1:]), ".")
	for i, l := range labels {
		if a, ok := aLabel(l); ok {
			labels[i] = a
		}
	}
	return strings.ToLower(email[:at]) + "@" + strings.Join(labels, ".")
}

func appendReason(fs []FieldError, field, reason string) []FieldError {
	if reason == "" {
		return fs
	}
	return append(fs, FieldError{Field: field, Reason: reason})
}

func invalid(fs []FieldError) error {
	if len(fs) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Detail: "the request body is not valid", Fields: fs}
}
