package localcloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The local cloud is the token issuer on a laptop, as Cognito is on AWS: the
// authorizer fetches its JWKS from /_local/jwks.json, and `usersapi-local
// token` signs development tokens with the same key.
const (
	LocalIssuer   = "usersapi-local"
	LocalAudience = "usersapi"
)

// Issuer signs development JWTs (ES256) with a key kept in a file.
type Issuer struct {
	key *ecdsa.PrivateKey
	kid string
}

// LoadIssuer reads the issuer's key from path, making one when there is none.
func LoadIssuer(path string) (*Issuer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		b = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM key: delete it to make a new one", path)
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(pub)
	return &Issuer{key: key, kid: "local-" + base64.RawURLEncoding.EncodeToString(sum[:8])}, nil
}

// IssuerKeyPath is where the local cloud keeps its signing key.
func IssuerKeyPath(root string) string {
	return filepath.Join(root, ".tools", "localcloud", "issuer-key.pem")
}

// Token returns a signed access token for sub with the given scopes
// ("users.read users.write"), valid for ttl.
func (is *Issuer) Token(sub, scopes string, ttl time.Duration) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": LocalIssuer, "aud": LocalAudience, "sub": sub, "scope": strings.TrimSpace(scopes),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(), "token_use": "access",
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = is.kid
	return t.SignedString(is.key)
}

// ServeHTTP serves the issuer's JWKS.
func (is *Issuer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	pub, err := is.key.PublicKey.Bytes() // uncompressed: 0x04, then X and Y in 32 bytes each
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	enc := base64.RawURLEncoding.EncodeToString
	jwks := map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": is.kid,
		"x": enc(pub[1:33]), "y": enc(pub[33:65]),
	}}}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=300")
	_ = json.NewEncoder(w).Encode(jwks)
}
