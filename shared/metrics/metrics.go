// Package metrics writes CloudWatch metrics in the embedded metric format
// (EMF): JSON log lines that CloudWatch Logs turns into metrics, with no API
// call on the request's path. Every metric is in the namespace "usersapi" and
// carries the dimension "stage".
//
// A Recorder collects an invocation's metrics and Flush writes them, one line
// per set of dimensions, at the end of the invocation: counts are summed,
// other values (latencies) kept as arrays of up to 100, as the format allows.
//
// Written by hand: AWS publishes EMF libraries for Node, Python, Java and .NET
// but not for Go, and the community Go modules are not served by the Go
// module proxy this project builds from. The format is small and specified:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package metrics

import (
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "usersapi"

// Unit is a CloudWatch unit.
type Unit string

// The units this project uses.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// The metrics, by name: the template's alarms and dashboard use these names.
const (
	WriteRequests    = "WriteRequests"    // ingest: every write request it answered
	AcceptedWrites   = "AcceptedWrites"   // ingest: 202s (dimension operation)
	RejectedRequests = "RejectedRequests" // ingest and authorizer: refusals (dimension reason)
	ServerErrors     = "ServerErrors"     // ingest: 5xx answers
	WorkerOutcomes   = "WorkerOutcomes"   // worker: one per message (dimension outcome)
	EventsPublished  = "EventsPublished"  // stream
	EventsFailed     = "EventsFailed"     // stream: changes left for the stream to retry
	EndToEndLatency  = "EndToEndLatency"  // stream: from the 202 to the event's publication
	// AuthorizerFailures counts the tokens the authorizer could not judge
	// (the key set out of reach, a panic, its time running out): API Gateway
	// answers 500. Refusals are not failures; Lambda's Errors counts those
	// too (an authorizer answers 401 by failing with "Unauthorized"), so the
	// authorizer's alarms watch this metric. Recorded twice: with stage
	// alone, and with stage and version (the Lambda version that ran), for
	// the alarm that judges a deployment's new version.
	AuthorizerFailures = "AuthorizerFailures"
)

// maxValues is the most values one metric may have in one EMF line.
const maxValues = 100

// Recorder collects metrics until Flush. It is safe for concurrent use.
type Recorder struct {
	w     io.Writer
	stage string
	now   func() time.Time

	mu     sync.Mutex
	groups map[string]*group // by dimension names and values
	order  []string
}

// group is the metrics of one set of dimensions.
type group struct {
	dims    [][2]string // stage first
	units   map[string]Unit
	values  map[string][]float64
	metrics []string // in the order first recorded
}

// New returns a Recorder that writes to w (Lambda: os.Stdout) for stage.
func New(w io.Writer, stage string) *Recorder {
	if stage == "" {
		stage = "local"
	}
	return &Recorder{w: w, stage: stage, now: time.Now, groups: map[string]*group{}}
}

// Count adds n to the count name, with dims (name, value pairs) besides stage.
func (r *Recorder) Count(name string, n int, dims ...string) {
	r.add(name, Count, float64(n), dims)
}

// Duration records d, in milliseconds, as a value of name.
func (r *Recorder) Duration(name string, d time.Duration, dims ...string) {
	r.add(name, Milliseconds, float64(d.Microseconds())/1000, dims)
}

func (r *Recorder) add(name string, unit Unit, v float64, dims []string) {
	if r == nil {
		return
	}
	pairs := [][2]string{{"stage", r.stage}}
	for i := 0; i+1 < len(dims); i += 2 {
		pairs = append(pairs, [2]string{dims[i], dims[i+1]})
	}
	var key strings.Builder
	for _, p := range pairs {
		key.WriteString(p[0] + "\x00" + p[1] + "\x00")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.groups[key.String()]
	if !ok {
		g = &group{dims: pairs, units: map[string]Unit{}, values: map[string][]float64{}}
		r.groups[key.String()] = g
		r.order = append(r.order, key.String())
	}
	if _, ok := g.units[name]; !ok {
		g.units[name] = unit
		g.metrics = append(g.metrics, name)
	}
	vs := g.values[name]
	if unit == Count && len(vs) > 0 {
		vs[0] += v // counts are summed: one value per line
	} else {
		vs = append(vs, v)
	}
	g.values[name] = vs
}

// Flush writes what was recorded since the last Flush and forgets it.
func (r *Recorder) Flush() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	groups, order := r.groups, r.order
	r.groups, r.order = map[string]*group{}, nil
	r.mu.Unlock()
	ts := r.now().UnixMilli()
	for _, k := range order {
		g := groups[k]
		for {
			line, more := g.line(ts)
			if line == nil {
				break
			}
			if _, err := r.w.Write(line); err != nil {
				return err
			}
			if !more {
				break
			}
		}
	}
	return nil
}

// directive is the "_aws" member of an EMF line.
type directive struct {
	Timestamp         int64 `json:"Timestamp"`
	CloudWatchMetrics []struct {
		Namespace  string     `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []metric   `json:"Metrics"`
	} `json:"CloudWatchMetrics"`
}

type metric struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

// line makes one EMF line of at most maxValues values per metric, taking
// them out of g, and reports whether values are left for another line.
func (g *group) line(ts int64) ([]byte, bool) {
	doc := map[string]any{}
	var d directive
	d.Timestamp = ts
	d.CloudWatchMetrics = make([]struct {
		Namespace  string     `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []metric   `json:"Metrics"`
	}, 1)
	cw := &d.CloudWatchMetrics[0]
	cw.Namespace = Namespace
	names := make([]string, 0, len(g.dims))
	for _, p := range g.dims {
		names = append(names, p[0])
		doc[p[0]] = p[1]
	}
	cw.Dimensions = [][]string{names}
	more := false
	for _, name := range g.metrics {
		vs := g.values[name]
		if len(vs) == 0 {
			continue
		}
		n := min(len(vs), maxValues)
		cw.Metrics = append(cw.Metrics, metric{Name: name, Unit: g.units[name]})
		if n == 1 {
			doc[name] = vs[0]
		} else {
			doc[name] = slices.Clone(vs[:n])
		}
		g.values[name] = vs[n:]
		more = more || len(vs) > n
	}
	if len(cw.Metrics) == 0 {
		return nil, false
	}
	doc["_aws"] = d
	b, _ := json.Marshal(doc) // maps of strings and floats always marshal
	return append(b, '\n'), more
}

