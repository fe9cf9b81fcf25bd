// Package apigateway serves the REST API as API Gateway does, from the
// OpenAPI document that API Gateway imports: routes and ANY methods, request
// validators, Lambda authorizers with their result cache, API keys with
// their usage plans (throttling and quotas), Lambda proxy integrations (the
// v1 event, the mapping of the function's response), mock integrations, and
// the document's gateway responses.
package apigateway
