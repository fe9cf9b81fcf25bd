package apigw_test

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
)

func TestPreferWait(t *testing.T) {
	tests := []struct {
		prefer string
		want   int
	}{
		{"wait=5", 5},
		{"Wait = 5", 5},
		{`wait="7"`, 7},
		{"respond-async, wait=3", 3},
		{"wait=3; foo=bar", 3},
		{"return=minimal,wait=2", 2},
		{"wait=10", apigw.MaxWaitSeconds},
		{"wait=600", apigw.MaxWaitSeconds},                  // longer than the cap: the cap
		{"wait=99999999999999999999", apigw.MaxWaitSeconds}, // too long for an int: the cap
		{"wait=1, wait=9", 1},                               // the first counts (RFC 7240)
		{"wait=0", 0},
		{"wait", 0},
		{"wait=", 0},
		{"wait=soon", 0},
		{"wait=-1", 0},
		{"wait=1.5", 0},
		{"wait=+2", 0},
		{"respond-async", 0},
		{"handling=lenient", 0},
		{"waiting=4", 0},
		{"", 0},
	}
	for _, tt := range tests {
		req := events.APIGatewayProxyRequest{Headers: map[string]string{"prefer": tt.prefer}}
		if got := apigw.PreferWait(&req); got != tt.want {
			t.Errorf("Prefer: %s: %d, want %d", tt.prefer, got, tt.want)
		}
	}
	if got := apigw.PreferWait(&events.APIGatewayProxyRequest{}); got != 0 {
		t.Errorf("no Prefer: %d", got)
	}
	// Two Prefer headers are one list (RFC 9110, 5.3).
	req := events.APIGatewayProxyRequest{MultiValueHeaders: map[string][]string{"Prefer": {"respond-async", "wait=4"}}}
	if got := apigw.PreferWait(&req); got != 4 {
		t.Errorf("two Prefer headers: %d, want 4", got)
	}
	if got := apigw.PreferenceApplied(4); got != "wait=4" {
		t.Errorf("Preference-Applied %q", got)
	}
}
