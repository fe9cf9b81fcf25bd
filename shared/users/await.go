package users

import (
	"context"
	"time"
)

// Outcomes reads the recorded outcomes of requests; *dynamo.Table has it.
type Outcomes interface {
	// Request returns the outcome of the request with id, read consistently,
	// and false while none is recorded.
	Request(ctx context.Context, id string) (Request, bool, error)
}

// MaxAwaitReads bounds the reads of one Await: the 25 that its backoff makes
// in ten seconds, with room to spare.
const MaxAwaitReads = 32

// The pauses of Await before each read: from the first to the longest,
// doubling. The first is about the time a write takes to be applied when the
// queue is idle (README, Figures).
const (
	firstPause   = 10 * time.Millisecond
	longestPause = 500 * time.Millisecond
)

// Await reads the outcome of the request with id until one is recorded, until
// the time until, or until ctx ends, pausing before each read (10 ms at first,
// doubling to 500 ms; the last read falls at until) and reading at most
// MaxAwaitReads times. A caller whose context has a deadline chooses until
// before it, leaving time for the last read and for its answer. Await returns
// the outcome and true, or false when none was recorded in time; then err is
// the last read's failure, if it failed (a failed read counts as pending: the
// next may succeed).
func Await(ctx context.Context, o Outcomes, id string, until time.Time) (r Request, recorded bool, err error) {
	pause := firstPause
	for range MaxAwaitReads {
		left := time.Until(until)
		if left <= 0 {
			break
		}
		t := time.NewTimer(min(pause, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return Request{}, false, err
		case <-t.C:
		}
		pause = min(2*pause, longestPause)
		r, recorded, err = o.Request(ctx, id)
		if err == nil && recorded {
			return r, true, nil
		}
	}
	return Request{}, false, err
}
