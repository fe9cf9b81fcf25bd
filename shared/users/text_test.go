package users_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/shared/users"
)

// TestNameCharacters: a name or an email holding a character SQS cannot
// carry (U+FFFE, U+FFFF), another noncharacter of the BMP or a control
// character is refused, naming the field, as is a name of invisible
// characters only (issue 14, findings 1 and 11).
func TestNameCharacters(t *testing.T) {
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"U+FFFF", "x\uffffx", false},
		{"U+FFFE", "x\ufffex", false},
		{"U+FDD0", "x\ufdd0x", false},
		{"NUL", "Ada\x00", false},
		{"tab", "Ada\tKing", false},
		{"newline", "Ada\nKing", false},
		{"DEL", "Ada\x7f", false},
		{"C1 NEL", "Ada\u0085", false},
		{"zero-width space only", "\u200b", false},
		{"BOM only", "\ufeff", false},
		{"zero-width joiners and spaces", "\u200d \u200c\u2060", false},
		{"Hangul filler only", "\u3164", false},
		{"variation selector only", "\ufe0f", false},
		{"zero-width space inside a name", "Ada\u200bKing", true},
		{"emoji with a joiner", "👩\u200d💻", true},
		{"right-to-left mark in a Hebrew name", "\u200fשלום", true},
		{"U+FFFD as sent", "x\ufffdx", true},
		{"supplementary plane", "𝒜da", true},
		{"private use", "\ue000", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := users.Input{Name: tt.value, Email: "ada@example.com"}.Validate()
			if got := refused(t, err); (len(got) == 0) != tt.ok || !tt.ok && strings.Join(got, ",") != "name" {
				t.Errorf("Validate(name %q) refused %v (%v), want ok %v", tt.value, got, err, tt.ok)
			}
			p := users.Patch{Name: &tt.value}
			if got := refused(t, p.Validate()); (len(got) == 0) != tt.ok {
				t.Errorf("Patch.Validate(name %q) refused %v, want ok %v", tt.value, got, tt.ok)
			}
		})
	}
	for _, email := range []string{"a\uffffb@example.com", "ab@exa\ufffemple.com", "\"a\tb\"@example.com", "a\u0085b@example.com"} {
		if got := refused(t, users.Input{Name: "Ada", Email: email}.Validate()); strings.Join(got, ",") != "email" {
			t.Errorf("email %q refused %v, want [email]", email, got)
		}
	}
}

// TestNamePatternAgrees: the document's pattern of a name refuses what
// NameReason refuses, but for the names of invisible characters only, which
// only Go can tell (a regular expression portable to ECMA-262, Java and
// Python has no Unicode categories).
func TestNamePatternAgrees(t *testing.T) {
	goRE := func(p string) *regexp.Regexp {
		return regexp.MustCompile(regexp.MustCompile(`\\u([0-9A-F]{4})`).ReplaceAllString(p, `\x{$1}`))
	}
	name, text := goRE(users.NamePattern), goRE(users.TextPattern)
	for _, s := range []string{"Ada", " Ada ", "x\uffffx", "x\ufffex", "\ufdd0", "\ufdef", "\ufdcf", "\ufdf0", "Ada\x00", "\t", "a\tb", "\x1f", " ", "\x7f", "\u0085",
		"\u009f", "\u00a0", "😀", "\ud7ff", "\ue000", "\ufffd", "日本", "\u200b", "a\u200b"} {
		goOK := users.NameReason(s) == ""
		if reOK := name.MatchString(s); reOK != goOK && !(reOK && !goOK && strings.Contains(users.NameReason(s), "visible")) {
			t.Errorf("name %q: pattern matches %v, Go accepts %v (%s)", s, reOK, goOK, users.NameReason(s))
		}
		if reOK, goOK := text.MatchString(s), users.TextReason(s) == ""; reOK != goOK {
			t.Errorf("text %q: pattern matches %v, Go accepts %v", s, reOK, goOK)
		}
	}
}

// TestEmailKeyIDN: an internationalized domain written in Unicode and as its
// A-label is one email, in any case (issue 14, finding 11).
func TestEmailKeyIDN(t *testing.T) {
	tests := []struct{ a, b string }{
		{"ada@bücher.de", "ada@xn--bcher-kva.de"},
		{"Ada@BÜCHER.de", "ada@XN--BCHER-KVA.DE"},
		{"ada@mañana.com", "ada@xn--maana-pta.com"},
		{"ada@例え.テスト", "ada@xn--r8jz45g.xn--zckzah"},
		{"ada@bücher.example.de", "ada@xn--bcher-kva.example.de"},
		{"ada@пример.рф", "ada@xn--e1afmkfd.xn--p1ai"},
	}
	for _, tt := range tests {
		if ka, kb := users.EmailKey(tt.a), users.EmailKey(tt.b); ka != kb {
			t.Errorf("EmailKey(%q) = %q, EmailKey(%q) = %q: want one key", tt.a, ka, tt.b, kb)
		}
	}
	if users.EmailKey("ada@bucher.de") == users.EmailKey("ada@bücher.de") {
		t.Error("bucher.de and bücher.de share a key")
	}
	if got := users.EmailKey("Ada@Example.COM"); got != "ada@example.com" {
		t.Errorf("EmailKey of an ASCII email = %q", got)
	}
}

// TestDecodeLoneSurrogate: a \u escape of a lone surrogate is refused, not
// decoded as U+FFFD; pairs and escaped backslashes are not (finding 7).
func TestDecodeLoneSurrogate(t *testing.T) {
	tests := []struct {
		body string
		ok   bool
	}{
		{`{"name":"\ud800","email":"ada@example.com"}`, false},
		{`{"name":"a\udc00b","email":"ada@example.com"}`, false},
		{`{"name":"\ud800\u0041","email":"ada@example.com"}`, false},
		{`{"name":"\uD83D","email":"ada@example.com"}`, false},
		{`{"name":"\ud83d\ude00","email":"ada@example.com"}`, true},
		{`{"name":"\\ud800","email":"ada@example.com"}`, true},
		{`{"name":"\u00e9","email":"ada@example.com"}`, true},
		{"{\"name\":\"Alice\xc3\x28\",\"email\":\"ada@example.com\"}", false},
	}
	for _, tt := range tests {
		_, err := users.DecodeInput([]byte(tt.body))
		if (err == nil) != tt.ok || err != nil && !users.IsKind(err, users.Invalid) {
			t.Errorf("DecodeInput(%s) = %v, want ok %v", tt.body, err, tt.ok)
		}
		_, err = users.DecodePatch([]byte(tt.body))
		if (err == nil) != tt.ok {
			t.Errorf("DecodePatch(%s) = %v, want ok %v", tt.body, err, tt.ok)
		}
	}
}