// Datum is one metric of an EMF line, as CloudWatch would extract it.
type Datum struct {
	Namespace string
	Name      string
	Unit      Unit
	Dims      map[string]string // the dimension set's names and values
	Values    []float64
	Time      time.Time
}

// Parse reads the metrics of an EMF line; ok is false when line is not one
// (an ordinary log line). The local cloud uses it to show the functions'
// metrics as CloudWatch would.
func Parse(line []byte) (data []Datum, ok bool) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(line, &doc) != nil || doc["_aws"] == nil {
		return nil, false
	}
	var d directive
	if json.Unmarshal(doc["_aws"], &d) != nil {
		return nil, false
	}
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(doc[k], &s)
		return s
	}
	for _, cw := range d.CloudWatchMetrics {
		for _, set := range cw.Dimensions {
			dims := map[string]string{}
			for _, k := range set {
				dims[k] = str(k)
			}
			for _, m := range cw.Metrics {
				var vs []float64
				if json.Unmarshal(doc[m.Name], &vs) != nil {
					var v float64
					if json.Unmarshal(doc[m.Name], &v) != nil {
						continue
					}
					vs = []float64{v}
				}
				data = append(data, Datum{Namespace: cw.Namespace, Name: m.Name, Unit: m.Unit, Dims: dims, Values: vs,
					Time: time.UnixMilli(d.Timestamp)})
			}
		}
	}
	return data, true
}
