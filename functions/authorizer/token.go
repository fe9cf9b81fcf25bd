package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// leeway is the clock skew allowed on exp, nbf and iat.
const leeway = 60 * time.Second

// maxTokenLen bounds the work one header can ask for; real tokens are 1-2 KiB.
const maxTokenLen = 8 << 10

// algorithms are the only signature algorithms accepted: asymmetric ones, so
// that "none" and every HS* (including the classic HS256 keyed with an RSA
// public key) are rejected before any key is looked at.
var algorithms = []string{"RS256", "ES256"}

// scopes are the API's scopes, in the order the authorizer context lists them.
var scopes = []string{"users.read", "users.write", "users.admin"}

// claims are the claims the authorizer reads: the registered ones, plus
// Cognito's client_id and token_use (also in RFC 9068 access tokens) and the
// OAuth scope claim (RFC 8693, 4.2).
type claims struct {
	jwt.RegisteredClaims
	Scope    string `json:"scope,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	TokenUse string `json:"token_use,omitempty"`
}

// identity is what a valid token says about its bearer.
type identity struct {
	subject  string
	clientID string   // "" when the token has no client_id
	scopes   []string // the API's scopes granted, unprefixed, in scopes order
}

// verifier checks bearer JWTs against the issuer's key set and the
// function's configuration.
type verifier struct {
	keys        *keySet
	parser      *jwt.Parser
	audience    string   // accepted aud, or ""
	clientIDs   []string // accepted client_id of access tokens without aud
	scopePrefix string   // resource server identifier, "" for bare scopes
}

// newVerifier returns the verifier that cfg describes, reading the time from now.
func newVerifier(cfg config, keys *keySet, now func() time.Time) *verifier {
	return &verifier{
		keys: keys,
		parser: jwt.NewParser(
			jwt.WithValidMethods(algorithms),
			jwt.WithIssuer(cfg.issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithStrictDecoding(),
			jwt.WithTimeFunc(now),
		),
		audience:    cfg.audience,
		clientIDs:   cfg.clientIDs,
		scopePrefix: strings.TrimSuffix(cfg.scopePrefix, "/"),
	}
}

// Reasons a token is rejected, beyond the jwt package's.
var (
	errNoKID         = errors.New("token has no kid")
	errCrit          = errors.New("token has critical header parameters")
	errWrongKey      = errors.New("token's alg does not match its key")
	errNoSubject     = errors.New("token has no sub")
	errAudience      = errors.New("token is for another audience")
	errNotAccessType = errors.New("token is not an access token")
)

// verify returns the identity in token. Its error wraps errKeysUnavailable
// when the key set could not be fetched; any other error means the token is
// not acceptable. The error never holds the token.
func (v *verifier) verify(ctx context.Context, token string) (identity, error) {
	var c claims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keyFunc(ctx)); err != nil {
		return identity{}, err
	}
	if err := numericDates(token); err != nil {
		return identity{}, err
	}
	if c.Subject == "" {
		return identity{}, errNoSubject
	}
	// Cognito marks its tokens; an ID token is not a credential for an API.
	if c.TokenUse != "" && c.TokenUse != "access" {
		return identity{}, errNotAccessType
	}
	if !v.audienceOK(&c) {
		return identity{}, errAudience
	}
	return identity{subject: c.Subject, clientID: c.ClientID, scopes: v.scopes(c.Scope)}, nil
}

// keyFunc returns the key that must have signed t: the one its kid names,
// of the type its alg needs.
func (v *verifier) keyFunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		// RFC 7515, 4.1.11: extensions this verifier does not know must fail.
		if _, ok := t.Header["crit"]; ok {
			return nil, errCrit
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errNoKID
		}
		k, err := v.keys.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		if t.Method.Alg() != k.alg {
			return nil, errWrongKey
		}
		return k.key, nil
	}
}

// audienceOK reports whether c is meant for this API: its aud lists the
// configured audience, or, as Cognito access tokens have no aud, it is an
// access token of a configured client.
func (v *verifier) audienceOK(c *claims) bool {
	if v.audience != "" && slices.Contains(c.Audience, v.audience) {
		return true
	}
	return c.TokenUse == "access" && c.ClientID != "" && slices.Contains(v.clientIDs, c.ClientID)
}

// scopes returns the API's scopes in a space-separated scope claim, each
// either bare ("users.read") or, if a prefix is configured, under it
// ("usersapi/users.read", as Cognito writes a resource server's scopes).
// Other scopes, including the API's under another prefix, are ignored.
func (v *verifier) scopes(claim string) []string {
	var granted []string
	// RFC 6749, 3.3: scopes are separated by single spaces (%x20) only; a tab
	// or a no-break space is part of a scope, which then names none of ours.
	fields := strings.Split(claim, " ")
	for _, s := range scopes {
		if slices.Contains(fields, s) || v.scopePrefix != "" && slices.Contains(fields, v.scopePrefix+"/"+s) {
			granted = append(granted, s)
		}
	}
	return granted
}

// errNumericDate: the jwt package reads a NumericDate through json.Number,
// which also takes a JSON string ("exp":"1700000000").
var errNumericDate = errors.New("token's exp, nbf or iat is not a JSON number")

// numericDates checks that the exp, nbf and iat of a token whose signature
// verified are JSON numbers, as RFC 7519 (2, NumericDate) has them.
func numericDates(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errNumericDate
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errNumericDate
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return errNumericDate
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		if v, ok := m[name]; ok && (len(v) == 0 || !(v[0] == '-' || v[0] >= '0' && v[0] <= '9')) {
			return errNumericDate
		}
	}
	return nil
}
