package idempotency_test

import (
	"testing"

	"github.com/usersapi/usersapi/shared/idempotency"
	"github.com/usersapi/usersapi/shared/idempotency/idempotencytest"
)

// The protocol over a store in memory; package dynamo runs the same suite
// against DynamoDB Local.
func TestMemory(t *testing.T) {
	idempotencytest.Run(t, func(*testing.T) idempotency.Store { return idempotencytest.NewMemory() })
}
