package eventbridge

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/internal/eventpattern"
	"github.com/usersapi/usersapi/internal/stack"
)

// Event is an event that the local EventBridge accepted, in the shape that
// EventBridge delivers to its targets.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
	ReplayName string          `json:"replay-name,omitempty"` // the replay that sent it again from an archive (EventBridge's replay-name); empty as put
	Bus        string          `json:"-"`
	Rules      []string        `json:"-"` // the template's rules that matched it
	Trace      string          `json:"-"`
	Received   time.Time       `json:"-"` // when the bus accepted it, to the nanosecond (Time has seconds)
}

// Bus is the local EventBridge: it speaks the AWS JSON 1.1 protocol of
// PutEvents, which the SDK's client sends, keeps every event, notes which
// of the template's rules each one matched, and archives those its archives
// take, for Replay.
type Bus struct {
	mu       sync.Mutex
	events   []Event
	rules    []Rule
	archives []*archive
	subs     map[chan Event]bool
	now      func() time.Time
}

// Rule is an EventBridge rule of the template: a bus, a pattern, targets.
type Rule struct {
	Name    string
	Bus     string
	Pattern map[string]any
	Targets []string
}

// NewBus returns an empty bus with the template's rules and archives.
func NewBus(rules []Rule, archives ...Archive) *Bus {
	b := &Bus{rules: rules, subs: map[chan Event]bool{}, now: time.Now}
	for _, a := range archives {
		b.archives = append(b.archives, &archive{Archive: a})
	}
	return b
}

// Events returns a copy of every event accepted so far.
func (b *Bus) Events() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Event(nil), b.events...)
}

// Subscribe returns a channel that receives each event accepted from now on,
// and a function that ends the subscription.
func (b *Bus) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	b.mu.Lock()
	b.subs[ch] = true
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

type putEntry struct {
	Source       string
	DetailType   string
	Detail       string
	EventBusName string
	Resources    []string
	Time         *float64 // epoch seconds, as the JSON protocol sends timestamps
	TraceHeader  string
}

type putResult struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// ServeHTTP answers PutEvents; other operations get UnknownOperationException.
func (b *Bus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if target != "AWSEvents.PutEvents" {
		awsError(w, http.StatusBadRequest, "UnknownOperationException", "the local EventBridge answers PutEvents only, not "+target)
		return
	}
	var in struct{ Entries []putEntry }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		awsError(w, http.StatusBadRequest, "ValidationException", "the request is not valid JSON")
		return
	}
	if len(in.Entries) == 0 || len(in.Entries) > 10 {
		awsError(w, http.StatusBadRequest, "ValidationException", "PutEvents takes 1 to 10 entries")
		return
	}
	out := struct {
		FailedEntryCount int
		Entries          []putResult
	}{}
	for _, e := range in.Entries {
		res, ev := b.accept(e)
		if res.ErrorCode != "" {
			out.FailedEntryCount++
		} else {
			b.publish(ev, true)
		}
		out.Entries = append(out.Entries, res)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func (b *Bus) accept(e putEntry) (putResult, Event) {
	if e.Source == "" || e.DetailType == "" || !json.Valid([]byte(e.Detail)) {
		return putResult{ErrorCode: "MalformedDetail", ErrorMessage: "Source, DetailType and a JSON Detail are required"}, Event{}
	}
	bus := e.EventBusName
	if i := strings.LastIndex(bus, "/"); i >= 0 {
		bus = bus[i+1:]
	}
	if bus == "" {
		bus = "default"
	}
	now := b.now()
	ev := Event{Version: "0", ID: uuid.NewString(), DetailType: e.DetailType, Source: e.Source, Account: stack.Account,
		Time: now.UTC().Truncate(time.Second), Region: stack.Region, Resources: e.Resources, Detail: json.RawMessage(e.Detail),
		Bus: bus, Trace: e.TraceHeader, Received: now}
	if ev.Resources == nil {
		ev.Resources = []string{}
	}
	if e.Time != nil {
		ev.Time = time.Unix(int64(*e.Time), 0).UTC()
	}
	ev.Rules = b.matchingRules(ev)
	return putResult{EventID: ev.ID}, ev
}

// matchingRules returns the names of the rules of ev's bus that ev matches.
func (b *Bus) matchingRules(ev Event) []string {
	var names []string
	for _, rule := range b.rules {
		if rule.Bus == ev.Bus && matches(rule.Pattern, ev) {
			names = append(names, rule.Name)
		}
	}
	return names
}

// publish keeps ev, archives it in the archives that take it (unless
// toArchive is false: a replayed event is not archived again) and tells the
// subscribers.
func (b *Bus) publish(ev Event, toArchive bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, ev)
	if toArchive {
		b.archive(ev)
	}
	for ch := range b.subs {
		select {
		case ch <- ev:
		default: // a slow page misses an update; GET /_local/events has them all
		}
	}
}

// matches reports whether ev matches an EventBridge pattern.
func matches(pattern map[string]any, ev Event) bool {
	var doc map[string]any
	b, _ := json.Marshal(ev)
	_ = json.Unmarshal(b, &doc)
	return eventpattern.Match(pattern, doc)
}

// awsError writes an error of the AWS JSON protocol.
func awsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// Rules returns the EventBridge rules (AWS::Events::Rule) of a template.
func Rules(s *stack.Stack) ([]Rule, error) {
	var rules []Rule
	for _, id := range s.IDs("AWS::Events::Rule") {
		var p struct {
			EventBusName string
			EventPattern map[string]any
			Targets      []struct{ Id string }
		}
		if err := s.Decode(id, &p); err != nil {
			return nil, err
		}
		r := Rule{Name: id, Bus: cmp.Or(p.EventBusName, "default"), Pattern: p.EventPattern}
		for _, t := range p.Targets {
			r.Targets = append(r.Targets, t.Id)
		}
		rules = append(rules, r)
	}
	return rules, nil
}
