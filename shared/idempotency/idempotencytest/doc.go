// Package idempotencytest holds what tests of the Idempotency-Key protocol
// share: Memory, a Store in memory for unit tests, and Run, the contract
// suite that every Store passes (Memory here, DynamoDB Local in package
// dynamo), so that the protocol's rules are checked once over each.
package idempotencytest
