package localcloud_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/usersapi/usersapi/api"
	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// securedDocument is api/openapi.yaml with the edge switched on: the Lambda
// authorizer on GET /users/{id}, an API key on POST /users, and a CORS
// preflight mock on /users.
func securedDocument(t *testing.T) []byte {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	doc.Components.SecuritySchemes = openapi3.SecuritySchemes{
		"jwt": &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{Type: "apiKey", Name: "Authorization", In: "header",
			Extensions: map[string]any{"x-amazon-apigateway-authtype": "custom", "x-amazon-apigateway-authorizer": map[string]any{
				"type": "request", "identitySource": "method.request.header.Authorization", "authorizerResultTtlInSeconds": 60,
				"authorizerUri": map[string]any{"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthorizerFunction.Arn}/invocations"}}}}},
		"api_key": &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{Type: "apiKey", Name: "x-api-key", In: "header"}},
	}
	doc.Paths.Value("/users/{id}").Get.Security = &openapi3.SecurityRequirements{{"jwt": {}}}
	doc.Paths.Value("/users").Post.Security = &openapi3.SecurityRequirements{{"api_key": {}}}
	doc.Paths.Value("/users").Options = &openapi3.Operation{Responses: openapi3.NewResponses(), Extensions: map[string]any{
		"x-amazon-apigateway-integration": map[string]any{"type": "mock", "responses": map[string]any{"default": map[string]any{
			"statusCode": "204", "responseParameters": map[string]any{
				"method.response.header.Access-Control-Allow-Origin":  "'http://localhost:3000'",
				"method.response.header.Access-Control-Allow-Methods": "'GET,HEAD,POST,OPTIONS'"}}}}}}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEdge(t *testing.T) {
	c := cloudtest.Start(t, "", localcloud.Options{Document: securedDocument(t)})
	plan := &localcloud.UsagePlan{Name: "tiny", RateLimit: 1, BurstLimit: 2}
	c.Gateway.SetAPIKeys([]*localcloud.APIKey{{Name: "k", Value: "test-key-0123456789", Plan: plan}})
	user := "/users/0193a4b2-7c3d-7e4f-8a5b-000000000000"
	token := func(scopes string, ttl time.Duration) string {
		tok, err := c.Issuer.Token("alice", scopes, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}

	t.Run("authorizer", func(t *testing.T) {
		expect(t, do(t, c, "GET", user, ""), 401)
		expect(t, do(t, c, "GET", user, "", "Authorization", "Bearer not.a.jwt"), 401)
		expect(t, do(t, c, "GET", user, "", "Authorization", token("users.read", -2*time.Minute)), 401)
		expect(t, do(t, c, "GET", user, "", "Authorization", token("profile", time.Hour)), 403)
		good := token("users.read", time.Hour)
		before := c.Gateway.AuthorizerInvocations()
		for range 3 {
			expect(t, do(t, c, "GET", user, "", "Authorization", good), 404) // allowed through to the function
		}
		if n := c.Gateway.AuthorizerInvocations() - before; n != 1 {
			t.Errorf("the authorizer ran %d times for one token, want 1 (its result is cached)", n)
		}
		expect(t, do(t, c, "GET", "/users?limit=1", ""), 200) // a route without security
	})

	t.Run("api key and usage plan", func(t *testing.T) {
		body := func() string { return `{"name":"Key","email":"` + email() + `"}` }
		expect(t, do(t, c, "POST", "/users", body()), 403)
		expect(t, do(t, c, "POST", "/users", body(), "X-Api-Key", "wrong"), 403)
		expect(t, do(t, c, "POST", "/users", body(), "X-Api-Key", "test-key-0123456789"), 202)
		expect(t, do(t, c, "POST", "/users", body(), "X-Api-Key", "test-key-0123456789"), 202)
		r := expect(t, do(t, c, "POST", "/users", body(), "X-Api-Key", "test-key-0123456789"), 429)
		if r.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
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
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Fatalf("preflight %d %v", resp.StatusCode, resp.Header)
		}
	})
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
