package localcloud_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// BenchmarkWriteWait: POST /users with Prefer: wait=10 → 201 with the user,
// one write at a time: the time a client waits for the outcome in one call,
// to set beside BenchmarkWrite's → 202 and → succeeded (polled). Reports p50
// and p99.
func BenchmarkWriteWait(b *testing.B) {
	c := cloudtest.Cloud(b)
	var waited []time.Duration
	for b.Loop() {
		req, _ := http.NewRequest("POST", c.URL+"/users", strings.NewReader(`{"name":"Bench","email":"`+email()+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Prefer", "wait=10")
		start := time.Now()
		resp, err := authed(b, c, req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("POST with Prefer: wait=10: %d, want 201", resp.StatusCode)
		}
		waited = append(waited, time.Since(start))
	}
	b.ReportMetric(percentile(waited, 0.5), "201-p50-ms")
	b.ReportMetric(percentile(waited, 0.99), "201-p99-ms")
}
