package localcloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestJWKS verifies a token with the key that the issuer's JWKS publishes,
// as the authorizer does.
func TestJWKS(t *testing.T) {
	is, err := LoadIssuer(filepath.Join(t.TempDir(), "k.pem"))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	is.ServeHTTP(rec, httptest.NewRequest("GET", "/_local/jwks.json", nil))
	var jwks struct {
		Keys []struct{ Kty, Crv, Kid, X, Y string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	k := jwks.Keys[0]
	coord := func(s string) *big.Int {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != 32 {
			t.Fatalf("coordinate %q: %v", s, err)
		}
		return new(big.Int).SetBytes(b)
	}
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: coord(k.X), Y: coord(k.Y)} //nolint:staticcheck // as a JWKS client builds it
	tok, err := is.Token("alice", "users.read", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.Parse(tok, func(t *jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"ES256"}))
	if err != nil || !parsed.Valid || parsed.Header["kid"] != k.Kid || k.Kty != "EC" || k.Crv != "P-256" {
		t.Errorf("a token the JWKS does not verify: %v", err)
	}
}
