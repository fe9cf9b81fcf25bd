package cloudwatch

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/usersapi/usersapi/shared/metrics"
)

// Metrics is the local CloudWatch of the functions' embedded-format metrics:
// it reads the EMF lines that the functions print (the log lines pass on
// unchanged, as CloudWatch Logs keeps them) and keeps, per metric and set
// of dimensions, the count, sum, minimum, maximum and recent values.
type Metrics struct {
	mu     sync.Mutex
	series map[string]*series
}

// keep is how many recent values of a series the percentiles are taken from.
const keep = 10000

type series struct {
	namespace, name string
	unit            metrics.Unit
	dims            map[string]string
	samples         int
	sum, min, max   float64
	recent          []float64 // the last keep values, oldest first
	last            time.Time
	points          map[int64]*bucket // by Step since the epoch: what the dashboard draws
}

// Step is the period of the points the local dashboard draws: shorter than
// the template's minute, since a local run is short.
const Step = 10 * time.Second

// bucket is one Step of a series.
type bucket struct {
	n             int
	sum, min, max float64
	values        []float64 // at most keepInBucket, for the percentiles
}

const keepInBucket = 1000

// Series is one metric with one set of dimensions, as GET /_local/metrics
// shows it. For counts, Sum is the total; for durations, the percentiles are
// of the last 10,000 values.
type Series struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Dimensions map[string]string `json:"dimensions"`
	Unit       metrics.Unit      `json:"unit"`
	Samples    int               `json:"samples"`
	Sum        float64           `json:"sum"`
	Min        float64           `json:"min"`
	Max        float64           `json:"max"`
	Average    float64           `json:"average"`
	P50        float64           `json:"p50"`
	P90        float64           `json:"p90"`
	P99        float64           `json:"p99"`
	Last       time.Time         `json:"lastReported"`
}

// NewMetrics returns an empty store.
func NewMetrics() *Metrics { return &Metrics{series: map[string]*series{}} }

// Tee returns a writer that passes every write on to next and reads the EMF
// lines among them. The function pools write one line per call, prefixed with
// the function's name in brackets.
func (m *Metrics) Tee(next io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		for line := range bytes.SplitSeq(p, []byte("\n")) {
			if i := bytes.IndexByte(line, '{'); i >= 0 && bytes.Contains(line, []byte(`"_aws"`)) {
				if data, ok := metrics.Parse(line[i:]); ok {
					m.add(data)
				}
			}
		}
		return next.Write(p)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (m *Metrics) add(data []metrics.Datum) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range data {
		keys := make([]string, 0, len(d.Dims))
		for k := range d.Dims {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		id := d.Namespace + "\x00" + d.Name
		for _, k := range keys {
			id += "\x00" + k + "=" + d.Dims[k]
		}
		s, ok := m.series[id]
		if !ok {
			s = &series{namespace: d.Namespace, name: d.Name, unit: d.Unit, dims: d.Dims, min: math.Inf(1), max: math.Inf(-1), points: map[int64]*bucket{}}
			m.series[id] = s
		}
		for _, v := range d.Values {
			s.samples++
			s.sum += v
			s.min, s.max = min(s.min, v), max(s.max, v)
			s.recent = append(s.recent, v)
			s.point(d.Time, v)
		}
		if over := len(s.recent) - keep; over > 0 {
			s.recent = slices.Delete(s.recent, 0, over)
		}
		s.last = d.Time
	}
}

// point adds v to the bucket of t.
func (s *series) point(t time.Time, v float64) {
	if t.IsZero() {
		t = time.Now()
	}
	k := t.UnixNano() / int64(Step)
	b, ok := s.points[k]
	if !ok {
		b = &bucket{min: v, max: v}
		s.points[k] = b
	}
	b.n++
	b.sum += v
	b.min, b.max = min(b.min, v), max(b.max, v)
	if len(b.values) < keepInBucket {
		b.values = append(b.values, v)
	} else {
		b.values[rand.IntN(keepInBucket)] = v // a sample, for the percentiles
	}
}

// Snapshot returns every series, ordered by namespace, name and dimensions.
func (m *Metrics) Snapshot() []Series {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Series, 0, len(m.series))
	for _, s := range m.series {
		sorted := slices.Clone(s.recent)
		slices.Sort(sorted)
		out = append(out, Series{Namespace: s.namespace, Name: s.name, Dimensions: s.dims, Unit: s.unit,
			Samples: s.samples, Sum: s.sum, Min: s.min, Max: s.max, Average: s.sum / float64(max(s.samples, 1)),
			P50: quantile(sorted, 0.5), P90: quantile(sorted, 0.9), P99: quantile(sorted, 0.99), Last: s.last})
	}
	slices.SortFunc(out, func(a, b Series) int {
		return strings.Compare(a.Namespace+a.Name+dimString(a.Dimensions), b.Namespace+b.Name+dimString(b.Dimensions))
	})
	return out
}

func dimString(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + d[k] + ",")
	}
	return b.String()
}

// quantile is the nearest-rank quantile of sorted values (0 for none).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(math.Ceil(q*float64(len(sorted))))-1]
}

// ServeHTTP answers GET /_local/metrics: every series as JSON.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"namespace": metrics.Namespace, "metrics": m.Snapshot()})
}
