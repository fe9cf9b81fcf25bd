package traceheader

import (
	"regexp"
	"testing"
)

func TestHeader(t *testing.T) {
	h := "Root=1-5759e988-bd862e3fe1be46a994272793; Parent=53995c3f42cd8ad8;Sampled=1"
	if got := Root(h); got != "1-5759e988-bd862e3fe1be46a994272793" {
		t.Errorf("Root = %q", got)
	}
	if got := Parent(h); got != "53995c3f42cd8ad8" {
		t.Errorf("Parent = %q", got)
	}
	if Root("") != "" || Parent("Root=1-2-3") != "" {
		t.Error("a missing field is not empty")
	}
}

func TestInvocation(t *testing.T) {
	valid := regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$`)
	up := "Root=" + NewTraceID() + ";Parent=" + NewSegmentID() + ";Sampled=1"
	got := Invocation(up)
	if !valid.MatchString(got) || Root(got) != Root(up) || Parent(got) == Parent(up) {
		t.Errorf("Invocation(%q) = %q: same root, a new parent", up, got)
	}
	if fresh := Invocation(""); !valid.MatchString(fresh) {
		t.Errorf("Invocation(\"\") = %q: a new trace", fresh)
	}
}
