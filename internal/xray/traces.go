package xray

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// TraceSummary is a trace as the list of traces shows it.
type TraceSummary struct {
	ID         string    `json:"id"`
	Start      time.Time `json:"start"`
	DurationMs float64   `json:"duration_ms"`
	Entry      string    `json:"entry"` // the name of the first segment
	// Method, URL and Status are the API request's, when an API stage began the trace.
	Method   string   `json:"method,omitempty"`
	URL      string   `json:"url,omitempty"`
	Status   int      `json:"status,omitempty"`
	Error    bool     `json:"error"` // some segment or subsegment failed
	Fault    bool     `json:"fault"` // some segment or subsegment faulted
	Services []string `json:"services"`
	// Annotations are those of all the trace's (sub)segments: user_id,
	// request_id, operation, outcome.
	Annotations  map[string][]string `json:"annotations"`
	SegmentCount int                 `json:"segment_count"` // segments and subsegments
}

// Trace is one trace with all its segments and subsegments, flattened, in
// the order they started; ParentID makes the tree.
type Trace struct {
	TraceSummary
	Segments []Segment `json:"segments"`
}

// Traces returns the traces kept, newest first, that have every annotation
// of match (key: value; an empty value matches any).
func (x *Daemon) Traces(match map[string]string) []TraceSummary {
	out := []TraceSummary{}
	if x == nil {
		return out
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := len(x.order) - 1; i >= 0; i-- {
		sum := x.traces[x.order[i]].summary()
		if sum.has(match) {
			out = append(out, sum)
		}
	}
	return out
}

// Trace returns the trace with id, if it is kept.
func (x *Daemon) Trace(id string) (Trace, bool) {
	if x == nil {
		return Trace{}, false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	t := x.traces[id]
	if t == nil {
		return Trace{}, false
	}
	out := Trace{TraceSummary: t.summary()}
	for _, s := range t.sorted() {
		out.Segments = append(out.Segments, *s)
	}
	return out, true
}

func (t *kept) sorted() []*Segment {
	all := make([]*Segment, 0, len(t.segments))
	for _, s := range t.segments {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].StartTime != all[j].StartTime {
			return all[i].StartTime < all[j].StartTime
		}
		return all[i].ID < all[j].ID
	})
	return all
}

func (t *kept) summary() TraceSummary {
	sum := TraceSummary{ID: t.id, Annotations: map[string][]string{}, Services: []string{}, SegmentCount: len(t.segments)}
	var start, end float64
	seen := map[string]bool{}
	for _, s := range t.sorted() {
		if start == 0 || s.StartTime < start {
			start = s.StartTime
		}
		end = max(end, s.EndTime, s.StartTime)
		sum.Error = sum.Error || s.Error || s.Throttle
		sum.Fault = sum.Fault || s.Fault
		service := s.Type != "subsegment" || s.Namespace == "aws" || s.Namespace == "remote"
		if service && !seen[s.Name] {
			seen[s.Name] = true
			sum.Services = append(sum.Services, s.Name)
		}
		if s.Type != "subsegment" && sum.Entry == "" && t.segments[s.ParentID] == nil {
			sum.Entry = s.Name
			if s.Origin == OriginAPIGateway && s.HTTP != nil && s.HTTP.Request != nil {
				sum.Method, sum.URL = s.HTTP.Request.Method, s.HTTP.Request.URL
				if s.HTTP.Response != nil {
					sum.Status = s.HTTP.Response.Status
				}
			}
		}
		for k, v := range s.Annotations {
			val := fmt.Sprint(v)
			if !slices.Contains(sum.Annotations[k], val) {
				sum.Annotations[k] = append(sum.Annotations[k], val)
			}
		}
	}
	sum.Start = time.Unix(0, int64(start*1e9)).UTC()
	sum.DurationMs = math.Round((end-start)*1000*100) / 100
	return sum
}

func (s TraceSummary) has(match map[string]string) bool {
	for k, v := range match {
		vals, ok := s.Annotations[k]
		if !ok || v != "" && !slices.Contains(vals, v) {
			return false
		}
	}
	return true
}
