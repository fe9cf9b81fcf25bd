package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/usersapi/usersapi/shared/eventstest"
	"github.com/usersapi/usersapi/shared/metrics"
	"github.com/usersapi/usersapi/shared/metrics/metricstest"
)

const (
	testIssuer   = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test"
	testAudience = "usersapi"
	testClient   = "4b1f0cognitoapp"
	testSub      = "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"
	testMethod   = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/GET/users/" + testSub
	wholeAPI     = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/*/*"
)

// start is the tests' "now".
var start = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// clock is a settable time for the verifier and the key set.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// idp is a token issuer for tests: keys made in the test, a JWK Set served
// on loopback that counts its fetches, and a minter.
type idp struct {
	t       testing.TB
	srv     *httptest.Server
	mu      sync.Mutex
	signers map[string]crypto.Signer // by kid
	public  []string                 // kids the JWK Set publishes, in order
	down    bool                     // the JWK Set answers 503
	fetches atomic.Int32
}

func newIDP(t testing.TB) *idp {
	p := &idp{t: t, signers: map[string]crypto.Signer{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serveJWKS))
	t.Cleanup(p.srv.Close)
	p.addRSA("rsa-1", true)
	p.addEC("ec-1", true)
	return p
}

// addRSA makes an RSA key named kid, published in the set if publish.
func (p *idp) addRSA(kid string, publish bool) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		p.t.Fatal(err)
	}
	p.add(kid, k, publish)
}

// addEC makes a P-256 key named kid, published in the set if publish.
func (p *idp) addEC(kid string, publish bool) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	p.add(kid, k, publish)
}

func (p *idp) add(kid string, k crypto.Signer, publish bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signers[kid] = k
	if publish {
		p.public = append(p.public, kid)
	}
}

// publish sets the kids the JWK Set holds.
func (p *idp) publish(kids ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.public = kids
}

func (p *idp) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

func (p *idp) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	p.fetches.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var keys []map[string]string
	for _, kid := range p.public {
		keys = append(keys, jwk(p.t, kid, p.signers[kid].Public()))
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
}

// jwk returns the JWK (RFC 7518, 6) of a public key, written by hand so the
// test does not trust the parser it tests.
func jwk(t testing.TB, kid string, pub crypto.PublicKey) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		b, err := k.Bytes() // 0x04 || X || Y
		if err != nil {
			t.Fatal(err)
		}
		n := (len(b) - 1) / 2
		crv := map[int]string{32: "P-256", 48: "P-384"}[n]
		return map[string]string{"kty": "EC", "kid": kid, "use": "sig", "crv": crv,
			"x": b64(b[1 : 1+n]), "y": b64(b[1+n:])}
	}
	t.Fatalf("no JWK for %T", pub)
	return nil
}

// validClaims returns the claims of a valid token at now, with edits applied
// (a nil value deletes the claim).
func validClaims(now time.Time, edits jwt.MapClaims) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": testIssuer, "sub": testSub, "aud": testAudience,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"scope": "users.read",
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// mint returns a token signed by kid's key with the algorithm that fits it.
func (p *idp) mint(kid string, c jwt.MapClaims) string {
	p.mu.Lock()
	k := p.signers[kid]
	p.mu.Unlock()
	var m jwt.SigningMethod = jwt.SigningMethodRS256
	if _, ok := k.(*ecdsa.PrivateKey); ok {
		m = jwt.SigningMethodES256
	}
	return p.mintWith(m, kid, k, c)
}

// mintWith signs c with method and key, naming kid ("" for none).
func (p *idp) mintWith(method jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

// newTestHandler returns a handler trusting p, on clk, logging into buf.
func newTestHandler(t testing.TB, p *idp, clk *clock, buf *bytes.Buffer) *handler {
	t.Helper()
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{
			"JWKS_URL": p.srv.URL + "/.well-known/jwks.json", "ISSUER": testIssuer,
			"AUDIENCE": testAudience, "CLIENT_ID": "other, " + testClient, "SCOPE_PREFIX": "usersapi",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	keys := newKeySet(cfg.jwksURL, log)
	keys.now = clk.now
	return &handler{tokens: newVerifier(cfg, keys, clk.now), log: log}
}

func authorizerRequest(headers map[string]string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	return events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type: "REQUEST", MethodArn: testMethod, Resource: "/users/{id}", Path: "/users/" + testSub,
		HTTPMethod: "GET", Headers: headers,
	}
}

func bearerRequest(token string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	return authorizerRequest(map[string]string{"Authorization": "Bearer " + token})
}

// outcome is how API Gateway would answer a request after the authorizer.
type outcome string

const (
	allow        outcome = "Allow"        // the integration runs
	deny         outcome = "Deny"         // 403
	unauthorized outcome = "Unauthorized" // 401
	failed       outcome = "failed"       // 500
)

// judge runs h on req and checks the shape of its answer.
func judge(t *testing.T, h *handler, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (outcome, events.APIGatewayCustomAuthorizerResponse) {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	switch {
	case err != nil && err.Error() == "Unauthorized":
		return unauthorized, resp
	case err != nil:
		return failed, resp
	}
	if len(resp.PolicyDocument.Statement) != 1 {
		t.Fatalf("policy %+v, want one statement", resp.PolicyDocument)
	}
	st := resp.PolicyDocument.Statement[0]
	if resp.PolicyDocument.Version != "2012-10-17" || len(st.Action) != 1 || st.Action[0] != "execute-api:Invoke" ||
		len(st.Resource) != 1 || st.Resource[0] != wholeAPI {
		t.Fatalf("policy %+v, want execute-api:Invoke on %s", resp.PolicyDocument, wholeAPI)
	}
	if resp.PrincipalID == "" || resp.Context["sub"] != resp.PrincipalID {
		t.Fatalf("principal %q, context %v", resp.PrincipalID, resp.Context)
	}
	return outcome(st.Effect), resp
}

func TestHandle(t *testing.T) {
	p := newIDP(t)
	p.addRSA("unpublished", false)
	now := start
	rsaPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(p.signers["rsa-1"].Public())
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}()
	valid := p.mint("rsa-1", validClaims(now, nil))
	tests := []struct {
		name     string
		req      events.APIGatewayCustomAuthorizerRequestTypeRequest
		want     outcome
		scopes   string // context "scopes" when allowed or denied
		clientID string // context "clientId", "" for absent
		why      string // what the log must give as the reason of a 401 or 403
	}{
		{"RS256", bearerRequest(valid), allow, "users.read", "", ""},
		{"ES256", bearerRequest(p.mint("ec-1", validClaims(now, jwt.MapClaims{"scope": "users.read users.write"}))), allow, "users.read users.write", "", ""},
		{"scopes prefixed and bare, ordered", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"scope": "openid usersapi/users.admin users.read"}))), allow, "users.read users.admin", "", ""},
		{"aud list", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"aud": []string{"other", testAudience}}))), allow, "users.read", "", ""},
		{"expired within leeway", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-59 * time.Second).Unix()}))), allow, "users.read", "", ""},
		{"expired beyond leeway", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-61 * time.Second).Unix()}))), unauthorized, "", "", "token is expired"},
		{"no exp", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"exp": nil}))), unauthorized, "", "", "exp claim is required"},
		{"nbf within leeway", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"nbf": now.Add(59 * time.Second).Unix()}))), allow, "users.read", "", ""},
		{"not yet valid", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"nbf": now.Add(2 * time.Minute).Unix()}))), unauthorized, "", "", "not valid yet"},
		{"issued in the future", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"iat": now.Add(2 * time.Minute).Unix()}))), unauthorized, "", "", "used before issued"},
		{"wrong audience", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"aud": "someone-else"}))), unauthorized, "", "", "another audience"},
		{"no audience", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"aud": nil}))), unauthorized, "", "", "another audience"},
		{"wrong issuer", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"iss": testIssuer + "x"}))), unauthorized, "", "", "invalid issuer"},
		{"no issuer", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"iss": nil}))), unauthorized, "", "", "iss claim is required"},
		{"no sub", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"sub": nil}))), unauthorized, "", "", "no sub"},
		{"scope not a string", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"scope": []string{"users.read"}}))), unauthorized, "", "", "could not JSON decode claim"},
		{"no scope", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"scope": nil}))), deny, "", "", "no scope of this API"},
		{"other scopes", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"scope": "openid profile users.delete"}))), deny, "", "", "no scope of this API"},
		{"API scope under another prefix", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"scope": "otherapi/users.read"}))), deny, "", "", "no scope of this API"},
		{"Cognito access token", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"aud": nil, "client_id": testClient, "token_use": "access", "scope": "usersapi/users.read usersapi/users.write"}))), allow, "users.read users.write", testClient, ""},
		{"Cognito access token, no users scope", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"aud": nil, "client_id": testClient, "token_use": "access", "scope": "aws.cognito.signin.user.admin"}))), deny, "", testClient, "no scope of this API"},
		{"Cognito access token, other client", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"aud": nil, "client_id": "stranger", "token_use": "access"}))), unauthorized, "", "", "another audience"},
		{"client_id without token_use", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"aud": nil, "client_id": testClient}))), unauthorized, "", "", "another audience"},
		{"Cognito ID token", bearerRequest(p.mint("rsa-1", validClaims(now, jwt.MapClaims{"client_id": testClient, "token_use": "id"}))), unauthorized, "", "", "not an access token"},
		{"alg none", bearerRequest(p.mintWith(jwt.SigningMethodNone, "rsa-1", jwt.UnsafeAllowNoneSignatureType, validClaims(now, nil))), unauthorized, "", "", "signing method none is invalid"},
		{"alg none, no signature", bearerRequest(strings.TrimSuffix(p.mintWith(jwt.SigningMethodNone, "rsa-1", jwt.UnsafeAllowNoneSignatureType, validClaims(now, nil)), ".") + "."), unauthorized, "", "", "signing method none is invalid"},
		{"HS256 keyed with the RSA public key", bearerRequest(p.mintWith(jwt.SigningMethodHS256, "rsa-1", rsaPEM, validClaims(now, nil))), unauthorized, "", "", "signing method HS256 is invalid"},
		{"HS512 keyed with the RSA modulus", bearerRequest(p.mintWith(jwt.SigningMethodHS512, "rsa-1", p.signers["rsa-1"].Public().(*rsa.PublicKey).N.Bytes(), validClaims(now, nil))), unauthorized, "", "", "signing method HS512 is invalid"},
		{"PS256", bearerRequest(p.mintWith(jwt.SigningMethodPS256, "rsa-1", p.signers["rsa-1"], validClaims(now, nil))), unauthorized, "", "", "signing method PS256 is invalid"},
		{"RS256 naming an EC key", bearerRequest(p.mintWith(jwt.SigningMethodRS256, "ec-1", p.signers["rsa-1"], validClaims(now, nil))), unauthorized, "", "", "alg does not match its key"},
		{"no kid", bearerRequest(p.mintWith(jwt.SigningMethodRS256, "", p.signers["rsa-1"], validClaims(now, nil))), unauthorized, "", "", "no kid"},
		{"unpublished key", bearerRequest(p.mint("unpublished", validClaims(now, nil))), unauthorized, "", "", "no key in the key set has the token's kid"},
		{"signed by another key under a published kid", bearerRequest(p.mintWith(jwt.SigningMethodRS256, "rsa-1", p.signers["unpublished"], validClaims(now, nil))), unauthorized, "", "", "verification error"},
		{"tampered claims", bearerRequest(tamper(t, valid)), unauthorized, "", "", "verification error"},
		{"lowercase scheme and header", authorizerRequest(map[string]string{"authorization": "bearer " + valid}), allow, "users.read", "", ""},
		{"no header", authorizerRequest(nil), unauthorized, "", "", "no Authorization header"},
		{"empty header", authorizerRequest(map[string]string{"Authorization": ""}), unauthorized, "", "", "not a Bearer authorization"},
		{"no scheme", authorizerRequest(map[string]string{"Authorization": valid}), unauthorized, "", "", "not a Bearer authorization"},
		{"Basic", authorizerRequest(map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}), unauthorized, "", "", "not a Bearer authorization"},
		{"Bearer alone", authorizerRequest(map[string]string{"Authorization": "Bearer"}), unauthorized, "", "", "no token"},
		{"Bearer garbage", authorizerRequest(map[string]string{"Authorization": "Bearer not-a-token"}), unauthorized, "", "", "not a JWS"},
		{"Bearer three garbage parts", authorizerRequest(map[string]string{"Authorization": "Bearer a.b.c"}), unauthorized, "", "", "could not base64 decode header"},
		{"two tokens", authorizerRequest(map[string]string{"Authorization": "Bearer " + valid + " " + valid}), unauthorized, "", "", "not a JWS"},
		{"space inside", authorizerRequest(map[string]string{"Authorization": "Bearer " + strings.Replace(valid, ".", " .", 1)}), unauthorized, "", "", "not base64url"},
		{"two headers", authorizerRequest(map[string]string{"Authorization": "Bearer " + valid, "authorization": "Bearer " + valid}), unauthorized, "", "", "more than one Authorization header"},
		{"too long", bearerRequest(valid + strings.Repeat("A", maxTokenLen)), unauthorized, "", "", "token too long"},
	}
	var log, out bytes.Buffer
	h := newTestHandler(t, p, &clock{t: now}, &log)
	h.metrics = metrics.New(&out, "dev")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log.Reset()
			out.Reset()
			got, resp := judge(t, h, tt.req)
			if got != tt.want {
				t.Fatalf("%s, want %s; log: %s", got, tt.want, log.String())
			}
			// Each refusal is counted once, by its reason; an Allow is not counted.
			want := map[string]float64{}
			switch got {
			case unauthorized:
				want["RejectedRequests/unauthorized"] = 1
			case deny:
				want["RejectedRequests/forbidden"] = 1
			}
			if m := metricstest.Totals(t, out.Bytes()); !maps.Equal(m, want) {
				t.Errorf("metrics %v, want %v", m, want)
			}
			if got != allow && !strings.Contains(log.String(), tt.why) {
				t.Errorf("log %s does not give the reason %q", log.String(), tt.why)
			}
			if got == allow || got == deny {
				if resp.PrincipalID != testSub || resp.Context["scopes"] != tt.scopes {
					t.Errorf("principal %q, context %v; want sub %s, scopes %q", resp.PrincipalID, resp.Context, testSub, tt.scopes)
				}
				if id, ok := resp.Context["clientId"]; tt.clientID == "" && ok || tt.clientID != "" && id != tt.clientID {
					t.Errorf("clientId %v, want %q", id, tt.clientID)
				}
				keys := 2 // sub, scopes
				if tt.clientID != "" {
					keys++
				}
				if len(resp.Context) != keys {
					t.Errorf("context %v has unexpected keys", resp.Context)
				}
			}
			// Never log a token, nor any of its parts.
			for _, h := range tt.req.Headers {
				for part := range strings.SplitSeq(strings.TrimPrefix(h, "Bearer "), ".") {
					if len(part) > 8 && strings.Contains(log.String(), part) {
						t.Fatalf("the log holds part of the token: %s", log.String())
					}
				}
			}
		})
	}
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("%d key set fetches, want 1 (kids unknown at once after a fetch wait for minRefresh)", n)
	}
}

// tamper changes the sub of a token and keeps its signature.
func tamper(t *testing.T, token string) string {
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(testSub), []byte(strings.Replace(testSub, "0", "1", 1)), 1)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func TestMultiValueHeaders(t *testing.T) {
	p := newIDP(t)
	var log bytes.Buffer
	h := newTestHandler(t, p, &clock{t: start}, &log)
	token := p.mint("ec-1", validClaims(start, nil))
	req := bearerRequest(token)
	req.MultiValueHeaders = map[string][]string{"Authorization": {"Bearer " + token}}
	if got, _ := judge(t, h, req); got != allow {
		t.Fatalf("one value: %s", got)
	}
	// API Gateway's single-value map keeps the last; both are seen and refused.
	req.MultiValueHeaders = map[string][]string{"Authorization": {"Bearer " + p.mint("rsa-1", validClaims(start, jwt.MapClaims{"scope": nil})), "Bearer " + token}}
	if got, _ := judge(t, h, req); got != unauthorized {
		t.Fatalf("two values: %s", got)
	}
}

// TestKeyRotation follows the key set through unknown kids, rotation,
// withdrawal and outages, counting fetches.
func TestKeyRotation(t *testing.T) {
	p := newIDP(t)
	p.addRSA("rsa-2", false)
	p.addRSA("ghost", false) // never published
	clk := &clock{t: start}
	var log bytes.Buffer
	h := newTestHandler(t, p, clk, &log)
	try := func(kid string) outcome {
		t.Helper()
		got, _ := judge(t, h, bearerRequest(p.mint(kid, validClaims(clk.now(), nil))))
		return got
	}
	step := func(what string, got, want outcome, fetches int32) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: %s, want %s; log: %s", what, got, want, log.String())
		}
		if n := p.fetches.Load(); n != fetches {
			t.Fatalf("%s: %d fetches, want %d", what, n, fetches)
		}
	}

	step("nothing fetched at init", allow, allow, 0)
	step("first token fetches the set", try("rsa-1"), allow, 1)
	step("known kid: from the cache", try("ec-1"), allow, 1)
	step("unknown kid just after a fetch: no refetch", try("ghost"), unauthorized, 1)

	clk.advance(minRefresh)
	step("unknown kid: one refresh, then rejected", try("ghost"), unauthorized, 2)
	for range 20 {
		step("a flood of unknown kids: rate-bounded", try("ghost"), unauthorized, 2)
	}
	step("known kids still served from the cache", try("rsa-1"), allow, 2)

	p.publish("rsa-1", "ec-1", "rsa-2") // the issuer rotates in a new key
	step("new kid inside the window: rejected", try("rsa-2"), unauthorized, 2)
	clk.advance(minRefresh)
	step("rotated key: fetched and accepted", try("rsa-2"), allow, 3)
	step("rotated key: cached", try("rsa-2"), allow, 3)

	p.publish("rsa-2") // the issuer withdraws the old keys
	clk.advance(maxKeyAge)
	step("stale set: fetched again, withdrawn key rejected", try("rsa-1"), unauthorized, 4)
	step("current key still accepted", try("rsa-2"), allow, 4)

	p.setDown(true)
	clk.advance(maxKeyAge)
	step("stale set, issuer down: stale key still accepted", try("rsa-2"), allow, 5)
	step("issuer down, unknown kid: 500, not 401", try("rsa-1"), failed, 5)
	step("issuer down: retried only after minRefresh", try("ghost"), failed, 5)
	p.setDown(false)
	clk.advance(minRefresh)
	step("issuer back: unknown kid rejected", try("ghost"), unauthorized, 6)
}

func TestKeySetUnavailableAtFirstUse(t *testing.T) {
	p := newIDP(t)
	p.setDown(true)
	clk := &clock{t: start}
	var log bytes.Buffer
	h := newTestHandler(t, p, clk, &log)
	for range 3 {
		if got, _ := judge(t, h, bearerRequest(p.mint("rsa-1", validClaims(start, nil)))); got != failed {
			t.Fatalf("%s, want failed", got)
		}
	}
	if n := p.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	p.setDown(false)
	clk.advance(minRefresh)
	if got, _ := judge(t, h, bearerRequest(p.mint("rsa-1", validClaims(clk.now(), nil)))); got != allow {
		t.Fatalf("after recovery: %s", got)
	}
}

// TestConcurrentFirstUse shows that callers arriving together share one fetch.
func TestConcurrentFirstUse(t *testing.T) {
	p := newIDP(t)
	var log bytes.Buffer
	h := newTestHandler(t, p, &clock{t: start}, &log)
	token := p.mint("rsa-1", validClaims(start, nil))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if _, err := h.Handle(context.Background(), bearerRequest(token)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := p.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
}

func TestRedirectToPlainHTTP(t *testing.T) {
	// A key set that redirects off the machine over plain HTTP is not followed.
	srv := httptest.NewServer(http.RedirectHandler("http://example.com/jwks.json", http.StatusFound))
	defer srv.Close()
	s := newKeySet(srv.URL, slog.New(slog.DiscardHandler))
	_, err := s.key(context.Background(), "any")
	if !errors.Is(err, errKeysUnavailable) || !strings.Contains(err.Error(), "must be https") {
		t.Fatalf("err %v, want the redirect refused", err)
	}
}

func TestParseKeySet(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := newIDP(t)
	good := jwk(t, "rsa-1", p.signers["rsa-1"].Public())
	with := func(m map[string]string, edits ...string) map[string]string {
		c := map[string]string{}
		for k, v := range m {
			c[k] = v
		}
		for i := 0; i+1 < len(edits); i += 2 {
			c[edits[i]] = edits[i+1]
		}
		return c
	}
	set := []map[string]string{
		good,
		jwk(t, "ec-1", p.signers["ec-1"].Public()),
		with(good, "kid", "dup", "n", jwk(t, "", small.Public())["n"]), // too short
		jwk(t, "p384", p384.Public()),
		{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
		with(good, "kid", "enc", "use", "enc"),
		with(good, "kid", ""),
		with(good, "kid", "ps", "alg", "PS256"),
		with(good, "kid", "rsa-1"), // a second rsa-1: the first stays
		with(good, "kid", "bad-n", "n", "!!"),
		{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
	}
	b, err := json.Marshal(map[string]any{"keys": set})
	if err != nil {
		t.Fatal(err)
	}
	keys, skipped, err := parseKeySet(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys["rsa-1"].alg != "RS256" || keys["ec-1"].alg != "ES256" || skipped != len(set)-2 {
		t.Fatalf("keys %v, skipped %d", keys, skipped)
	}
	for _, bad := range []string{``, `{`, `[]`, `{"keys":[]}`, `{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0"}]}`} {
		if _, _, err := parseKeySet([]byte(bad)); err == nil {
			t.Errorf("parseKeySet(%s) succeeded", bad)
		}
	}
}

// TestAWSSampleEvents runs AWS's own authorizer samples, which carry no JWT:
// both must be refused with 401 without a crash or a fetch.
func TestAWSSampleEvents(t *testing.T) {
	for _, name := range []string{"apigw-custom-auth-request.json", "apigw-custom-auth-request-type-request.json"} {
		t.Run(name, func(t *testing.T) {
			p := newIDP(t)
			var log bytes.Buffer
			h := newTestHandler(t, p, &clock{t: start}, &log)
			var req events.APIGatewayCustomAuthorizerRequestTypeRequest
			eventstest.AWS(t, name, &req)
			if got, _ := judge(t, h, req); got != unauthorized {
				t.Fatalf("%s, want Unauthorized", got)
			}
			if n := p.fetches.Load(); n != 0 {
				t.Errorf("%d fetches for a request without a token", n)
			}
		})
	}
}

// TestEvents runs the project's sample: as is (its token is signed by no key
// the test knows) and with a token minted here.
func TestEvents(t *testing.T) {
	p := newIDP(t)
	var log bytes.Buffer
	h := newTestHandler(t, p, &clock{t: start}, &log)
	var req events.APIGatewayCustomAuthorizerRequestTypeRequest
	eventstest.Project(t, "authorizer-request.json", &req)
	if req.Type != "REQUEST" || req.RequestContext.APIID != "a1b2c3d4e5" || !strings.HasPrefix(req.Headers["Authorization"], "Bearer ") {
		t.Fatalf("sample is not a REQUEST authorizer event for this API: %+v", req)
	}
	if got, _ := judge(t, h, req); got != unauthorized {
		t.Fatalf("sample as is: %s, want Unauthorized", got)
	}
	token := "Bearer " + p.mint("rsa-1", validClaims(start, nil))
	req.Headers["Authorization"] = token
	req.MultiValueHeaders["Authorization"] = []string{token}
	if got, _ := judge(t, h, req); got != allow {
		t.Fatalf("sample with a valid token: %s, want Allow", got)
	}
}

func TestAPIResource(t *testing.T) {
	tests := []struct{ arn, want string }{
		{testMethod, wholeAPI},
		{"arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/", "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/*/*"},
		{"arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/request", "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/*/*"},
		{"arn:aws-cn:execute-api:cn-north-1:123456789012:abc/prod/POST/users", "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/prod/*/*"},
		{"", ""},
		{"arn:aws:lambda:us-east-1:123456789012:function:f", ""},
		{"arn:aws:execute-api:us-east-1:123456789012:abc", ""},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/dev", ""},
		{"arn:aws:execute-api:us-east-1::abc/dev/GET/", ""},
	}
	for _, tt := range tests {
		got, err := apiResource(tt.arn)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("apiResource(%q) = %q, %v; want %q", tt.arn, got, err, tt.want)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	base := map[string]string{"JWKS_URL": "https://issuer.example/.well-known/jwks.json", "ISSUER": "https://issuer.example", "AUDIENCE": "usersapi"}
	tests := []struct {
		name  string
		edits map[string]string
		ok    bool
	}{
		{"audience", nil, true},
		{"client ids only", map[string]string{"AUDIENCE": "", "CLIENT_ID": " a, b ,"}, true},
		{"neither audience nor client id", map[string]string{"AUDIENCE": "", "CLIENT_ID": " , "}, false},
		{"no issuer", map[string]string{"ISSUER": ""}, false},
		{"no JWKS URL", map[string]string{"JWKS_URL": ""}, false},
		{"http on 127.0.0.1", map[string]string{"JWKS_URL": "http://127.0.0.1:9001/jwks.json"}, true},
		{"http on ::1", map[string]string{"JWKS_URL": "http://[::1]:9001/jwks.json"}, true},
		{"http on localhost", map[string]string{"JWKS_URL": "http://localhost:9001/jwks.json"}, true},
		{"http elsewhere", map[string]string{"JWKS_URL": "http://issuer.example/jwks.json"}, false},
		{"http on a name resembling loopback", map[string]string{"JWKS_URL": "http://127.0.0.1.example/jwks.json"}, false},
		{"no scheme", map[string]string{"JWKS_URL": "issuer.example/jwks.json"}, false},
		{"file", map[string]string{"JWKS_URL": "file:///etc/jwks.json"}, false},
		{"unparsable", map[string]string{"JWKS_URL": "https://[::1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string {
				if v, ok := tt.edits[k]; ok {
					return v
				}
				return base[k]
			})
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok %v", err, tt.ok)
			}
			if tt.name == "client ids only" && (len(cfg.clientIDs) != 2 || cfg.clientIDs[0] != "a" || cfg.clientIDs[1] != "b") {
				t.Errorf("client ids %q", cfg.clientIDs)
			}
		})
	}
}

