package apigw_test

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
)

func TestCORS(t *testing.T) {
	c := apigw.NewCORS("https://app.example.com, http://localhost:3000,*")
	for origin, want := range map[string]string{
		"https://app.example.com": "https://app.example.com",
		"http://localhost:3000":   "http://localhost:3000",
		"https://evil.example":    "",
		"":                        "",
		"*":                       "",
	} {
		req := events.APIGatewayProxyRequest{Headers: map[string]string{"origin": origin}}
		resp := apigw.JSON(200, "x")
		c.Apply(&req, &resp)
		if resp.Headers["Access-Control-Allow-Origin"] != want || resp.Headers["Vary"] != "Origin" {
			t.Errorf("origin %q: %v", origin, resp.Headers)
		}
	}
}

func TestPreflight(t *testing.T) {
	c := apigw.NewCORS("http://localhost:3000,https://app.example.com")
	req := events.APIGatewayProxyRequest{HTTPMethod: "OPTIONS", Headers: map[string]string{"Origin": "https://app.example.com"}}
	r := c.Preflight(&req, []string{"GET", "POST"})
	if r.StatusCode != 204 || r.Headers["Access-Control-Allow-Origin"] != "https://app.example.com" || r.Headers["Access-Control-Allow-Methods"] != "GET,POST" || r.Headers["Allow"] != "GET, POST" {
		t.Fatalf("%d %v", r.StatusCode, r.Headers)
	}
	req.Headers["Origin"] = "https://evil.example"
	if r := c.Preflight(&req, []string{"GET"}); r.Headers["Access-Control-Allow-Origin"] != "" || r.Headers["Access-Control-Allow-Methods"] != "" {
		t.Fatalf("a preflight from another origin: %v", r.Headers)
	}
}
