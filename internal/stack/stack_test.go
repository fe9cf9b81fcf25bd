package stack

import (
	"slices"
	"strings"
	"testing"
	"time"

	cfnsqs "github.com/awslabs/goformation/v7/cloudformation/sqs"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/idempotency"
)

// loadTemplate loads the repository's template.yaml for stage, failing t if
// it cannot.
func loadTemplate(t *testing.T, stage string) *Stack {
	t.Helper()
	s, err := Load("../../template.yaml", map[string]any{"Stage": stage})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// functionsOf returns the functions of s, failing t if it cannot.
func functionsOf(t *testing.T, s *Stack) map[string]*Function {
	t.Helper()
	fns, err := s.Functions()
	if err != nil {
		t.Fatal(err)
	}
	return fns
}

func TestLoadTemplate(t *testing.T) {
	s := loadTemplate(t, "dev")
	want := map[string]string{"UsersTable": "UsersTable", "RequestsTable": "RequestsTable", "WriteQueue": "WriteQueue.fifo", "WriteDLQ": "WriteDLQ.fifo", "StreamFailureQueue": "StreamFailureQueue"}
	for id, name := range want {
		if r := s.Resources[id]; r == nil || r.Name != name {
			t.Errorf("%s named %+v, want %s", id, r, name)
		}
	}
	if id, r := s.ByAttr("Arn", s.Resources["WriteDLQ"].Attr["Arn"]); id != "WriteDLQ" || r != s.Resources["WriteDLQ"] {
		t.Errorf("ByAttr(Arn of WriteDLQ) = %s, %+v", id, r)
	}
	if id, r := s.ByAttr("Arn", "arn:aws:sqs:nowhere"); id != "" || r != nil {
		t.Errorf("ByAttr(an unknown ARN) = %s, %+v", id, r)
	}
	fns := functionsOf(t, s)
	for _, id := range []string{"ReadFunction", "IngestFunction", "WorkerFunction", "StreamFunction"} {
		if fns[id] == nil {
			t.Fatalf("no %s", id)
		}
	}
	w := fns["WorkerFunction"]
	if w.Environment["USERS_TABLE"] != "UsersTable" || w.Environment["REQUESTS_TABLE"] != "RequestsTable" || w.Environment["STAGE"] != "dev" {
		t.Errorf("worker env %v (Globals merged?)", w.Environment)
	}
	if w.Timeout != 30 || fns["ReadFunction"].Timeout != 15 || w.Handler != "bootstrap" {
		t.Errorf("timeouts %d, %d; handler %q", w.Timeout, fns["ReadFunction"].Timeout, w.Handler)
	}
	if ev := w.Events["WriteQueue"]; ev.Type != "SQS" || ev.Properties["Queue"] != s.Resources["WriteQueue"].Attr["Arn"] {
		t.Errorf("worker event %+v", ev)
	}
	// Globals' LoggingConfig merged with the function's, as SAM merges maps.
	if r := fns["ReadFunction"]; r.LogFormat != "JSON" || r.LogLevel != "INFO" || r.Alias != "live" {
		t.Errorf("read: log format %q, level %q, alias %q; want JSON, INFO (the parameter's default), live", r.LogFormat, r.LogLevel, r.Alias)
	}
	// The alias SAM makes, by its logical id and by <id>.Alias.
	for _, id := range []string{"ReadFunctionAliaslive", "ReadFunction.Alias"} {
		if r := s.Resources[id]; r == nil || r.Ref != s.Resources["ReadFunction"].Attr["Arn"]+":live" {
			t.Errorf("%s: %+v, want the function's ARN qualified by live", id, r)
		}
	}
	var q cfnsqs.Queue
	if err := s.decodeResource("WriteQueue", &q); err != nil {
		t.Fatal(err)
	}
	if rp, _ := q.RedrivePolicy.(map[string]any); rp["deadLetterTargetArn"] != s.Resources["WriteDLQ"].Attr["Arn"] || !strings.HasSuffix(s.Resources["WriteDLQ"].Attr["Arn"], ":WriteDLQ.fifo") {
		t.Errorf("redrive policy %v", q.RedrivePolicy)
	}
}

// An Idempotency-Key's lease must outlast the ingest function: an attempt that
// is still running when the lease lapses could send its message after a
// retry resumed the request (the same request id, so harmless, but the
// retry's 202 would come first).
func TestKeyLeaseOutlastsIngest(t *testing.T) {
	s := loadTemplate(t, "dev")
	fns := functionsOf(t, s)
	ingest := fns["IngestFunction"]
	if timeout := time.Duration(ingest.Timeout) * time.Second; timeout <= 0 || timeout >= idempotency.Lease {
		t.Fatalf("ingest's timeout %s, the key lease %s: the lease must be longer", timeout, idempotency.Lease)
	}
	if ingest.Environment["REQUESTS_TABLE"] != s.Resources["RequestsTable"].Name {
		t.Errorf("ingest env %v: a resumed request reads its outcome from the requests table", ingest.Environment)
	}
}

// TestConditions: a resource exists where its Condition holds, as
// CloudFormation creates it: the development API key outside prod only.
func TestConditions(t *testing.T) {
	for stage, want := range map[string]bool{"dev": true, "prod": false} {
		s := loadTemplate(t, stage)
		for id, typ := range map[string]string{"DevApiKey": "AWS::ApiGateway::ApiKey", "DevApiKeyBasicPlan": "AWS::ApiGateway::UsagePlanKey"} {
			if got := slices.Contains(s.IDs(typ), id); got != want {
				t.Errorf("stage %s: %s exists %v, want %v", stage, id, got, want)
			}
		}
		if !slices.Contains(s.IDs("AWS::ApiGateway::UsagePlan"), "BasicUsagePlan") {
			t.Errorf("stage %s: an unconditional resource (BasicUsagePlan) is missing", stage)
		}
	}
}

// The functions that honour Prefer: wait outlast its longest wait, with time
// for the work before it and the answer after; and the API's integration
// timeout (29 s, api/openapi.yaml; api's TestWaitFitsTheIntegration) outlasts
// them, so the gateway never answers 504 for a function still within its time.
func TestTimeoutsHoldPreferWait(t *testing.T) {
	s := loadTemplate(t, "dev")
	fns := functionsOf(t, s)
	const integration = 29 * time.Second
	least := time.Duration(apigw.MaxWaitSeconds+3) * time.Second
	for _, id := range []string{"IngestFunction", "ReadFunction"} {
		if timeout := time.Duration(fns[id].Timeout) * time.Second; timeout < least || timeout >= integration {
			t.Errorf("%s's timeout %s: want at least %s (the longest Prefer: wait and reserves), under the integration's %s", id, timeout, least, integration)
		}
	}
}
