package apigw

import (
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Methods lists, for each resource of the API, the methods it answers. A
// method not listed gets 405 with an Allow header built from this list.
var Methods = map[string][]string{
	"/users":                {http.MethodGet, http.MethodHead, http.MethodPost, http.MethodOptions},
	"/users/{id}":           {http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
	"/users/{id}/export":    {http.MethodGet, http.MethodHead, http.MethodOptions},
	"/requests/{requestId}": {http.MethodGet, http.MethodHead, http.MethodOptions},
}

// Unrouted returns the response for a request that no handler of a function
// took: 405 with Allow for a known resource, 404 for any other.
func Unrouted(req *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	methods, ok := Methods[req.Resource]
	if !ok {
		p := NewProblem(http.StatusNotFound, "not-found", "no such resource: "+req.Path)
		p.Instance = req.RequestContext.RequestID
		return p.Response()
	}
	if req.HTTPMethod == http.MethodOptions {
		r := Empty(http.StatusNoContent)
		r.Headers["Allow"] = strings.Join(methods, ", ")
		return r
	}
	p := NewProblem(http.StatusMethodNotAllowed, "method-not-allowed", req.HTTPMethod+" is not allowed on "+req.Resource)
	p.Instance = req.RequestContext.RequestID
	r := p.Response()
	r.Headers["Allow"] = strings.Join(methods, ", ")
	return r
}

// BasePath returns the path prefix under which the client reached the API
// ("/dev" on a stage URL, "" under a custom domain at its root), so that links
// the API returns lead back to it.
func BasePath(req *events.APIGatewayProxyRequest) string {
	full := req.RequestContext.Path
	if full != "" && strings.HasSuffix(full, req.Path) {
		return strings.TrimSuffix(full, req.Path)
	}
	return ""
}
