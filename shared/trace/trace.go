// Package trace is the project's X-Ray and logging: it instruments AWS SDK v2
// clients, wraps domain steps in subsegments with searchable annotations,
// hands the trace header on to SQS and EventBridge, and makes the JSON logger
// whose lines carry the Lambda request id and the X-Ray trace id.
//
// Outside Lambda (unit tests) there is no segment to attach to: the SDK's
// "context missing" complaint is silenced here once rather than logged on
// every call, and AWS_XRAY_SDK_DISABLED=true turns tracing off entirely.
package trace

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/v2/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
)

func init() {
	// Unless the environment chose a strategy, a missing segment is not an
	// error worth a log line per SDK call: in Lambda there always is one. Said
	// through the variable the SDK reads when it makes its configuration on
	// first use, not by xray.Configure, which would make it here, at init.
	if os.Getenv("AWS_XRAY_CONTEXT_MISSING") == "" {
		_ = os.Setenv("AWS_XRAY_CONTEXT_MISSING", ctxmissing.IgnoreErrorStrategy)
	}
}

// stage is the deployment stage (STAGE), annotated on every subsegment.
var stage = os.Getenv("STAGE")

// Instrument makes every client built from cfg record a subsegment per call
// and pass the trace on.
func Instrument(cfg *aws.Config) {
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
}

// Capture runs fn in a subsegment named name, annotated with annotations
// (key, value pairs), and records fn's error on it.
func Capture(ctx context.Context, name string, fn func(context.Context) error, annotations ...string) error {
	if untraced(ctx) {
		return fn(ctx)
	}
	return xray.Capture(ctx, name, func(ctx context.Context) error {
		if stage != "" {
			// The template's X-Ray group finds the pipeline's traces by it.
			Annotate(ctx, "stage", stage)
		}
		for i := 0; i+1 < len(annotations); i += 2 {
			Annotate(ctx, annotations[i], annotations[i+1])
		}
		return fn(ctx)
	})
}

// untraced reports whether ctx belongs to no trace (no segment, no Lambda
// trace header) while a missing segment is silently ignored (the default this
// package sets): then a subsegment would record nothing.
func untraced(ctx context.Context) bool {
	return xray.GetSegment(ctx) == nil && ctx.Value(xray.LambdaTraceHeaderKey) == nil &&
		os.Getenv("AWS_XRAY_CONTEXT_MISSING") == ""
}

// Annotate adds an indexed annotation to the current (sub)segment, if any.
func Annotate(ctx context.Context, key, value string) {
	if seg := xray.GetSegment(ctx); seg != nil {
		_ = seg.AddAnnotation(key, value)
	}
}

// Header returns the X-Ray trace header to hand to the next hop: the trace
// of the current (sub)segment with it as the parent, or the header Lambda
// gave this invocation when no segment is open. It is "" outside any trace.
func Header(ctx context.Context) string {
	if seg := xray.GetSegment(ctx); seg != nil && seg.TraceID != "" && !xray.SdkDisabled() {
		sampled := "0"
		if seg.Sampled {
			sampled = "1"
		}
		return "Root=" + seg.TraceID + ";Parent=" + seg.ID + ";Sampled=" + sampled
	}
	if h, ok := ctx.Value(xray.LambdaTraceHeaderKey).(string); ok {
		return h
	}
	return ""
}

// ID returns the X-Ray trace id ("1-...") of ctx, or "".
func ID(ctx context.Context) string {
	if seg := xray.GetSegment(ctx); seg != nil && seg.TraceID != "" {
		return seg.TraceID
	}
	h, _ := ctx.Value(xray.LambdaTraceHeaderKey).(string)
	return RootOf(h)
}

// RootOf returns the Root of a trace header, or "".
func RootOf(header string) string {
	for _, part := range strings.Split(header, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Root="); ok {
			return v
		}
	}
	return ""
}

// NewLogger returns the functions' JSON logger: Lambda's handler (log level
// and format from the function's logging config, the Lambda request id on
// every line) with the trace id and a cold-start flag added.
func NewLogger() *slog.Logger {
	return slog.New(&handler{Handler: lambdacontext.NewLogHandler(), cold: &coldStart{}})
}

// coldStart remembers the first invocation an execution environment served.
type coldStart struct{ first atomic.Pointer[string] }

// is reports whether requestID is the first invocation's.
func (c *coldStart) is(requestID string) bool {
	c.first.CompareAndSwap(nil, &requestID)
	return *c.first.Load() == requestID
}

// handler adds the trace id, and coldStart to the lines of each invocation.
type handler struct {
	slog.Handler
	cold *coldStart
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r.AddAttrs(slog.String("traceId", id))
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.Bool("coldStart", h.cold.is(lc.AwsRequestID)))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{Handler: h.Handler.WithAttrs(attrs), cold: h.cold}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{Handler: h.Handler.WithGroup(name), cold: h.cold}
}
