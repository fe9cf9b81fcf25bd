package cloudwatch

import (
	"bytes"
	"strings"
	"testing"
)

// TestDashboard fills a dashboard body like the template's from EMF lines:
// named metrics with CloudWatch's shorthand, a SEARCH expression, and the
// widgets the local cloud cannot fill saying so.
func TestDashboard(t *testing.T) {
	m := NewMetrics()
	w := m.Tee(&bytes.Buffer{})
	for _, ms := range []int{10, 20, 30, 40} {
		if _, err := w.Write(emf(t, ms)); err != nil {
			t.Fatal(err)
		}
	}
	body := `{"widgets": [
	  {"type": "text", "x": 0, "y": 0, "width": 24, "height": 1, "properties": {"markdown": "**usersapi**"}},
	  {"type": "metric", "x": 0, "y": 1, "width": 8, "height": 6, "properties": {"title": "Latency", "period": 60,
	    "metrics": [["usersapi", "EndToEndLatency", "stage", "dev", {"stat": "p50"}], ["...", {"stat": "Maximum", "yAxis": "right"}],
	                ["AWS/Lambda", "Errors", "FunctionName", "f"]]}},
	  {"type": "metric", "x": 8, "y": 1, "width": 8, "height": 6, "properties": {"title": "Writes", "period": 60,
	    "metrics": [[{"expression": "SEARCH('{usersapi,stage,operation} MetricName=\"AcceptedWrites\" stage=\"dev\"', 'Sum', 60)", "id": "a"}]]}},
	  {"type": "alarm", "x": 16, "y": 1, "width": 8, "height": 6, "properties": {"title": "Alarms", "alarms": ["arn"]}}
	]}`
	ws, err := m.Dashboard([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 4 || ws[0].Markdown != "**usersapi**" {
		t.Fatalf("widgets %+v", ws)
	}
	lat := ws[1]
	if len(lat.Lines) != 2 || lat.Lines[0].Stat != "p50" || lat.Lines[1].Stat != "Maximum" || !lat.Lines[1].Right {
		t.Fatalf("latency lines %+v", lat.Lines)
	}
	var p50, maxV float64
	for _, p := range lat.Lines[0].Points {
		p50 = max(p50, p.V)
	}
	for _, p := range lat.Lines[1].Points {
		maxV = max(maxV, p.V)
	}
	if len(lat.Lines[0].Points) == 0 || p50 < 20 || p50 > 30 || maxV != 40 {
		t.Errorf("latency points: p50 %v, max %v (%+v)", p50, maxV, lat.Lines)
	}
	if len(lat.Missing) != 1 || !strings.Contains(lat.Missing[0], "AWS/Lambda") {
		t.Errorf("missing %v", lat.Missing)
	}
	writes := ws[2]
	sum := 0.0
	if len(writes.Lines) == 1 {
		for _, p := range writes.Lines[0].Points {
			sum += p.V
		}
	}
	if len(writes.Lines) != 1 || writes.Lines[0].Label != "AcceptedWrites operation=create" || sum != 4 {
		t.Errorf("SEARCH lines %+v", writes.Lines)
	}
	if len(ws[3].Missing) != 1 || !strings.Contains(ws[3].Missing[0], "alarm") {
		t.Errorf("the alarm widget: %+v", ws[3])
	}
}
