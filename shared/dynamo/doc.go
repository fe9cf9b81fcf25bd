// Package dynamo keeps users in DynamoDB: it reads them, pages through them,
// applies commands with conditional transactions, records each request's
// outcome, maps the table's stream images back to users, and keeps the
// records of Idempotency-Keys for package idempotency (Keys).
//
// The users table holds three kinds of item, told apart by their key: a user
// (pk "USER#<id>"), an email sentinel (pk "EMAIL#<lowercased email>") that
// makes emails unique, and one record of the list shard count (pk
// "LIST#shards"). A live user is listed in the ByList index under listPk
// "users#<n>", n its id's shard: List merges the shards in id order. A deleted user stays as a tombstone (deleted=true) that
// keeps its id, version, owner and timestamps, none of its data, until the
// table's TTL removes it. No request record names a user's data: a failure
// names the field. Request outcomes live in their own table,
// keyed by request id, and expire with TTL; so do Idempotency-Keys, in a
// table of their own keyed by the scoped key.
package dynamo
