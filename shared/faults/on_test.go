//go:build faultinject

package faults

import "testing"

func TestParse(t *testing.T) {
	r, err := parse("dynamodb.throttle=0.1, eventbridge.fail_entry=1")
	if err != nil || r["dynamodb.throttle"] != 0.1 || r["eventbridge.fail_entry"] != 1 {
		t.Fatalf("%v %v", r, err)
	}
	for _, bad := range []string{"x", "a=2", "a=-1", "a=b"} {
		if _, err := parse(bad); err == nil {
			t.Errorf("parse(%q) accepted", bad)
		}
	}
}
