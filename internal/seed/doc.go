// Package seed fills a running users API with realistic users, through the
// API itself (package client), so that a demo or a benchmark starts from a
// populated table: `usersapi-local seed --users N` against `make run`.
//
// Each user is one create with an Idempotency-Key of its own, kept across the
// client's retries (429 and 503 after their Retry-After), so a retry never
// makes a second user; a bounded number of creates are in flight at once, and
// each is followed (GET /requests/{requestId}) until it has succeeded or failed.
package seed
