package main

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// BenchmarkOverhead is BenchmarkHandler against BenchmarkBaselineDecode in one
// loop: each iteration times one bare decode and one full handler run (decode,
// Handle, encode), in turns, so that a noisy machine slows both alike. It
// reports handler-ns and decode-ns, the mean of the fastest 90% of each (the
// rest are runs another process interrupted), and x, the first over the
// second: the goal is at most 1.5. ns/op includes the timing itself.
func BenchmarkOverhead(b *testing.B) {
	raw := benchEvent(b)
	h := benchHandler(b, raw)
	ctx := context.Background()

	decode := func() {
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			b.Fatal(err)
		}
	}
	handle := func() { handleOnce(ctx, b, h, raw) }
	var decodeTimes, handleTimes []time.Duration
	timed := func(fn func(), times *[]time.Duration) {
		start := time.Now()
		fn()
		*times = append(*times, time.Since(start))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			timed(decode, &decodeTimes)
			timed(handle, &handleTimes)
		} else {
			timed(handle, &handleTimes)
			timed(decode, &decodeTimes)
		}
	}
	dm, hm := trimmedMean(decodeTimes, 0.9), trimmedMean(handleTimes, 0.9)
	b.ReportMetric(hm/dm, "x")
	b.ReportMetric(hm, "handler-ns")
	b.ReportMetric(dm, "decode-ns")
}

// trimmedMean is the mean of the fastest fraction keep of ds: the slowest runs
// are those the scheduler interrupted for another process.
func trimmedMean(ds []time.Duration, keep float64) float64 {
	slices.Sort(ds)
	n := max(1, int(float64(len(ds))*keep))
	var sum time.Duration
	for _, d := range ds[:n] {
		sum += d
	}
	return float64(sum) / float64(n)
}
