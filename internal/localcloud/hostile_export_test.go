package localcloud

import "github.com/golang-jwt/jwt/v5"

// Signed returns a token with exactly claims, signed by the issuer's key
// under its kid, for the hostile-input tests' token tricks: claims the
// authorizer must judge on their content, not their signature (a scope split
// by a tab, exp as a string, an ID token).
func (is *Issuer) Signed(claims jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = is.kid
	return t.SignedString(is.key)
}
