//go:build faultinject

package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// rates are the faults and their probabilities, read once from USERSAPI_FAULTS.
type rates map[string]float64

func parse(spec string) (rates, error) {
	r := rates{}
	for _, kv := range strings.Split(spec, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		p, err := strconv.ParseFloat(v, 64)
		if strings.HasSuffix(k, "_ms") && ok && err == nil && p >= 0 {
			r[k] = p // a duration, not a probability
			continue
		}
		if !ok || err != nil || p < 0 || p > 1 {
			return nil, fmt.Errorf("faults: %q is not service.fault=probability", kv)
		}
		r[k] = p
	}
	return r, nil
}

var mu sync.Mutex

func roll(p float64) bool {
	if p <= 0 {
		return false
	}
	mu.Lock()
	defer mu.Unlock()
	return rand.Float64() < p
}

// Instrument adds the fault injectors that USERSAPI_FAULTS names to cfg's clients.
func Instrument(cfg *aws.Config) {
	r, err := parse(os.Getenv("USERSAPI_FAULTS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if len(r) == 0 {
		return
	}
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		if err := s.Deserialize.Add(attemptFaults(r), middleware.Before); err != nil {
			return err
		}
		return s.Initialize.Add(entryFaults(r), middleware.Before)
	})
}

// attemptFaults fails an attempt of a call, or crashes the process after a
// DynamoDB write succeeded and before anything else happens.
func attemptFaults(r rates) middleware.DeserializeMiddleware {
	return middleware.DeserializeMiddlewareFunc("usersapi-faults", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
		service := strings.ToLower(middleware.GetServiceID(ctx))
		op := middleware.GetOperationName(ctx)
		switch {
		case roll(r[service+".throttle"]):
			code := "ThrottlingException"
			if service == "dynamodb" {
				code = "ProvisionedThroughputExceededException"
			}
			return middleware.DeserializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: code, Message: "injected " + op}
		case roll(r[service+".5xx"]):
			return middleware.DeserializeOutput{}, middleware.Metadata{}, &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500, Header: http.Header{}}},
				Err:      &smithy.GenericAPIError{Code: "InternalServerError", Message: "injected " + op}}}
		case roll(r[service+".timeout"]):
			return middleware.DeserializeOutput{}, middleware.Metadata{}, &timeoutError{}
		case roll(r[service+".delay"]):
			// A call that hangs: the function's timeout is what ends it.
			time.Sleep(time.Duration(r[service+".delay_ms"]) * time.Millisecond)
		}
		out, md, err := next.HandleDeserialize(ctx, in)
		if err == nil && service == "dynamodb" && isWrite(op) && roll(r["dynamodb.crash_after_write"]) {
			fmt.Fprintf(os.Stderr, "faults: crashing after %s\n", op)
			os.Exit(137)
		}
		return out, md, err
	})
}

// isWrite reports whether op is the worker's write of a user: the crash that
// matters is the one between that write and the batch response.
func isWrite(op string) bool { return op == "TransactWriteItems" }

// timeoutError looks like a connection that timed out, which the retryer retries.
type timeoutError struct{}

func (*timeoutError) Error() string   { return "injected: i/o timeout" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

// entryFaults refuses some entries of a PutEvents call, as EventBridge does
// when FailedEntryCount > 0: those entries are not sent, and their results
// carry an error code in their place.
func entryFaults(r rates) middleware.InitializeMiddleware {
	return middleware.InitializeMiddlewareFunc("usersapi-entry-faults", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		put, ok := in.Parameters.(*eventbridge.PutEventsInput)
		if !ok || r["eventbridge.fail_entry"] <= 0 {
			return next.HandleInitialize(ctx, in)
		}
		var keep []ebtypes.PutEventsRequestEntry
		failed := make([]bool, len(put.Entries))
		for i, e := range put.Entries {
			if failed[i] = roll(r["eventbridge.fail_entry"]); !failed[i] {
				keep = append(keep, e)
			}
		}
		if len(keep) == len(put.Entries) {
			return next.HandleInitialize(ctx, in)
		}
		var res *eventbridge.PutEventsOutput
		var out middleware.InitializeOutput
		var md middleware.Metadata
		if len(keep) > 0 {
			copied := *put
			copied.Entries = keep
			in.Parameters = &copied
			var err error
			if out, md, err = next.HandleInitialize(ctx, in); err != nil {
				return out, md, err
			}
			if res, ok = out.Result.(*eventbridge.PutEventsOutput); !ok {
				return out, md, errors.New("faults: PutEvents gave no PutEventsOutput")
			}
		} else {
			res = &eventbridge.PutEventsOutput{}
		}
		merged := &eventbridge.PutEventsOutput{FailedEntryCount: res.FailedEntryCount}
		j := 0
		for i := range put.Entries {
			if failed[i] {
				merged.FailedEntryCount++
				merged.Entries = append(merged.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("injected")})
				continue
			}
			if j < len(res.Entries) {
				merged.Entries = append(merged.Entries, res.Entries[j])
			}
			j++
		}
		out.Result = merged
		return out, md, nil
	})
}
