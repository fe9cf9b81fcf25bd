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
