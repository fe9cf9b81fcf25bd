// Package traceheader reads and writes the X-Ray trace header,
// X-Amzn-Trace-Id ("Root=1-...;Parent=...;Sampled=1"), as the emulated
// services hand it on: API Gateway to its integration, Lambda's pollers to
// the function they invoke.
package traceheader

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// NewTraceID returns an X-Ray trace id: 1-<epoch seconds in hex>-<96 random bits>.
func NewTraceID() string {
	return fmt.Sprintf("1-%08x-%s", time.Now().Unix(), randomHex(12))
}

// NewSegmentID returns an X-Ray segment id: 64 random bits in hex.
func NewSegmentID() string { return randomHex(8) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Root returns the Root of a trace header, or "".
func Root(h string) string { return field(h, "Root=") }

// Parent returns the Parent of a trace header, or "".
func Parent(h string) string { return field(h, "Parent=") }

func field(h, prefix string) string {
	for part := range strings.SplitSeq(h, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), prefix); ok {
			return v
		}
	}
	return ""
}

// Invocation returns the trace header that Lambda hands an invocation
// caused by upstream (a header, or "" to start a trace): same root, a new
// segment for the function as parent, sampled.
func Invocation(upstream string) string {
	root := Root(upstream)
	if root == "" {
		root = NewTraceID()
	}
	return "Root=" + root + ";Parent=" + NewSegmentID() + ";Sampled=1"
}
