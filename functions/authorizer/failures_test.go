package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/usersapi/usersapi/shared/metrics/metricstest"
)

// TestFailuresCounted: what the authorizer cannot judge (the key set out of
// reach, a panic, its time running out) is counted in AuthorizerFailures,
// with and without the version that ran, for the alarms; a refusal never is
// (TestHandle checks that), though Lambda counts it in Errors (issue 14,
// finding 2). API Gateway still answers 500 for a failure and 401 for a
// refusal.
func TestFailuresCounted(t *testing.T) {
	want := map[string]float64{"AuthorizerFailures": 1, "AuthorizerFailures/7": 1}
	// fails runs h on token and checks that the authorizer failed (not
	// refused), counted the failure, and logged reason.
	fails := func(t *testing.T, h *handler, ctx context.Context, token string, log *bytes.Buffer, reason string) {
		t.Helper()
		rec, out := metricstest.Recorder()
		h.metrics, h.version = rec, "7"
		_, err := h.Handle(ctx, bearerRequest(token))
		got := allow
		switch {
		case err != nil && err.Error() == "Unauthorized":
			got = unauthorized
		case err != nil:
			got = failed
		}
		if m := metricstest.Totals(t, out.Bytes()); !maps.Equal(m, want) {
			t.Errorf("metrics %v, want %v", m, want)
		}
		if got != failed {
			t.Fatalf("%s, want failed", got)
		}
		if !strings.Contains(log.String(), `"reason":"`+reason+`"`) {
			t.Errorf("log %s does not say %s", log.String(), reason)
		}
	}
	t.Run("key set down", func(t *testing.T) {
		p := newIDP(t)
		p.setDown(true)
		var log bytes.Buffer
		h := newTestHandler(t, p, &clock{t: start}, &log)
		fails(t, h, context.Background(), p.mint("rsa-1", validClaims(start, nil)), &log, "jwks")
	})
	t.Run("panic", func(t *testing.T) {
		p := newIDP(t)
		var log bytes.Buffer
		h := newTestHandler(t, p, &clock{t: start}, &log)
		h.tokens = nil // verify panics on a nil verifier
		fails(t, h, context.Background(), p.mint("rsa-1", validClaims(start, nil)), &log, "panic")
	})
	t.Run("timeout", func(t *testing.T) {
		p := newIDP(t)
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		t.Cleanup(hang.Close)
		var log bytes.Buffer
		h := newTestHandler(t, p, &clock{t: start}, &log)
		h.tokens.keys.url = hang.URL
		ctx, cancel := context.WithTimeout(context.Background(), answerReserve+300*time.Millisecond)
		defer cancel()
		began := time.Now()
		fails(t, h, ctx, p.mint("rsa-1", validClaims(start, nil)), &log, "timeout")
		if d, _ := ctx.Deadline(); time.Now().After(d) {
			t.Errorf("answered %v after the start, past the deadline", time.Since(began))
		}
	})
}

// TestScopeSeparators: scopes are separated by single spaces only (RFC 6749,
// 3.3); a tab or a no-break space does not grant two scopes (finding 11).
func TestScopeSeparators(t *testing.T) {
	p := newIDP(t)
	var log bytes.Buffer
	h := newTestHandler(t, p, &clock{t: start}, &log)
	for _, tt := range []struct {
		scope, granted string
		want           outcome
	}{
		{"users.read users.write", "users.read users.write", allow},
		{"users.read\u00a0users.write", "", deny},
		{"users.read\tusers.write", "", deny},
		{"users.read\u3000users.write", "", deny},
		{"users.read\nusers.admin", "", deny},
		{"users.read\u00a0users.admin users.write", "users.write", allow},
	} {
		t.Run(fmt.Sprintf("%q", tt.scope), func(t *testing.T) {
			got, resp := judge(t, h, bearerRequest(p.mint("rsa-1", validClaims(start, jwt.MapClaims{"scope": tt.scope}))))
			if got != tt.want || resp.Context["scopes"] != tt.granted {
				t.Fatalf("%s with scopes %q, want %s with %q", got, resp.Context["scopes"], tt.want, tt.granted)
			}
		})
	}
}

// TestNumericDates: exp, nbf and iat must be JSON numbers (RFC 7519,
// NumericDate); the jwt package alone takes a string (finding 11).
func TestNumericDates(t *testing.T) {
	p := newIDP(t)
	var log bytes.Buffer
	h := newTestHandler(t, p, &clock{t: start}, &log)
	for _, tt := range []struct {
		name  string
		edits jwt.MapClaims
		want  outcome
	}{
		{"numbers", nil, allow},
		{"exp a string", jwt.MapClaims{"exp": fmt.Sprint(start.Add(time.Hour).Unix())}, unauthorized},
		{"nbf a string", jwt.MapClaims{"nbf": fmt.Sprint(start.Unix())}, unauthorized},
		{"iat a string", jwt.MapClaims{"iat": fmt.Sprint(start.Unix())}, unauthorized},
		{"exp a fraction", jwt.MapClaims{"exp": float64(start.Add(time.Hour).Unix()) + 0.5}, allow},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := judge(t, h, bearerRequest(p.mint("rsa-1", validClaims(start, tt.edits)))); got != tt.want {
				t.Fatalf("%s, want %s; log %s", got, tt.want, log.String())
			}
		})
	}
}
