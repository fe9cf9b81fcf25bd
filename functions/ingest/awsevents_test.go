package main

import (
	"testing"

	"github.com/usersapi/usersapi/shared/eventstest"
)

// TestEveryAWSEvent feeds every AWS sample event (aws-lambda-go's
// events/testdata) to the handler as the runtime would pass it: an answer,
// never a 5xx, or the decoding error; no panic, no hang (issue 14).
func TestEveryAWSEvent(t *testing.T) {
	h, q := newHandler(t)
	t.Cleanup(func() {
		if len(q.sent) != 0 {
			t.Errorf("%d messages sent for AWS sample events, want none", len(q.sent))
		}
	})
	eventstest.EveryAWS(t, h.Handle, eventstest.NoServerError)
}
