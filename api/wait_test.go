package api_test

import (
	"strings"
	"testing"
)

// Every operation that honours Prefer: wait (the writes, which IngestFunction
// answers, and the request's status) declares the header, and its integration
// waits for the function as long as API Gateway can (29 s): longer than the
// function's timeout, which holds the longest wait (internal/stack's
// TestTimeoutsHoldPreferWait).
func TestWaitFitsTheIntegration(t *testing.T) {
	doc := document(t)
	waiting := 0
	for _, o := range operations(t, doc) {
		in := integration(o)
		if in == nil || in["type"] == "mock" {
			continue
		}
		if !strings.Contains(subString(in["uri"]), "IngestFunction") && o.path != "/requests/{requestId}" || o.method == "options" {
			continue
		}
		waiting++
		if ms, _ := in["timeoutInMillis"].(int); ms != 29000 {
			t.Errorf("%s %s: timeoutInMillis %v, want 29000", o.method, o.path, in["timeoutInMillis"])
		}
		declared := false
		params, _ := o.op["parameters"].([]any)
		for _, p := range params {
			if resolve(doc, p)["name"] == "Prefer" {
				declared = true
			}
		}
		if !declared {
			t.Errorf("%s %s: no Prefer parameter", o.method, o.path)
		}
	}
	if waiting != 6 {
		t.Errorf("%d operations honour Prefer: wait, want 6 (POST, PUT, PATCH, DELETE; GET and HEAD /requests/{requestId})", waiting)
	}
}
