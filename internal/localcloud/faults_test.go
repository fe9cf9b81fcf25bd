package localcloud_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestCrashAfterWrite: workers that die after their DynamoDB write and
// before their batch response get their batches redelivered, and no write is
// applied twice: every user ends at version 1 with exactly one event.
func TestCrashAfterWrite(t *testing.T) {
	c := cloudtest.Start(t, "faultinject", localcloud.Options{RetryDelay: 200 * time.Millisecond,
		ExtraEnv: map[string]string{"USERSAPI_FAULTS": "dynamodb.crash_after_write=0.5"}})
	var ids, locs []string
	for range 16 {
		r := expect(t, do(t, c, "POST", "/users", `{"name":"Crash","email":"`+email()+`"}`), 202)
		ids = append(ids, r.body["userId"].(string))
		locs = append(locs, r.header.Get("Location"))
	}
	for i, loc := range locs {
		if st := settle(t, c, loc); st["status"] != "succeeded" || st["version"] != 1.0 {
			t.Fatalf("request %d: %v", i, st)
		}
	}
	for _, id := range ids {
		if u := expect(t, do(t, c, "GET", "/users/"+id, ""), 200); u.body["version"] != 1.0 {
			t.Fatalf("user %s at version %v after redeliveries", id, u.body["version"])
		}
		if evs := waitEvents(t, c, id, 1); len(evs) != 1 {
			t.Fatalf("user %s: %d events", id, len(evs))
		}
	}
	if n := strings.Count(cloudtest.Log.String(), "faults: crashing after TransactWriteItems"); n == 0 {
		t.Fatal("no worker crashed: the test proved nothing")
	}
}

// TestTimeoutRestarts: a function that runs past its timeout is killed, the
// client gets API Gateway's 502, and the next request runs on a new process.
func TestTimeoutRestarts(t *testing.T) {
	timedOut := regexp.MustCompile(`(?m)^REPORT .*Init Duration: .*Status: error$`)
	before := len(timedOut.FindAllString(cloudtest.Log.String(), -1))
	c := cloudtest.Start(t, "faultinject", localcloud.Options{Timeouts: map[string]time.Duration{"ReadFunction": time.Second},
		ExtraEnv: map[string]string{"USERSAPI_FAULTS": "dynamodb.delay=1,dynamodb.delay_ms=3000"}})
	for i := range 2 {
		r := expect(t, do(t, c, "GET", "/users/0193a4b2-7c3d-7e4f-8a5b-000000000000", ""), 502)
		if !strings.HasSuffix(fmt.Sprint(r.body["type"]), "/bad-gateway") {
			t.Fatalf("request %d: %v", i, r.body)
		}
	}
	log := cloudtest.Log.String()
	// Each request timed out on a process started for it: the one before was killed.
	if n := len(timedOut.FindAllString(log, -1)) - before; n != 2 || strings.Count(log, "Task timed out after 1.00 seconds\n") < 2 {
		t.Fatalf("%d cold invocations that failed, want 2\n%s", n, tail(log))
	}
}
