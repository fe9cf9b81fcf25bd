package cloudwatch

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/shared/metrics"
)

// TestTee reads the EMF lines that a function prints, among its other lines,
// and passes every line on unchanged.
func TestTee(t *testing.T) {
	m := NewMetrics()
	var logs bytes.Buffer
	w := m.Tee(&logs)

	for _, ms := range []int{30, 10, 20} {
		// The pools write a function's lines prefixed with its name.
		for l := range strings.SplitSeq(strings.TrimSpace(string(emf(t, ms))), "\n") {
			if _, err := w.Write([]byte("[IngestFunction] " + l + "\n")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.Write([]byte("[IngestFunction] an ordinary line {\"_aws\" is not JSON\n")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "an ordinary line") || strings.Count(logs.String(), "[IngestFunction] {") != 6 {
		t.Errorf("the lines did not pass on unchanged:\n%s", logs.String())
	}

	byName := map[string]Series{}
	for _, s := range m.Snapshot() {
		byName[s.Name] = s
	}
	accepted := byName[metrics.AcceptedWrites]
	if accepted.Namespace != metrics.Namespace || accepted.Sum != 3 || accepted.Samples != 3 ||
		accepted.Dimensions["operation"] != "create" || accepted.Dimensions["stage"] != "dev" {
		t.Errorf("AcceptedWrites: %+v", accepted)
	}
	latency := byName[metrics.EndToEndLatency]
	if latency.Unit != metrics.Milliseconds || latency.Min != 10 || latency.Max != 30 || latency.Average != 20 ||
		latency.P50 != 20 || latency.P99 != 30 {
		t.Errorf("EndToEndLatency: %+v", latency)
	}

	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/_local/metrics", nil))
	var body struct {
		Namespace string
		Metrics   []Series
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Namespace != metrics.Namespace || len(body.Metrics) != 2 {
		t.Errorf("GET /_local/metrics: %v %s", err, rec.Body)
	}
}

// emf returns the EMF lines of an invocation in stage dev that accepted one
// create and took ms milliseconds end to end.
func emf(t *testing.T, ms int) []byte {
	t.Helper()
	var lines bytes.Buffer
	rec := metrics.New(&lines, "dev")
	rec.Count(metrics.AcceptedWrites, 1, "operation", "create")
	rec.Duration(metrics.EndToEndLatency, time.Duration(ms)*time.Millisecond)
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	return lines.Bytes()
}

func TestQuantile(t *testing.T) {
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]float64{0.5: 5, 0.9: 9, 0.99: 10} {
		if got := quantile(sorted, q); got != want {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if quantile(nil, 0.5) != 0 {
		t.Error("the quantile of nothing is not 0")
	}
}
