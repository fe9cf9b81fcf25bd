package eventsource

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/usersapi/usersapi/internal/runtimeapi"
	"github.com/usersapi/usersapi/internal/stack"
)

// Function is the function that a mapping invokes: trace is the header the
// invocation gets, upstream the trace header of the records that caused it.
// The local cloud hands in functions that X-Ray records (xray.Function).
type Function interface {
	Invoke(ctx context.Context, payload []byte, trace, upstream string) (runtimeapi.Result, error)
}

// Env is what the pollers share: the clients they poll with, where they
// log, and how soon a failed SQS message comes back (QueueMapping.RetryDelay).
type Env struct {
	SQS        *sqs.Client
	Streams    *dynamodbstreams.Client
	Log        *slog.Logger
	RetryDelay time.Duration
	// StateDir is where the stream mappings keep their place in each shard
	// between runs, as Lambda's mappings do; "" keeps it in memory, and a new
	// run starts from the mapping's StartingPosition.
	StateDir string
}

// Poller runs one event source mapping until its context ends.
type Poller interface {
	Run(ctx context.Context)
}

// New returns the poller of the event source mapping that the template's
// function fnID declares as its event name, invoking fn. It returns nil, and
// no error, for an event type that is not emulated (only SQS and DynamoDB are).
func New(s *stack.Stack, fnID, name string, ev stack.Event, fn Function, env Env) (Poller, error) {
	p := ev.Properties
	num := func(k string, def int) int {
		if v, ok := p[k].(float64); ok {
			return int(v)
		}
		return def
	}
	str := func(k string) string { s, _ := p[k].(string); return s }
	reportFailures := false
	if types, ok := p["FunctionResponseTypes"].([]any); ok {
		for _, t := range types {
			reportFailures = reportFailures || t == "ReportBatchItemFailures"
		}
	}
	switch ev.Type {
	case "SQS":
		_, q := s.ByAttr("Arn", str("Queue"))
		if q == nil {
			return nil, fmt.Errorf("%s.%s: queue %s is not in the template", fnID, name, str("Queue"))
		}
		pollers := 2
		if sc, ok := p["ScalingConfig"].(map[string]any); ok {
			if mc, ok := sc["MaximumConcurrency"].(float64); ok {
				pollers = min(int(mc), 4)
			}
		}
		return &queuePoller{m: QueueMapping{Function: fnID, QueueURL: q.Attr["QueueUrl"], QueueARN: q.Attr["Arn"],
			BatchSize: num("BatchSize", 10), Window: time.Duration(num("MaximumBatchingWindowInSeconds", 0)) * time.Second,
			ReportFailures: reportFailures, Pollers: pollers, RetryDelay: env.RetryDelay}, sqs: env.SQS, fn: fn, log: env.Log}, nil
	case "DynamoDB":
		m := StreamMapping{Function: fnID, StreamARN: str("Stream"), StartingPosition: cmp.Or(str("StartingPosition"), "LATEST"),
			BatchSize: num("BatchSize", 100), Window: time.Duration(num("MaximumBatchingWindowInSeconds", 0)) * time.Second,
			Bisect: p["BisectBatchOnFunctionError"] == true, MaxRetries: num("MaximumRetryAttempts", -1),
			MaxRecordAge: time.Duration(num("MaximumRecordAgeInSeconds", 0)) * time.Second, ReportFailures: reportFailures}
		if dc, ok := p["DestinationConfig"].(map[string]any); ok {
			if of, ok := dc["OnFailure"].(map[string]any); ok {
				if _, q := s.ByAttr("Arn", fmt.Sprint(of["Destination"])); q != nil {
					m.OnFailureQueue = q.Attr["QueueUrl"]
				}
			}
		}
		if fc, ok := p["FilterCriteria"].(map[string]any); ok {
			filters, _ := fc["Filters"].([]any)
			for _, f := range filters {
				fm, _ := f.(map[string]any)
				var pat map[string]any
				if err := json.Unmarshal([]byte(fmt.Sprint(fm["Pattern"])), &pat); err != nil {
					return nil, fmt.Errorf("%s.%s: filter pattern: %w", fnID, name, err)
				}
				m.Filters = append(m.Filters, pat)
			}
		}
		sp := &streamPoller{m: m, streams: env.Streams, sqs: env.SQS, fn: fn, log: env.Log}
		if env.StateDir != "" {
			sp.state = filepath.Join(env.StateDir, fnID+"-"+name+".json")
		}
		return sp, nil
	}
	return nil, nil
}
