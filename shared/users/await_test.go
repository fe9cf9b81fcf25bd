package users_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usersapi/usersapi/shared/users"
)

// settling is an Outcomes whose request is recorded at its after'th read;
// the reads before fail when failing says so.
type settling struct {
	after, reads int
	failing      bool
}

func (s *settling) Request(_ context.Context, id string) (users.Request, bool, error) {
	s.reads++
	if s.reads >= s.after {
		return users.Request{ID: id, Status: users.Succeeded}, true, nil
	}
	if s.failing {
		return users.Request{}, false, errors.New("throttled")
	}
	return users.Request{}, false, nil
}

func TestAwait(t *testing.T) {
	ctx := t.Context()
	s := &settling{after: 3}
	r, ok, err := users.Await(ctx, s, "r1", time.Now().Add(5*time.Second))
	if !ok || err != nil || r.ID != "r1" || s.reads != 3 {
		t.Fatalf("settled at the third read: %+v %v %v after %d reads", r, ok, err, s.reads)
	}

	// Failed reads are tried again.
	s = &settling{after: 4, failing: true}
	if _, ok, err := users.Await(ctx, s, "r2", time.Now().Add(5*time.Second)); !ok || err != nil {
		t.Fatalf("after failed reads: %v %v", ok, err)
	}

	// Not in time: false, the last read's error, and the wait kept to its end.
	s = &settling{after: 1000, failing: true}
	start := time.Now()
	_, ok, err = users.Await(ctx, s, "r3", start.Add(300*time.Millisecond))
	if took := time.Since(start); ok || err == nil || took < 300*time.Millisecond || took > 2*time.Second {
		t.Fatalf("not in time: %v %v after %s", ok, err, took)
	}
	if s.reads < 5 || s.reads > 7 {
		t.Errorf("%d reads in 300 ms, want 10, 20, 40, 80, 150 ms apart: 5 or 6", s.reads)
	}

	// The context's end stops it at once.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, ok, _ := users.Await(cctx, &settling{after: 1000}, "r4", start.Add(10*time.Second)); ok || time.Since(start) > time.Second {
		t.Fatalf("a cancelled wait: %v after %s", ok, time.Since(start))
	}
}

// Over the longest wait the API honours, the reads stay within MaxAwaitReads.
func TestAwaitReadsAreBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 10 s")
	}
	t.Parallel()
	s := &settling{after: 1000}
	start := time.Now()
	if _, ok, _ := users.Await(t.Context(), s, "r", start.Add(10*time.Second)); ok {
		t.Fatal("settled")
	}
	if s.reads > users.MaxAwaitReads || s.reads < 20 {
		t.Errorf("%d reads in 10 s, want at most %d", s.reads, users.MaxAwaitReads)
	}
	t.Logf("%d reads in %s", s.reads, time.Since(start).Round(time.Millisecond))
}
