package main

import (
	"testing"

	"github.com/usersapi/usersapi/shared/eventstest"
)

// TestEveryAWSEvent feeds every AWS sample event (aws-lambda-go's
// events/testdata) to the handler as the runtime would pass it: an answer,
// never a 5xx, or the decoding error; no panic, no hang (issue 14).
func TestEveryAWSEvent(t *testing.T) {
	h, _ := newHandler(t)
	eventstest.EveryAWS(t, h.Handle, eventstest.NoServerError)
}
