package apigw

import (
	"encoding/base64"
	"mime"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// MaxBodyBytes is the largest body the API accepts (64 KiB).
const MaxBodyBytes = 64 << 10

// Header returns the value of the named header, whatever its case in the event.
// API Gateway keeps the case the client sent, so a plain map look-up misses.
func Header(req *events.APIGatewayProxyRequest, name string) string {
	v, _ := LookupHeader(req, name)
	return v
}

// LookupHeader is Header, and whether the request has the header at all: a
// header sent empty ("If-Match;") is present with the value "".
func LookupHeader(req *events.APIGatewayProxyRequest, name string) (string, bool) {
	if v, ok := req.Headers[name]; ok {
		return v, true
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) {
			return strings.Join(vs, ", "), true
		}
	}
	return "", false
}

// Query returns the value of a query string parameter.
func Query(req *events.APIGatewayProxyRequest, name string) (string, bool) {
	if v, ok := req.QueryStringParameters[name]; ok {
		return v, true
	}
	if vs, ok := req.MultiValueQueryStringParameters[name]; ok && len(vs) > 0 {
		return vs[len(vs)-1], true
	}
	return "", false
}

// Body returns the request body, decoded when API Gateway sent it in base64.
// It returns a 413 or 400 Problem as the error when the body is too large or
// its encoding is broken.
func Body(req *events.APIGatewayProxyRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		if len(req.Body) > MaxBodyBytes {
			return nil, tooLarge()
		}
		return []byte(req.Body), nil
	}
	if base64.StdEncoding.DecodedLen(len(req.Body)) > MaxBodyBytes+3 {
		return nil, tooLarge()
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		p := NewProblem(http.StatusBadRequest, "invalid", "the body is not valid base64")
		return nil, &p
	}
	if len(b) > MaxBodyBytes {
		return nil, tooLarge()
	}
	return b, nil
}

func tooLarge() *Problem {
	p := NewProblem(http.StatusRequestEntityTooLarge, "too-large", "the body is larger than 64 KiB")
	return &p
}

// Error lets a Problem travel as an error; Error (the function) answers it as is.
func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// MediaType returns the media type of the request's Content-Type, lowercased
// and without parameters, or "" when there is none or it does not parse.
func MediaType(req *events.APIGatewayProxyRequest) string {
	mt, _, err := mime.ParseMediaType(Header(req, "Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}
