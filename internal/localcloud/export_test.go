package localcloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Forged returns a token that the authorizer must refuse, for the security
// tests: "expired", "not-yet-valid", "wrong-audience", "wrong-issuer" (signed
// properly), "alg-none" (unsigned), "hs256-public-key" (HS256 keyed with the
// issuer's public key), "unknown-kid" (signed by another key).
func (is *Issuer) Forged(kind, sub, scopes string) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{"iss": LocalIssuer, "aud": LocalAudience, "sub": sub, "scope": scopes,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "token_use": "access"}
	key := is.key
	kid := is.kid
	switch kind {
	case "expired":
		claims["exp"], claims["iat"], claims["nbf"] = now.Add(-5*time.Minute).Unix(), now.Add(-time.Hour).Unix(), now.Add(-time.Hour).Unix()
	case "not-yet-valid":
		claims["nbf"] = now.Add(5 * time.Minute).Unix()
	case "wrong-audience":
		claims["aud"] = "another-api"
	case "wrong-issuer":
		claims["iss"] = "https://evil.example.com"
	case "alg-none":
		t := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
		t.Header["kid"] = kid
		return t.SignedString(jwt.UnsafeAllowNoneSignatureType)
	case "hs256-public-key":
		pub, err := x509.MarshalPKIXPublicKey(&is.key.PublicKey)
		if err != nil {
			return "", err
		}
		t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
		t.Header["kid"] = kid
		return t.SignedString(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	case "unknown-kid":
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return "", err
		}
		key, kid = other, "not-in-the-jwks"
	default:
		return "", fmt.Errorf("no forgery %q", kind)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = kid
	return t.SignedString(key)
}
