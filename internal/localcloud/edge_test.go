package localcloud_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/apigateway"
	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

func TestEdge(t *testing.T) {
	plan := &apigateway.UsagePlan{Name: "tiny", RateLimit: 0.01, BurstLimit: 2} // a slow refill: the third request is over, however slow the machine
	c := cloudtest.Start(t, "", localcloud.Options{ExtraAPIKeys: []*apigateway.APIKey{{Name: "k", Value: "test-key-0123456789", Plan: plan}}})
	user := "/users/0193a4b2-7c3d-7e4f-8a5b-000000000000"
	token := func(scopes string, ttl time.Duration) string {
		tok, err := c.Issuer.Token("alice", scopes, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}

	t.Run("authorizer", func(t *testing.T) {
		expect(t, do(t, c, "GET", user, "", "Authorization", ""), 401)
		expect(t, do(t, c, "GET", user, "", "Authorization", "Bearer not.a.jwt"), 401)
		expect(t, do(t, c, "GET", user, "", "Authorization", token("users.read", -2*time.Minute)), 401)
		expect(t, do(t, c, "GET", user, "", "Authorization", token("profile", time.Hour)), 403)
		good := token("users.read", time.Hour)
		before := authorizerRuns(c)
		for range 3 {
			expect(t, do(t, c, "GET", user, "", "Authorization", good), 404) // allowed through to the function
		}
		if n := authorizerRuns(c) - before; n != 1 {
			t.Errorf("the authorizer ran %d times for one token, want 1 (its result is cached)", n)
		}
	})

	t.Run("api key and usage plan", func(t *testing.T) {
		body := func() string { return `{"name":"Key","email":"` + email() + `"}` }
		expect(t, do(t, c, "POST", "/users", body(), "X-Api-Key", ""), 403)
		expect(t, do(t, c, "POST", "/users", body(), "X-Api-Key", "wrong"), 403)
		expect(t, do(t, c, "POST", "/users", body(), "X-Api-Key", "test-key-0123456789"), 202)
		expect(t, do(t, c, "POST", "/users", body(), "X-Api-Key", "test-key-0123456789"), 202)
		r := expect(t, do(t, c, "POST", "/users", body(), "X-Api-Key", "test-key-0123456789"), 429)
		if r.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	})

	t.Run("errors carry CORS headers", func(t *testing.T) {
		r := expect(t, do(t, c, "GET", user, "", "Authorization", ""), 401)
		if r.header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || r.header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("401 headers %v", r.header)
		}
	})

	t.Run("CORS on the functions' answers", func(t *testing.T) {
		r := do(t, c, "GET", user, "", "Origin", "http://localhost:3000")
		if r.header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || r.header.Get("Vary") != "Origin" {
			t.Errorf("allowed origin: %v", r.header)
		}
		if r := do(t, c, "GET", user, "", "Origin", "https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("another origin allowed: %v", r.header)
		}
	})

	t.Run("CORS preflight", func(t *testing.T) {
		req, _ := http.NewRequest("OPTIONS", c.URL+"/users", nil)
		req.Header.Set("Origin", "http://localhost:3000")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Fatalf("preflight %d %v", resp.StatusCode, resp.Header)
		}
	})
}

// authorizerRuns counts the invocations of the Lambda authorizer (a cached
// result does not count), as X-Ray's service map shows them.
func authorizerRuns(c *localcloud.Cloud) int {
	for _, n := range c.XRay.Map().Nodes {
		if n.Name == "AuthorizerFunction" {
			return n.Count
		}
	}
	return 0
}

func TestDevelopmentTokenOpensNothingWithoutTheKey(t *testing.T) {
	is, err := localcloud.LoadIssuer(t.TempDir() + "/k.pem")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := is.Token("bob", "users.admin", time.Minute)
	if err != nil || strings.Count(tok, ".") != 2 {
		t.Fatalf("token %q, %v", tok, err)
	}
}
