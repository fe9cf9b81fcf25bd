// Package metricstest reads what a metrics.Recorder wrote, for tests.
package metricstest

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/shared/metrics"
)

// Recorder returns a metrics.Recorder for the stage "dev" and the buffer it
// writes its EMF lines to, for Totals.
func Recorder() (*metrics.Recorder, *bytes.Buffer) {
	var out bytes.Buffer
	return metrics.New(&out, "dev"), &out
}

// Totals sums the values of every metric in out (EMF lines), by name and the
// values of its dimensions other than stage ("AcceptedWrites/create"), failing
// t on a line that is not EMF or a metric without the stage dimension.
func Totals(t testing.TB, out []byte) map[string]float64 {
	t.Helper()
	m := map[string]float64{}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		data, ok := metrics.Parse(line)
		if !ok {
			t.Fatalf("not an EMF line: %s", line)
		}
		for _, d := range data {
			if d.Dims["stage"] == "" {
				t.Errorf("%s has no stage dimension: %v", d.Name, d.Dims)
			}
			var names []string
			for k := range d.Dims {
				if k != "stage" {
					names = append(names, k)
				}
			}
			slices.Sort(names)
			key := []string{d.Name}
			for _, k := range names {
				key = append(key, d.Dims[k])
			}
			for _, v := range d.Values {
				m[strings.Join(key, "/")] += v
			}
		}
	}
	return m
}
