package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/usersapi/usersapi/shared/trace"
)

// Defaults of a keySet.
const (
	// minRefresh bounds how often tokens naming an unknown kid can make the
	// authorizer fetch the key set: once per this period at most.
	minRefresh = 30 * time.Second
	// maxKeyAge is how long a fetched set is trusted before the next token
	// fetches it again, so that a key the issuer withdrew stops working.
	maxKeyAge = time.Hour
	// fetchTimeout bounds one fetch, well inside the function's timeout.
	fetchTimeout = 5 * time.Second
	// maxSetSize is the largest key set read; real ones are a few KiB.
	maxSetSize = 1 << 20
	// minRSABits is the smallest RSA modulus accepted (RFC 7518, 3.3).
	minRSABits = 2048
)

// Errors of keySet.key.
var (
	// errUnknownKey means that the set, fetched again if the rate allowed
	// it, has no usable key with the token's kid: the token is rejected.
	errUnknownKey = errors.New("no key in the key set has the token's kid")
	// errKeysUnavailable means that the set could not be fetched: nothing
	// is known about the token, so it is neither accepted nor blamed.
	errKeysUnavailable = errors.New("the key set cannot be fetched")
)

// publicKey is a verification key from the set.
type publicKey struct {
	alg string           // the one algorithm it verifies: "RS256" or "ES256"
	key crypto.PublicKey // *rsa.PublicKey, or *ecdsa.PublicKey on P-256
}

// keySet is the JSON Web Key Set (RFC 7517) at one URL, holding the public
// keys that tokens name by kid.
//
// Nothing is fetched until a token needs a key. The set is fetched again when
// a token names a kid the set does not hold (the issuer rotated its keys) or
// when the set is older than maxAge, but never twice within minRefresh: a
// flood of tokens with made-up kids costs one fetch per minRefresh at most. A
// failed fetch keeps the set already held (stale keys beat no keys).
//
// Lambda sends an execution environment one event at a time; the mutex makes
// concurrent callers (tests, a future runtime) wait for one shared fetch.
type keySet struct {
	url        string
	client     *http.Client
	minRefresh time.Duration
	maxAge     time.Duration
	now        func() time.Time
	log        *slog.Logger

	mu      sync.Mutex
	keys    map[string]publicKey // by kid; nil until a fetch succeeds
	fetched time.Time            // when keys were fetched
	tried   time.Time            // when a fetch was last attempted
	failure error                // why the last attempt failed, or nil
}

// newKeySet returns the key set at u, with the defaults above.
func newKeySet(u string, log *slog.Logger) *keySet {
	return &keySet{
		url:        u,
		client:     newHTTPClient(),
		minRefresh: minRefresh,
		maxAge:     maxKeyAge,
		now:        time.Now,
		log:        log,
	}
}

// newHTTPClient returns the client that fetches key sets: bounded in time,
// and following only redirects that checkURL allows (no downgrade to plain
// HTTP off the machine).
func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout: fetchTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			return checkURL(req.URL)
		},
	}
}

// checkURL reports whether u may serve the key set: over HTTPS, or over plain
// HTTP only to a loopback host (the local cloud serves one on 127.0.0.1).
func checkURL(u *url.URL) error {
	switch {
	case u.Host == "":
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("key set URL %q must be https, or http to a loopback host", u.Redacted())
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// key returns the key named kid, fetching the set if it must and may.
func (s *keySet) key(ctx context.Context, kid string) (publicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k, ok := s.keys[kid]
	if ok && now.Sub(s.fetched) < s.maxAge {
		return k, nil
	}
	if s.tried.IsZero() || now.Sub(s.tried) >= s.minRefresh {
		s.tried = now
		s.failure = s.fetch(ctx)
		k, ok = s.keys[kid]
	}
	switch {
	case ok:
		return k, nil
	case s.failure != nil:
		return publicKey{}, fmt.Errorf("%w: %w", errKeysUnavailable, s.failure)
	default:
		return publicKey{}, errUnknownKey
	}
}

// fetch replaces the set with the one at s.url, or keeps it and says why.
func (s *keySet) fetch(ctx context.Context) error {
	return trace.Capture(ctx, "fetch-jwks", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/jwk-set+json, application/json")
		resp, err := s.client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("get key set: %s", resp.Status)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxSetSize+1))
		if err != nil {
			return fmt.Errorf("read key set: %w", err)
		}
		if len(body) > maxSetSize {
			return fmt.Errorf("key set larger than %d bytes", maxSetSize)
		}
		keys, skipped, err := parseKeySet(body)
		if err != nil {
			return err
		}
		s.keys, s.fetched = keys, s.now()
		s.log.InfoContext(ctx, "key set fetched", "keys", len(keys), "skipped", skipped)
		return nil
	})
}

// parseKeySet returns the usable keys of a JWK Set by kid, and how many of
// its keys it skipped: not for signatures, without a kid (tokens name keys
// by kid), of an algorithm this API does not accept, or invalid. A set with
// no usable key at all is an error.
func parseKeySet(b []byte) (map[string]publicKey, int, error) {
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, 0, fmt.Errorf("decode key set: %w", err)
	}
	keys := make(map[string]publicKey, len(set.Keys))
	skipped := 0
	for _, m := range set.Keys {
		k, err := usable(m)
		if _, dup := keys[m.KID]; err != nil || dup {
			skipped++
			continue
		}
		keys[m.KID] = k
	}
	if len(keys) == 0 {
		return nil, skipped, fmt.Errorf("key set has no usable RS256 or ES256 key (%d skipped)", skipped)
	}
	return keys, skipped, nil
}

// usable returns m as a verification key, or why it is not one.
func usable(m jwkset.JWKMarshal) (publicKey, error) {
	var alg string
	switch {
	case m.KID == "":
		return publicKey{}, errors.New("no kid")
	case m.USE != "" && m.USE != jwkset.UseSig:
		return publicKey{}, errors.New("not a signature key")
	case len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify):
		return publicKey{}, errors.New("not a verification key")
	case m.KTY == jwkset.KtyRSA:
		alg = "RS256"
	case m.KTY == jwkset.KtyEC && m.CRV == jwkset.CrvP256:
		alg = "ES256"
	default:
		return publicKey{}, errors.New("unsupported key type")
	}
	if m.ALG != "" && string(m.ALG) != alg {
		return publicKey{}, errors.New("unsupported algorithm")
	}
	// The public half only: private members, if a careless issuer published
	// any, are ignored. Symmetric (oct) keys never reach this point.
	jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return publicKey{}, err
	}
	switch key := jwk.Key().(type) {
	case *rsa.PublicKey:
		if key.N.BitLen() < minRSABits {
			return publicKey{}, errors.New("RSA key too short")
		}
		return publicKey{alg: alg, key: key}, nil
	case *ecdsa.PublicKey:
		if key.Curve != elliptic.P256() {
			return publicKey{}, errors.New("EC key not on P-256")
		}
		return publicKey{alg: alg, key: key}, nil
	}
	return publicKey{}, errors.New("unsupported key")
}
