package xray

import (
	"cmp"
	"math"
	"sort"
	"strings"
)

// ServiceMap is the service graph of the traces kept: who called whom, how
// often, how fast, and how many of the calls failed.
type ServiceMap struct {
	Nodes   []MapNode `json:"nodes"`
	Edges   []MapEdge `json:"edges"`
	Traces  int       `json:"traces"`
	Dropped int       `json:"dropped"` // datagrams that were not segment documents
}

// MapNode is a service: the client, an API stage, a function, or an AWS
// service that a function called.
type MapNode struct {
	Name string `json:"name"`
	Type string `json:"type"` // "client", an origin (AWS::Lambda::Function), or AWS::<service>
	// Rank is the node's column when the map is drawn from left to right:
	// the length of the longest path to it from a node that nothing calls.
	Rank int `json:"rank"`
	Stats
}

// MapEdge is the calls of one service to another.
type MapEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Stats
}

// Stats sums up calls: for an edge, the calls along it, timed by the callee's
// segment or the caller's subsegment; for a node, the calls it served (the
// client: the calls it made).
type Stats struct {
	Count     int     `json:"count"`
	Errors    int     `json:"errors"`    // 4xx
	Faults    int     `json:"faults"`    // 5xx, function errors
	Throttles int     `json:"throttles"` // 429
	AvgMs     float64 `json:"avg_ms"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
}

// calls gathers the calls of an edge or a node before Stats sums them up.
type calls struct {
	durations                 []float64 // milliseconds
	errors, faults, throttles int
}

func (c *calls) add(s *Segment) {
	c.durations = append(c.durations, math.Max(0, (s.EndTime-s.StartTime)*1000))
	if s.Error {
		c.errors++
	}
	if s.Fault {
		c.faults++
	}
	if s.Throttle {
		c.throttles++
	}
}

func (c *calls) merge(o *calls) {
	c.durations = append(c.durations, o.durations...)
	c.errors, c.faults, c.throttles = c.errors+o.errors, c.faults+o.faults, c.throttles+o.throttles
}

func (c *calls) stats() Stats {
	s := Stats{Count: len(c.durations), Errors: c.errors, Faults: c.faults, Throttles: c.throttles}
	if s.Count == 0 {
		return s
	}
	d := append([]float64(nil), c.durations...)
	sort.Float64s(d)
	sum := 0.0
	for _, v := range d {
		sum += v
	}
	rank := func(p float64) float64 { return d[max(0, int(math.Ceil(p*float64(len(d))))-1)] }
	round := func(v float64) float64 { return math.Round(v*100) / 100 }
	s.AvgMs, s.P50Ms, s.P99Ms = round(sum/float64(len(d))), round(rank(0.50)), round(rank(0.99))
	return s
}

// Map computes the service map of the traces kept. A segment is called by
// the service that owns its parent (the client when it has none): a
// function's segment, though, by its event source (SQS, DynamoDB) when it has
// one, as Lambda's poller is what calls it. A subsegment in the "aws" or
// "remote" namespace is a call from the service that owns it to the service
// it names (DynamoDB, SQS, EventBridge).
func (x *Daemon) Map() ServiceMap {
	m := ServiceMap{Nodes: []MapNode{}, Edges: []MapEdge{}}
	if x == nil {
		return m
	}
	type edgeKey struct{ from, to string }
	edges := map[edgeKey]*calls{}
	types := map[string]string{"client": "client"}
	call := func(from, to string, s *Segment) {
		k := edgeKey{from, to}
		if edges[k] == nil {
			edges[k] = &calls{}
		}
		edges[k].add(s)
	}

	x.mu.Lock()
	m.Traces, m.Dropped = len(x.traces), x.dropped
	for _, t := range x.traces {
		for _, s := range t.segments {
			if s.InProgress || s.EndTime == 0 {
				continue
			}
			switch {
			case s.Type != "subsegment":
				types[s.Name] = cmp.Or(s.Origin, types[s.Name], "service")
				from := "client"
				if src, _ := s.AWS["event_source"].(string); src != "" {
					from = serviceOfSource(src)
					types[from] = cmp.Or(types[from], serviceType(from))
				} else if owner := t.owner(s.ParentID); owner != nil {
					from = owner.Name
				}
				call(from, s.Name, s)
			case s.Namespace == "aws" || s.Namespace == "remote":
				owner := t.owner(s.ParentID)
				if owner == nil {
					continue // its function's segment has not come (yet)
				}
				if s.Namespace == "aws" {
					types[s.Name] = cmp.Or(types[s.Name], serviceType(s.Name))
				} else {
					types[s.Name] = cmp.Or(types[s.Name], "remote")
				}
				call(owner.Name, s.Name, s)
			}
		}
	}
	x.mu.Unlock()

	served := map[string]*calls{}
	made := &calls{}
	for k, c := range edges {
		if served[k.to] == nil {
			served[k.to] = &calls{}
		}
		served[k.to].merge(c)
		if k.from == "client" {
			made.merge(c)
		}
		m.Edges = append(m.Edges, MapEdge{From: k.from, To: k.to, Stats: c.stats()})
	}
	served["client"] = made

	// Ranks: longest paths, relaxed at most once per node so that a cycle ends.
	rank := map[string]int{}
	for range types {
		for _, e := range m.Edges {
			if r := rank[e.From] + 1; r > rank[e.To] && r <= len(types) {
				rank[e.To] = r
			}
		}
	}
	for name, typ := range types {
		if name == "client" && len(made.durations) == 0 {
			continue
		}
		c := served[name]
		if c == nil {
			c = &calls{}
		}
		m.Nodes = append(m.Nodes, MapNode{Name: name, Type: typ, Rank: rank[name], Stats: c.stats()})
	}
	sort.Slice(m.Nodes, func(i, j int) bool {
		a, b := m.Nodes[i], m.Nodes[j]
		return a.Rank < b.Rank || a.Rank == b.Rank && a.Name < b.Name
	})
	sort.Slice(m.Edges, func(i, j int) bool {
		a, b := m.Edges[i], m.Edges[j]
		if rank[a.From] != rank[b.From] {
			return rank[a.From] < rank[b.From]
		}
		return a.From < b.From || a.From == b.From && a.To < b.To
	})
	return m
}

// owner returns the segment (not subsegment) that the segment or subsegment
// id belongs to, or nil when it is not in the trace.
func (t *kept) owner(id string) *Segment {
	for range maxSegments {
		s := t.segments[id]
		if s == nil || s.Type != "subsegment" {
			return s
		}
		id = s.ParentID
	}
	return nil
}

// serviceOfSource names the service of a Lambda event source as the SDK
// names it in its subsegments: aws:sqs is SQS, aws:dynamodb is DynamoDB.
func serviceOfSource(src string) string {
	switch s := strings.TrimPrefix(src, "aws:"); s {
	case "sqs", "sns":
		return strings.ToUpper(s)
	case "dynamodb":
		return "DynamoDB"
	case "kinesis":
		return "Kinesis"
	default:
		return s
	}
}

// serviceType is the X-Ray type of the node of an AWS service.
func serviceType(service string) string {
	switch service {
	case "DynamoDB":
		return "AWS::DynamoDB::Table"
	case "SQS":
		return "AWS::SQS::Queue"
	case "EventBridge":
		return "AWS::Events::EventBus"
	default:
		return "AWS::" + service
	}
}
