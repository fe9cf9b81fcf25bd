package apigw

import (
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// CORS lets browsers on the allowed origins read the API's answers. API
// Gateway answers the preflight (OPTIONS) itself; with a proxy integration the
// function must add the headers to every actual response.
type CORS struct{ allowed map[string]bool }

// NewCORS returns the CORS policy for a comma-separated allowlist of origins
// (the template's AllowedOrigins, in ALLOWED_ORIGINS). "*" is refused: the
// allowlist is explicit.
func NewCORS(origins string) CORS {
	c := CORS{allowed: map[string]bool{}}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" && o != "*" {
			c.allowed[o] = true
		}
	}
	return c
}

// Apply adds the CORS headers to resp when req comes from an allowed origin.
// Vary: Origin is set either way, so that no cache mixes origins.
func (c CORS) Apply(req *events.APIGatewayProxyRequest, resp *events.APIGatewayProxyResponse) {
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers["Vary"] = "Origin"
	origin := Header(req, "Origin")
	if !c.allowed[origin] {
		return
	}
	resp.Headers["Access-Control-Allow-Origin"] = origin
	resp.Headers["Access-Control-Expose-Headers"] = "ETag, Location, Retry-After, Idempotent-Replayed, Preference-Applied"
}

// Preflight answers a CORS preflight (OPTIONS) for a resource that allows
// methods: 204 with Allow, and the CORS headers when the Origin is allowed.
func (c CORS) Preflight(req *events.APIGatewayProxyRequest, methods []string) events.APIGatewayProxyResponse {
	resp := Empty(204)
	resp.Headers["Allow"] = strings.Join(methods, ", ")
	c.Apply(req, &resp)
	if resp.Headers["Access-Control-Allow-Origin"] != "" {
		resp.Headers["Access-Control-Allow-Methods"] = strings.Join(methods, ",")
		resp.Headers["Access-Control-Allow-Headers"] = "Content-Type,Authorization,X-Api-Key,If-Match,If-None-Match,Idempotency-Key,Prefer"
		resp.Headers["Access-Control-Max-Age"] = "600"
		resp.Headers["Cache-Control"] = "max-age=600"
	}
	return resp
}
