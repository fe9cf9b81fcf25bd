package trace

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/aws/aws-xray-sdk-go/v2/xraylog"
)

// With no segment in the context (a test, a local run without a trace), a
// subsegment is not an error worth a log line per SDK call: the package's init
// chose the ignoring strategy, which the X-Ray configuration, made on first use,
// reads.
func TestNoSegmentIsNotLogged(t *testing.T) {
	t.Setenv("AWS_XRAY_SDK_DISABLED", "false") // read on each call
	var buf bytes.Buffer
	xray.SetLogger(xraylog.NewDefaultLogger(&buf, xraylog.LogLevelDebug))
	_, seg := xray.BeginSubsegment(context.Background(), "orphan")
	if seg != nil {
		seg.Close(nil)
	}
	if buf.Len() != 0 {
		t.Fatalf("a subsegment without a segment logged: %s", buf.String())
	}
}
