// Package apigw speaks API Gateway's REST (v1) Lambda proxy integration: it
// reads headers and bodies from a proxy request, writes JSON and problem+json
// (RFC 9457) responses, and is the one place where a users.Kind becomes an
// HTTP status.
package apigw
