package stack

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestSafeDeployments: every function the API, the queue or the stream
// invokes is published behind the alias "live" and shifted to it by CodeDeploy
// (canary in prod, all at once in dev) with alarms that roll it back; the
// API's integrations, its authorizer and the invoke permissions all name the
// alias, so that a canary really takes 10 % of the traffic.
func TestSafeDeployments(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		s := loadTemplate(t, stage)
		var globals struct {
			DeploymentPreference struct{ Type string }
		}
		b, _ := json.Marshal(s.globals["Function"])
		_ = json.Unmarshal(b, &globals)
		want := map[string]string{"dev": "AllAtOnce", "prod": "Canary10Percent5Minutes"}[stage]
		if globals.DeploymentPreference.Type != want {
			t.Errorf("%s: deployment type %q, want %s", stage, globals.DeploymentPreference.Type, want)
		}
		fns := functionsOf(t, s)
		for id, fn := range fns {
			if fn.Alias != "live" {
				t.Errorf("%s has alias %q, want live", id, fn.Alias)
			}
			if id == "DocsFunction" {
				continue // static pages: nothing to measure a canary by
			}
			var p struct{ DeploymentPreference struct{ Alarms []string } }
			_ = s.Decode(id, &p)
			if len(p.DeploymentPreference.Alarms) == 0 {
				t.Errorf("%s: no alarm rolls its deployment back", id)
			}
			for _, a := range p.DeploymentPreference.Alarms {
				if r := s.Resources[a]; r == nil || r.Type != "AWS::CloudWatch::Alarm" {
					t.Errorf("%s: rollback alarm %s is not an alarm of the template", id, a)
				}
			}
		}
	}

	s := loadTemplate(t, "prod")
	for _, id := range s.IDs("AWS::Lambda::Permission") {
		var p struct{ FunctionName string }
		_ = s.Decode(id, &p)
		if !strings.HasSuffix(p.FunctionName, ":live") {
			t.Errorf("%s grants %q, not the alias live", id, p.FunctionName)
		}
	}
	doc, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := s.ResolveDocument(doc)
	if err != nil {
		t.Fatal(err)
	}
	uris := regexp.MustCompile(`"(?:uri|authorizerUri)":\s*"([^"]+)"`).FindAllSubmatch(resolved, -1)
	if len(uris) < 10 {
		t.Fatalf("found %d integration URIs in the document", len(uris))
	}
	for _, u := range uris {
		if !strings.HasSuffix(string(u[1]), ":live/invocations") {
			t.Errorf("the API invokes %s, not an alias live", u[1])
		}
	}
}

// TestObservabilityResources: the dashboard and the access log format are
// JSON once CloudFormation has substituted them, every alarm the dashboard
// shows exists, and the X-Ray group and sampling rule are per stage.
func TestObservabilityResources(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		s := loadTemplate(t, stage)
		var dash struct{ DashboardBody string }
		if err := s.Decode("PipelineDashboard", &dash); err != nil {
			t.Fatal(err)
		}
		var body struct {
			Widgets []struct {
				Type       string
				Properties struct {
					Title  string
					Alarms []string
				}
			}
		}
		if err := json.Unmarshal([]byte(dash.DashboardBody), &body); err != nil {
			t.Fatalf("%s: the dashboard is not JSON: %v\n%s", stage, err, dash.DashboardBody)
		}
		if len(body.Widgets) < 8 {
			t.Errorf("%s: %d widgets", stage, len(body.Widgets))
		}
		alarms := 0
		for _, w := range body.Widgets {
			for _, a := range w.Properties.Alarms {
				alarms++
				if !strings.Contains(a, ":alarm:") {
					t.Errorf("%s: dashboard alarm %q is no alarm ARN", stage, a)
				}
			}
		}
		if want := len(s.IDs("AWS::CloudWatch::Alarm")); alarms != want {
			t.Errorf("%s: the dashboard shows %d alarms, the template has %d", stage, alarms, want)
		}
		if !strings.Contains(dash.DashboardBody, `stage=\"`+stage+`\"`) {
			t.Errorf("%s: the dashboard's searches are not narrowed to the stage", stage)
		}

		var api struct {
			AccessLogSetting struct{ DestinationArn, Format string }
			TracingEnabled   bool
		}
		_ = s.Decode("UsersApi", &api)
		// $context.error.messageString comes quoted (it stands unquoted in the format), so
		// the line is JSON once API Gateway substitutes it, as here.
		line := strings.ReplaceAll(api.AccessLogSetting.Format, "$context.error.messageString", `"a \"quoted\" message"`)
		var format map[string]string
		if err := json.Unmarshal([]byte(line), &format); err != nil || api.AccessLogSetting.DestinationArn == "" {
			t.Errorf("%s: access logs %+v: %v", stage, api.AccessLogSetting, err)
		}
		for _, k := range []string{"requestId", "status", "xrayTraceId", "responseLatency", "ip"} {
			if format[k] == "" {
				t.Errorf("%s: the access log has no %s", stage, k)
			}
		}
		if !api.TracingEnabled {
			t.Errorf("%s: API tracing is off", stage)
		}

		var rule struct {
			SamplingRule struct {
				RuleName      string
				FixedRate     float64
				ReservoirSize int
				ServiceName   string
			}
		}
		_ = s.Decode("TraceSamplingRule", &rule)
		r := rule.SamplingRule
		switch {
		case len(r.RuleName) > 32 || !strings.Contains(r.RuleName, stage):
			t.Errorf("%s: rule name %q", stage, r.RuleName)
		case stage == "dev" && r.FixedRate != 1:
			t.Errorf("dev samples %v of requests, want all", r.FixedRate)
		case stage == "prod" && (r.FixedRate <= 0 || r.FixedRate >= 1 || r.ReservoirSize < 1):
			t.Errorf("prod samples at %v with a reservoir of %d", r.FixedRate, r.ReservoirSize)
		case !strings.HasSuffix(r.ServiceName, "-api/"+stage):
			t.Errorf("%s: the rule samples %q, not the API's stage", stage, r.ServiceName)
		}
		var group struct{ FilterExpression string }
		_ = s.Decode("TraceGroup", &group)
		if !strings.Contains(group.FilterExpression, `annotation.stage = "`+stage+`"`) {
			t.Errorf("%s: group filter %q", stage, group.FilterExpression)
		}
	}
}
