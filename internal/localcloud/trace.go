package localcloud

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// newTraceID returns an X-Ray trace id: 1-<epoch seconds in hex>-<96 random bits>.
func newTraceID() string {
	return fmt.Sprintf("1-%08x-%s", time.Now().Unix(), randomHex(12))
}

// newSegmentID returns an X-Ray segment id: 64 random bits in hex.
func newSegmentID() string { return randomHex(8) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// traceRoot returns the Root of a trace header, or "".
func traceRoot(h string) string {
	for _, part := range strings.Split(h, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Root="); ok {
			return v
		}
	}
	return ""
}

// invocationTrace returns the trace header that Lambda hands an invocation
// caused by upstream (a header, or "" to start a trace): same root, a new
// segment for the function as parent, sampled.
func invocationTrace(upstream string) string {
	root := traceRoot(upstream)
	if root == "" {
		root = newTraceID()
	}
	return "Root=" + root + ";Parent=" + newSegmentID() + ";Sampled=1"
}

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
