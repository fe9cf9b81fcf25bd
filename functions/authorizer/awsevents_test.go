package main

import (
	"bytes"
	"testing"

	"github.com/usersapi/usersapi/shared/eventstest"
)

// TestEveryAWSEvent feeds every AWS sample event (aws-lambda-go's
// events/testdata) to the handler as the runtime would pass it: none holds a
// token this authorizer can verify, so each is refused ("Unauthorized", 401)
// or not decoded; never a failure (500), a panic or a hang (issue 14).
func TestEveryAWSEvent(t *testing.T) {
	p := newIDP(t)
	var log bytes.Buffer
	h := newTestHandler(t, p, &clock{t: start}, &log)
	eventstest.EveryAWS(t, h.Handle, func(t *testing.T, name string, answer []byte, err error) {
		if err == nil {
			t.Fatalf("%s allowed: %s", name, answer)
		}
		if err.Error() == errUnavailable.Error() {
			t.Fatalf("%s: the authorizer failed; log %s", name, log.String())
		}
	})
}