// FuzzParse feeds arbitrary Authorization headers to the authorizer: it must
// never panic, never fail for want of keys (the issuer is up), and allow only
// a token the issuer really signed.
func FuzzParse(f *testing.F) {
	p := newIDP(f)
	var log bytes.Buffer
	h := newTestHandler(f, p, &clock{t: start}, &log)
	valid := map[string]bool{}
	for _, kid := range []string{"rsa-1", "ec-1"} {
		tok := p.mint(kid, validClaims(start, nil))
		valid[tok] = true
		f.Add("Bearer " + tok)
	}
	f.Add("bearer  " + p.mint("rsa-1", validClaims(start, jwt.MapClaims{"scope": nil})))
	f.Add("Bearer " + p.mintWith(jwt.SigningMethodNone, "rsa-1", jwt.UnsafeAllowNoneSignatureType, validClaims(start, nil)))
	f.Add("Bearer " + p.mintWith(jwt.SigningMethodHS256, "rsa-1", []byte("secret"), validClaims(start, nil)))
	f.Add("Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIn0.e30.")
	f.Add("Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIiwiY3JpdCI6WyJ4Il19.e30.AA")
	f.Add("Bearer a.b.c")
	f.Add("Bearer ...")
	f.Add("Bearer")
	f.Add("Basic dXNlcjpwYXNz")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		log.Reset()
		resp, err := h.Handle(context.Background(), authorizerRequest(map[string]string{"Authorization": header}))
		if err != nil {
			if err != errUnauthorized {
				t.Fatalf("error %v, want Unauthorized", err)
			}
			return
		}
		token, _ := parseBearer(header)
		if resp.PolicyDocument.Statement[0].Effect == "Allow" && !valid[token] {
			t.Fatalf("allowed a token the issuer did not sign: %q", header)
		}
	})
}
