package cloudwatch

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Widget is one widget of a CloudWatch dashboard body, with what the local
// metrics have for it.
type Widget struct {
	Type     string `json:"type"` // metric, text, alarm...
	X        int    `json:"x"`
	Y        int    `json:"y"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Title    string `json:"title,omitempty"`
	Markdown string `json:"markdown,omitempty"`
	Lines    []Line `json:"lines,omitempty"`
	// Missing says, one sentence each, what of the widget the local cloud
	// cannot fill: metrics of AWS's services, alarms.
	Missing []string `json:"missing,omitempty"`
}

// Line is one metric of a widget, as points of Step.
type Line struct {
	Label  string  `json:"label"`
	Stat   string  `json:"stat"`
	Right  bool    `json:"right,omitempty"` // on the right axis
	Unit   string  `json:"unit,omitempty"`
	Points []Point `json:"points"`
}

// Point is a line's value in the Step from T.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Dashboard reads a dashboard body (the template's DashboardBody, resolved)
// and fills its metric widgets from the metrics the functions emitted:
// metrics of our namespace, named or found by SEARCH expressions. Metrics
// of AWS's own namespaces (AWS/Lambda, AWS/ApiGateway...) are not emitted
// locally, and the widget says so.
func (m *Metrics) Dashboard(body []byte) ([]Widget, error) {
	var b struct {
		Widgets []struct {
			Type                string
			X, Y, Width, Height int
			Properties          struct {
				Title    string
				Markdown string
				Stat     string
				Metrics  [][]any
			}
		}
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("dashboard body: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []Widget{}
	for _, w := range b.Widgets {
		wd := Widget{Type: w.Type, X: w.X, Y: w.Y, Width: w.Width, Height: w.Height, Title: w.Properties.Title, Markdown: w.Properties.Markdown}
		switch w.Type {
		case "text":
		case "metric":
			var prev []string
			for _, raw := range w.Properties.Metrics {
				names, opts := split(raw)
				if expr, _ := opts["expression"].(string); expr != "" {
					wd.Lines = append(wd.Lines, m.search(expr)...)
					continue
				}
				names = expand(names, prev)
				prev = names
				stat := cmpString(opts["stat"], w.Properties.Stat, "Average")
				if len(names) < 2 {
					continue
				}
				if strings.HasPrefix(names[0], "AWS/") {
					wd.Missing = appendOnce(wd.Missing, names[0]+" metrics are AWS's own; the local cloud does not emit them")
					continue
				}
				dims := map[string]string{}
				for i := 2; i+1 < len(names); i += 2 {
					dims[names[i]] = names[i+1]
				}
				l := m.line(names[0], names[1], dims, stat)
				l.Label = cmpString(opts["label"], names[1]+" "+stat)
				l.Right = opts["yAxis"] == "right"
				wd.Lines = append(wd.Lines, l)
			}
		default:
			wd.Missing = append(wd.Missing, "a widget of type "+w.Type+": the local cloud has no "+w.Type+"s to show")
		}
		out = append(out, wd)
	}
	return out, nil
}

// split parses a metric line of a dashboard: its strings, then its options.
func split(raw []any) ([]string, map[string]any) {
	var names []string
	opts := map[string]any{}
	for _, v := range raw {
		switch v := v.(type) {
		case string:
			names = append(names, v)
		case map[string]any:
			opts = v
		}
	}
	return names, opts
}

// expand resolves CloudWatch's shorthand against the line before: "." is
// the same item as above, a leading "..." every item above but the last
// ones given.
func expand(names, prev []string) []string {
	if len(names) > 0 && names[0] == "..." {
		rest := names[1:]
		if n := len(prev) - len(rest); n >= 0 {
			return append(slices.Clone(prev[:n]), rest...)
		}
		return rest
	}
	out := slices.Clone(names)
	for i, n := range out {
		if n == "." && i < len(prev) {
			out[i] = prev[i]
		}
	}
	return out
}

// line is the series of namespace and name with exactly dims, as stat.
func (m *Metrics) line(namespace, name string, dims map[string]string, stat string) Line {
	l := Line{Stat: stat, Points: []Point{}}
	for _, s := range m.series {
		if s.namespace == namespace && s.name == name && equalDims(s.dims, dims) {
			l.Unit = string(s.unit)
			l.Points = s.stat(stat)
		}
	}
	return l
}

var (
	searchSpace  = regexp.MustCompile(`\{([^,}]+)`)
	searchFilter = regexp.MustCompile(`(\w+)=\\?"([^"\\]*)\\?"`)
	searchStat   = regexp.MustCompile(`',\s*'(\w+)'`)
)

// search answers a SEARCH('{namespace,dims...} MetricName="X" dim="v"', 'Stat', period)
// expression: a line for each series of namespace that matches the filters.
func (m *Metrics) search(expr string) []Line {
	ns := searchSpace.FindStringSubmatch(expr)
	if ns == nil {
		return nil
	}
	filters := map[string]string{}
	for _, f := range searchFilter.FindAllStringSubmatch(expr, -1) {
		filters[f[1]] = f[2]
	}
	stat := "Sum"
	if s := searchStat.FindStringSubmatch(expr); s != nil {
		stat = s[1]
	}
	var out []Line
	for _, s := range m.series {
		if s.namespace != strings.TrimSpace(ns[1]) || (filters["MetricName"] != "" && s.name != filters["MetricName"]) {
			continue
		}
		ok := true
		var label []string
		for k, v := range s.dims {
			if want, set := filters[k]; set && want != v {
				ok = false
			} else if !set {
				label = append(label, k+"="+v)
			}
		}
		if ok {
			slices.Sort(label)
			out = append(out, Line{Label: s.name + " " + strings.Join(label, " "), Stat: stat, Unit: string(s.unit), Points: s.stat(stat)})
		}
	}
	slices.SortFunc(out, func(a, b Line) int { return strings.Compare(a.Label, b.Label) })
	return out
}

// stat returns the series' points as stat: Sum, SampleCount, Average,
// Minimum, Maximum or pNN.
func (s *series) stat(stat string) []Point {
	keys := make([]int64, 0, len(s.points))
	for k := range s.points {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Point, 0, len(keys))
	for _, k := range keys {
		b := s.points[k]
		var v float64
		switch stat {
		case "Sum":
			v = b.sum
		case "SampleCount":
			v = float64(b.n)
		case "Minimum":
			v = b.min
		case "Maximum":
			v = b.max
		case "Average":
			v = b.sum / float64(b.n)
		default:
			q, err := strconv.ParseFloat(strings.TrimPrefix(stat, "p"), 64)
			if err != nil {
				continue
			}
			sorted := slices.Clone(b.values)
			slices.Sort(sorted)
			v = quantile(sorted, q/100)
		}
		out = append(out, Point{T: time.Unix(0, k*int64(Step)).UTC(), V: v})
	}
	return out
}

func equalDims(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func cmpString(v any, defaults ...string) string {
	if s, ok := v.(string); ok && s != "" {
		return s
	}
	for _, d := range defaults {
		if d != "" {
			return d
		}
	}
	return ""
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
