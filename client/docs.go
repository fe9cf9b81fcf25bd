package client

import (
	"context"
	"net/http"
	"net/url"
)

// Preflight sends a CORS preflight (OPTIONS path, with Origin and
// Access-Control-Request-Method) and returns the answer's headers; the
// Access-Control-* ones are there only when the API allows origin. It needs
// no key and no token.
func (c *Client) Preflight(ctx context.Context, path, origin, method string) (http.Header, error) {
	resp, err := c.do(ctx, request{method: http.MethodOptions, path: path, retry: true,
		header: http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}}})
	if err != nil {
		return nil, err
	}
	return resp.header, nil
}

// OpenAPIDocument returns the API's OpenAPI document as JSON (GET /openapi.json).
func (c *Client) OpenAPIDocument(ctx context.Context) (File, error) {
	return c.file(ctx, http.MethodGet, "/openapi.json")
}

// HeadOpenAPIDocument returns the OpenAPI document's ETag and type, without
// the document (HEAD /openapi.json).
func (c *Client) HeadOpenAPIDocument(ctx context.Context) (File, error) {
	return c.file(ctx, http.MethodHead, "/openapi.json")
}

// Docs returns the documentation page, Swagger UI's HTML (GET /docs).
func (c *Client) Docs(ctx context.Context) (File, error) {
	return c.file(ctx, http.MethodGet, "/docs")
}

// HeadDocs returns the documentation page's ETag and type (HEAD /docs).
func (c *Client) HeadDocs(ctx context.Context) (File, error) {
	return c.file(ctx, http.MethodHead, "/docs")
}

// DocsFile returns one of the documentation page's files, such as
// "swagger-ui.css" (GET /docs/{file}).
func (c *Client) DocsFile(ctx context.Context, name string) (File, error) {
	return c.file(ctx, http.MethodGet, "/docs/"+url.PathEscape(name))
}

// HeadDocsFile returns a documentation file's ETag and type (HEAD /docs/{file}).
func (c *Client) HeadDocsFile(ctx context.Context, name string) (File, error) {
	return c.file(ctx, http.MethodHead, "/docs/"+url.PathEscape(name))
}

func (c *Client) file(ctx context.Context, method, path string) (File, error) {
	resp, err := c.do(ctx, request{method: method, path: path, retry: true, header: http.Header{"Accept": {"*/*"}}})
	if err != nil {
		return File{}, err
	}
	f := File{ContentType: resp.header.Get("Content-Type"), ETag: resp.header.Get("ETag")}
	if method == http.MethodGet {
		f.Body = resp.body
	}
	return f, nil
}
