package idempotencytest

import (
	"context"
	"sync"
	"time"

	"github.com/usersapi/usersapi/shared/idempotency"
)

// Memory is an idempotency.Store in memory, safe for concurrent use. Like a
// real store it keeps LeaseUntil to the millisecond and ExpiresAt to the
// second, and it forgets nothing by itself (expiry is the protocol's to
// judge).
type Memory struct {
	mu      sync.Mutex
	records map[string]idempotency.Record
}

var _ idempotency.Store = (*Memory)(nil)

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{records: map[string]idempotency.Record{}}
}

// Get returns the record kept under key, and false when none is kept.
func (m *Memory) Get(_ context.Context, key string) (idempotency.Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[key]
	return r, ok, nil
}

// Create keeps r if no record is kept under r.Key; else it returns
// idempotency.ErrChanged.
func (m *Memory) Create(_ context.Context, r idempotency.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.records[r.Key]; ok {
		return idempotency.ErrChanged
	}
	m.records[r.Key] = rounded(r)
	return nil
}

// Replace keeps r in place of old if the record kept under old.Key is still
// old; else it returns idempotency.ErrChanged.
func (m *Memory) Replace(_ context.Context, old, r idempotency.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.records[old.Key]; !ok || !Equal(cur, old) {
		return idempotency.ErrChanged
	}
	r.Key = old.Key
	m.records[old.Key] = rounded(r)
	return nil
}

// Delete forgets old if the record kept under old.Key is still old; else it
// returns idempotency.ErrChanged.
func (m *Memory) Delete(_ context.Context, old idempotency.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.records[old.Key]; !ok || !Equal(cur, old) {
		return idempotency.ErrChanged
	}
	delete(m.records, old.Key)
	return nil
}

// Equal says whether a and b are the same record: the same strings, and the
// same instants (whatever their locations).
func Equal(a, b idempotency.Record) bool {
	return a.Key == b.Key && a.Fingerprint == b.Fingerprint && a.RequestID == b.RequestID && a.Answer == b.Answer &&
		a.LeaseUntil.Equal(b.LeaseUntil) && a.ExpiresAt.Equal(b.ExpiresAt)
}

// rounded is r as a store keeps it.
func rounded(r idempotency.Record) idempotency.Record {
	r.LeaseUntil = r.LeaseUntil.Truncate(time.Millisecond)
	r.ExpiresAt = r.ExpiresAt.Truncate(time.Second)
	return r
}
