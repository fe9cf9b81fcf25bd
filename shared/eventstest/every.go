package eventstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// everyTimeout is how long a handler may take on one sample event before
// EveryAWS calls it a hang.
const everyTimeout = 10 * time.Second

// EveryAWS feeds every one of AWS's sample events (every *.json of
// events/testdata of the aws-lambda-go module) to handler, a function that
// lambda.Start takes, through lambda.NewHandler: the raw JSON goes through
// the decoding the runtime does, so a sample that is not the handler's event
// type is tried too, as Lambda would pass it. Each must get an answer or a
// clean error: no panic and no hang. check, when not nil, judges the answer
// (the JSON the runtime would return) or the error of each.
func EveryAWS(t *testing.T, handler any, check func(t *testing.T, name string, answer []byte, err error)) {
	t.Helper()
	dir, err := awsTestdata()
	if err != nil {
		t.Fatalf("eventstest: AWS's sample events: %v", err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("eventstest: no sample events in %s (%v)", dir, err)
	}
	h := lambda.NewHandler(handler)
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), everyTimeout)
			defer cancel()
			type result struct {
				answer []byte
				err    error
				panic  string
			}
			done := make(chan result, 1)
			go func() {
				defer func() {
					if p := recover(); p != nil {
						done <- result{panic: fmt.Sprintf("%v\n%s", p, debug.Stack())}
					}
				}()
				answer, err := h.Invoke(ctx, payload)
				done <- result{answer: answer, err: err}
			}()
			select {
			case r := <-done:
				if r.panic != "" {
					t.Fatalf("panic on %s: %s", name, r.panic)
				}
				if r.err == nil && !json.Valid(r.answer) {
					t.Fatalf("answer to %s is not JSON: %q", name, r.answer)
				}
				if check != nil {
					check(t, name, r.answer, r.err)
				}
			case <-time.After(everyTimeout + time.Second):
				t.Fatalf("no answer to %s within %v", name, everyTimeout)
			}
		})
	}
}

// NoServerError is a check for EveryAWS of an API Gateway proxy function: an
// event it can decode gets an answer (not an error), and no answer is a 5xx,
// which only a fault of ours may cause. An event that does not decode into
// the function's type gets the decoding error, as Lambda reports it.
func NoServerError(t *testing.T, name string, answer []byte, err error) {
	t.Helper()
	if err != nil {
		var ute *json.UnmarshalTypeError
		var se *json.SyntaxError
		if !errors.As(err, &ute) && !errors.As(err, &se) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("error on %s that is not a decoding error: %v", name, err)
		}
		return
	}
	var resp struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(answer, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode >= 500 {
		t.Fatalf("answer to %s: %s (%v), want a status from 100 to 499", name, answer, err)
	}
}

// BatchResponse is a check for EveryAWS of a batch function (SQS, DynamoDB
// stream): an event it can decode gets an answer that is a batch response R,
// such as events.SQSEventResponse. An event that is not its batch type gets
// the decoding error, as Lambda reports it.
func BatchResponse[R any](t *testing.T, name string, answer []byte, err error) {
	t.Helper()
	if err != nil {
		return
	}
	var resp R
	if err := json.Unmarshal(answer, &resp); err != nil {
		t.Fatalf("answer to %s: %s is not a batch response: %v", name, answer, err)
	}
}
