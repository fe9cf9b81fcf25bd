// Package idempotency is the Idempotency-Key protocol of the API's writes: it
// parses a key, scopes it to its caller, fingerprints the request it came
// with, claims it for one request with a lease, and completes, releases or
// abandons the claim; a retry with the key is replayed the stored answer, told
// to wait while an attempt holds the lease, or resumes the same request once
// the lease has lapsed.
//
// A key is bound to its request id from the first attempt on. An attempt that
// may have queued its message and then failed to answer (it timed out, or the
// queue's answer was lost) leaves the key in progress; once its lease lapses,
// a retry resumes it with the same request id, which the queue and the
// worker's request record deduplicate. So a keyed retry never has a second
// effect, whatever the first attempt got to do.
//
// The rules live here, in [Keys], once. A [Store] only keeps [Record]s and
// writes them on the condition that the record it replaces is still the one
// it expects: package dynamo keeps them in DynamoDB, and package
// idempotencytest keeps them in memory for tests and holds the contract suite
// that both pass.
//
// It imports only the standard library and the domain (package users), whose
// errors it returns: Invalid for a malformed key, Conflict while another
// attempt holds the key, KeyReused for a key that came with another request,
// Unavailable when the store cannot be reached.
package idempotency
