// Package eventpattern matches documents against event patterns, the
// language of EventBridge rules and of Lambda's event filtering.
package eventpattern

import (
	"fmt"
	"strings"
)

// Match reports whether doc matches pattern: every key names a field whose
// value is one of the listed values, or satisfies one of the listed
// {"prefix"}, {"exists"} or {"anything-but"} matchers; nested objects match
// nested patterns. Numeric matchers are not supported: the template uses none.
func Match(pattern, doc map[string]any) bool {
	for k, want := range pattern {
		got, present := doc[k]
		switch w := want.(type) {
		case map[string]any:
			sub, isMap := got.(map[string]any)
			if !present || !isMap || !Match(w, sub) {
				return false
			}
		case []any:
			if !matchAny(w, got, present) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func matchAny(matchers []any, v any, present bool) bool {
	for _, m := range matchers {
		if obj, ok := m.(map[string]any); ok {
			if p, ok := obj["prefix"].(string); ok && present && strings.HasPrefix(fmt.Sprint(v), p) {
				return true
			}
			if e, ok := obj["exists"].(bool); ok && e == present {
				return true
			}
			if but, ok := obj["anything-but"]; ok && present {
				list, isList := but.([]any)
				if !isList {
					list = []any{but}
				}
				if !matchAny(list, v, true) {
					return true
				}
			}
			continue
		}
		if present && fmt.Sprint(m) == fmt.Sprint(v) {
			return true
		}
	}
	return false
}
