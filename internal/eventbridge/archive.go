package eventbridge

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/internal/stack"
)

// Archive is an EventBridge archive of the template (AWS::Events::Archive):
// it keeps the events of its bus that match its pattern, for its retention.
type Archive struct {
	Name      string
	Bus       string         // the bus whose events it takes (its SourceArn's)
	Pattern   map[string]any // nil: every event of the bus
	Retention time.Duration  // 0: indefinitely, as RetentionDays 0 means
}

// archive is an Archive and the events it holds, oldest first.
type archive struct {
	Archive
	events []Event
}

// expired reports whether a no longer holds ev at now.
func (a *archive) expired(ev Event, now time.Time) bool {
	return a.Retention > 0 && now.Sub(ev.Received) > a.Retention
}

// archive keeps ev in each archive of its bus whose pattern it matches, and
// lets go of the events past their archive's retention. b.mu is held.
func (b *Bus) archive(ev Event) {
	now := b.now()
	for _, a := range b.archives {
		a.events = slices.DeleteFunc(a.events, func(e Event) bool { return a.expired(e, now) })
		if a.Bus == ev.Bus && (a.Pattern == nil || matches(a.Pattern, ev)) {
			a.events = append(a.events, ev)
		}
	}
}

// Archived returns a copy of the events that the archive named name holds
// now, oldest first; nil for an unknown archive.
func (b *Bus) Archived(name string) []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	for _, a := range b.archives {
		if a.Name == name {
			return slices.DeleteFunc(slices.Clone(a.events), func(e Event) bool { return a.expired(e, now) })
		}
	}
	return nil
}

// replayName is what EventBridge accepts as a replay's name.
var replayName = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)

// Replay sends the archived events that the bus received in [from, to)
// through the rules of their bus again, as EventBridge's StartReplay does:
// each as a new event (another id, received now; its time, source and detail
// unchanged) whose replay-name is name, matched against the rules as they
// are now, kept and told to the subscribers, but not archived again. Events
// go in the order they were received; one held by two archives goes once.
// It returns how many it sent.
func (b *Bus) Replay(name string, from, to time.Time) (int, error) {
	if !replayName.MatchString(name) {
		return 0, fmt.Errorf("replay name %q: 1 to 64 letters, digits, '.', '-' or '_'", name)
	}
	if !from.Before(to) {
		return 0, errors.New("the replay's start must be before its end")
	}
	b.mu.Lock()
	now := b.now()
	var todo []Event
	seen := map[string]bool{}
	for _, a := range b.archives {
		for _, e := range a.events {
			if !seen[e.ID] && !a.expired(e, now) && !e.Received.Before(from) && e.Received.Before(to) {
				seen[e.ID] = true
				todo = append(todo, e)
			}
		}
	}
	b.mu.Unlock()
	slices.SortStableFunc(todo, func(x, y Event) int { return x.Received.Compare(y.Received) })
	for _, e := range todo {
		e.ID, e.ReplayName, e.Received = uuid.NewString(), name, b.now()
		e.Resources = slices.Clone(e.Resources)
		e.Rules = b.matchingRules(e)
		b.publish(e, false)
	}
	return len(todo), nil
}

// Archives returns the EventBridge archives (AWS::Events::Archive) of a
// template, each on the bus its SourceArn names.
func Archives(s *stack.Stack) ([]Archive, error) {
	var out []Archive
	for _, id := range s.IDs("AWS::Events::Archive") {
		var p struct {
			ArchiveName   string
			SourceArn     string
			EventPattern  map[string]any
			RetentionDays int
		}
		if err := s.Decode(id, &p); err != nil {
			return nil, err
		}
		_, bus, ok := strings.Cut(p.SourceArn, ":event-bus/")
		if !ok {
			return nil, fmt.Errorf("%s: SourceArn %q is not an event bus's ARN", id, p.SourceArn)
		}
		name := p.ArchiveName
		if name == "" {
			name = id
		}
		out = append(out, Archive{Name: name, Bus: bus, Pattern: p.EventPattern, Retention: time.Duration(p.RetentionDays) * 24 * time.Hour})
	}
	return out, nil
}
