package metrics

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFlushWritesOneEMFLinePerDimensionSet(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "dev")
	r.now = func() time.Time { return time.UnixMilli(1700000000123) }
	r.Count(AcceptedWrites, 1, "operation", "create")
	r.Count(AcceptedWrites, 2, "operation", "create")
	r.Count(AcceptedWrites, 1, "operation", "delete")
	r.Count(WriteRequests, 1)
	r.Duration(EndToEndLatency, 250*time.Millisecond)
	r.Duration(EndToEndLatency, 1500*time.Microsecond)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines (create, delete, stage alone), got %d:\n%s", len(lines), buf.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	aws := first["_aws"].(map[string]any)
	if aws["Timestamp"].(float64) != 1700000000123 {
		t.Errorf("Timestamp %v", aws["Timestamp"])
	}
	cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if cw["Namespace"] != "usersapi" {
		t.Errorf("Namespace %v", cw["Namespace"])
	}
	if dims, _ := json.Marshal(cw["Dimensions"]); string(dims) != `[["stage","operation"]]` {
		t.Errorf("Dimensions %s", dims)
	}
	if first["stage"] != "dev" || first["operation"] != "create" || first[AcceptedWrites] != 3.0 {
		t.Errorf("line %s: want stage dev, operation create, AcceptedWrites 3 (summed)", lines[0])
	}

	data, ok := Parse([]byte(lines[2]))
	if !ok || len(data) != 2 {
		t.Fatalf("Parse(%s) = %v, %v", lines[2], data, ok)
	}
	if data[0].Name != WriteRequests || data[0].Values[0] != 1 || data[0].Unit != Count {
		t.Errorf("%+v", data[0])
	}
	if data[1].Name != EndToEndLatency || data[1].Unit != Milliseconds || len(data[1].Values) != 2 ||
		data[1].Values[0] != 250 || data[1].Values[1] != 1.5 {
		t.Errorf("%+v: want the two latencies in ms", data[1])
	}
	if data[1].Dims["stage"] != "dev" || len(data[1].Dims) != 1 {
		t.Errorf("dims %v", data[1].Dims)
	}

	// Flush forgets: a second Flush writes nothing.
	buf.Reset()
	_ = r.Flush()
	if buf.Len() != 0 {
		t.Errorf("second Flush wrote %s", buf.String())
	}
}

// More than 100 values of one metric go on several lines, as EMF requires.
func TestFlushSplitsAt100Values(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "prod")
	for i := range 250 {
		r.Duration(EndToEndLatency, time.Duration(i)*time.Millisecond)
	}
	r.Count(EventsPublished, 250)
	_ = r.Flush()
	var total, lines int
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		data, ok := Parse([]byte(l))
		if !ok {
			t.Fatalf("not EMF: %s", l)
		}
		lines++
		for _, d := range data {
			if d.Name == EndToEndLatency {
				if len(d.Values) > 100 {
					t.Errorf("%d values on one line", len(d.Values))
				}
				total += len(d.Values)
			}
		}
	}
	if lines != 3 || total != 250 {
		t.Errorf("%d lines, %d values: want 3 lines, 250 values", lines, total)
	}
}

func TestParseIgnoresOrdinaryLogLines(t *testing.T) {
	for _, l := range []string{`{"level":"INFO","message":"accepted"}`, `not json`, `{"_aws":5}`, ``} {
		if _, ok := Parse([]byte(l)); ok {
			t.Errorf("Parse(%q) took it for EMF", l)
		}
	}
}

func TestNilRecorderIsANoOp(t *testing.T) {
	var r *Recorder
	r.Count(AcceptedWrites, 1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentUse(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "dev")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				r.Count(WorkerOutcomes, 1, "outcome", "applied")
			}
		}()
	}
	wg.Wait()
	_ = r.Flush()
	data, _ := Parse(bytes.TrimSpace(buf.Bytes()))
	if len(data) != 1 || data[0].Values[0] != 800 {
		t.Errorf("%+v: want 800", data)
	}
}
