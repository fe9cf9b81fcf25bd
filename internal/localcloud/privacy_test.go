package localcloud_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	usersapi "github.com/usersapi/usersapi/client"
	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// marked are personal data that no other test uses, so that finding one of
// them anywhere means this test's flows put it there.
type marked struct{ name, renamed, email, phone, phone2 string }

func newMarked() marked {
	n := rand.Uint64()
	tag := fmt.Sprintf("%012x", n&0xffffffffffff)
	digits := func(prefix string) string { return prefix + fmt.Sprintf("%08d", rand.IntN(1e8)) }
	return marked{name: "Privacy Mark " + tag, renamed: "Renamed Mark " + tag, email: "privacy-" + tag + "@example.com",
		phone: digits("57"), phone2: digits("58")}
}

// in returns where in s a marked value is, or "".
func (m marked) in(s string) string {
	low := strings.ToLower(s)
	for _, v := range []string{m.name, m.renamed, m.email, m.phone, m.phone2} {
		if strings.Contains(low, strings.ToLower(v)) {
			return v
		}
	}
	return ""
}

// TestPersonalData runs every flow of the API with marked values through the
// local cloud: create (with an Idempotency-Key), read in each form, list,
// replace, patch, another user's create that wants the email (email-taken), a
// refused write, the export, the delete. Then, as docs/privacy.md says:
// none of the user's data is in any item of any table; none is in a
// function's log line, the access log, the gateway's own lines, an X-Ray
// segment or annotation, a metric, or an event.
func TestPersonalData(t *testing.T) {
	c := cloudtest.Cloud(t)
	m := newMarked()
	logStart := len(cloudtest.Log.String())
	api := alice(t, c)
	admin := apiClient(t, c, "root", "users.admin")
	ctx := t.Context()

	w, u := create(t, api, usersapi.UserInput{Name: m.name, Email: m.email, Phone: m.phone, Age: 44})
	if _, err := api.GetUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := api.FindUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := api.HeadUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ListPage(ctx, 5, ""); err != nil {
		t.Fatal(err)
	}
	if st := settled(t, mustWrite(t)(api.ReplaceUser(ctx, u.ID, usersapi.UserInput{Name: m.renamed, Email: m.email, Phone: m.phone}))); st.Status != usersapi.StatusSucceeded {
		t.Fatalf("replace: %+v", st)
	}
	if st := settled(t, mustWrite(t)(api.PatchUser(ctx, u.ID, usersapi.UserPatch{Phone: &m.phone2}))); st.Status != usersapi.StatusSucceeded {
		t.Fatalf("patch: %+v", st)
	}
	// Bob wants the email: his request fails, and its record names the field only.
	bob := apiClient(t, c, "bob", "users.read users.write")
	taken := settled(t, mustWrite(t)(bob.CreateUser(ctx, usersapi.UserInput{Name: m.name, Email: strings.ToUpper(m.email)})))
	if taken.Status != usersapi.StatusFailed || taken.Error == nil || !strings.HasSuffix(taken.Error.Type, "/email-taken") ||
		len(taken.Error.Errors) != 1 || taken.Error.Errors[0].Field != "email" || m.in(taken.Error.Detail) != "" {
		t.Fatalf("email taken: %+v", taken)
	}
	// A refused write says which field, not what was in it.
	bad := do(t, c, "POST", "/users", `{"name":"`+m.name+`","email":"`+m.email+`","phone":"`+m.phone+`","age":17}`)
	if bad.status != 400 || m.in(bad.raw) != "" {
		t.Fatalf("a refused write: %d %s", bad.status, bad.raw)
	}

	// The right of access: the admin's export holds the user and its requests.
	_, err := api.ExportUser(ctx, u.ID)
	if !isKind(err, "forbidden", http.StatusForbidden) {
		t.Fatalf("the owner's export: %v, want 403", err)
	}
	e, err := admin.ExportUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.User == nil || e.User.Name != m.renamed || e.User.Phone != m.phone2 || e.Owner != "alice" || e.Deleted != nil ||
		len(e.Requests) != 3 || e.Requests[0].RequestID != w.RequestID || e.Requests[2].Operation != usersapi.OpPatch {
		t.Fatalf("export: %+v", e)
	}

	del := mustWrite(t)(api.DeleteUser(ctx, u.ID))
	if st := settled(t, del); st.Status != usersapi.StatusSucceeded {
		t.Fatalf("delete: %+v", st)
	}
	waitEvents(t, c, u.ID, 4) // created, replaced, patched, deleted
	e, err = admin.ExportUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(e); e.User != nil || e.Deleted == nil || e.Deleted.Version != 4 || len(e.Requests) != 4 || m.in(string(b)) != "" {
		t.Fatalf("export after the delete: %s", b)
	}
	_, err = admin.ExportUser(ctx, "0193a4b2-7c3d-7e4f-8a5b-000000000000")
	if !isKind(err, "not-found", http.StatusNotFound) {
		t.Fatalf("export of an id never used: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // the last log lines, segments and metrics arrive

	// No table item holds the user's data.
	for _, id := range []string{"UsersTable", "RequestsTable", "IdempotencyTable"} {
		table := c.Stack.Resources[id].Name
		p := dynamodb.NewScanPaginator(c.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, av := range page.Items {
				var item map[string]any
				_ = attributevalue.UnmarshalMap(av, &item)
				b, _ := json.Marshal(item)
				if v := m.in(string(b)); v != "" {
					t.Errorf("%s holds %q after the delete: %s", id, v, b)
				}
			}
		}
	}

	// No log line: the functions', the access log's, the gateway's.
	logs := cloudtest.Log.String()[logStart:]
	access := 0
	for line := range strings.SplitSeq(logs, "\n") {
		if strings.Contains(line, "[access] ") {
			access++
		}
		if v := m.in(line); v != "" {
			t.Errorf("a log line holds %q: %s", v, line)
		}
	}
	if access < 12 {
		t.Errorf("%d access-log lines for this test's requests", access)
	}
	// No trace: segments, subsegments, annotations, causes.
	segments := 0
	for _, sum := range c.XRay.Traces(nil) {
		tr, ok := c.XRay.Trace(sum.ID)
		if !ok {
			continue
		}
		segments += len(tr.Segments)
		b, _ := json.Marshal(tr)
		if v := m.in(string(b)); v != "" {
			t.Errorf("trace %s holds %q: %s", sum.ID, v, b)
		}
	}
	if segments == 0 {
		t.Error("no X-Ray segment recorded")
	}
	// No metric, no event.
	b, _ := json.Marshal(c.Metrics.Snapshot())
	if v := m.in(string(b)); v != "" {
		t.Errorf("the metrics hold %q", v)
	}
	for _, ev := range c.Bus.Events() {
		if v := m.in(string(ev.Detail)); v != "" {
			t.Errorf("event %s holds %q: %s", ev.ID, v, ev.Detail)
		}
	}
	checkEventsPage(t, c, m)
	t.Logf("searched %d log lines (%d of the access log), %d X-Ray segments, the metrics, %d events, 3 tables",
		strings.Count(logs, "\n"), access, segments, len(c.Bus.Events()))
}

// checkEventsPage: the local events page (what the bus received) holds none
// of the user's data.
func checkEventsPage(t *testing.T, c *localcloud.Cloud, m marked) {
	t.Helper()
	base := strings.TrimSuffix(c.URL, "/dev")
	resp, err := client.Get(base + "/_local/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if v := m.in(sb.String()); v != "" {
		t.Errorf("the events page holds %q", v)
	}
}

// mustWrite fails t when a write was not accepted.
func mustWrite(t *testing.T) func(*usersapi.Write, error) *usersapi.Write {
	return func(w *usersapi.Write, err error) *usersapi.Write {
		t.Helper()
		if err != nil {
			t.Fatalf("write: %v", err)
		}
		return w
	}
}
