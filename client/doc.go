// Package client is the Go client of the users API (api/openapi.yaml), for
// users of the API and for the project's own end-to-end tests. It uses the
// standard library only.
//
// Every operation of the document has a method. A write (CreateUser,
// ReplaceUser, PatchUser, DeleteUser) returns a *Write at once, the API's
// 202 Accepted; its Wait polls GET /requests/{requestId} until the write is
// applied or has failed, and returns the user. Each logical write carries an
// Idempotency-Key of its own, made by the client and sent again with every
// retry of that write, so a retry never applies a write twice.
//
// Requests that fail with 429, 503, another 5xx or a network error are tried
// again, after the server's Retry-After when it sends one and otherwise after
// an exponential backoff with full jitter, within a bounded budget (Retry).
// Errors the API answers are *Problem values (RFC 9457), with the refused
// fields in Errors; use errors.As to get one.
//
// A user's ETag is its version in quotes: pass IfMatch(u.ETag()) to a write to
// make it conditional, and RefreshUser to revalidate a read with If-None-Match.
package client
