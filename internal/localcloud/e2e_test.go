package localcloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	usersapi "github.com/usersapi/usersapi/client"
	"github.com/usersapi/usersapi/internal/browsertest"
	"github.com/usersapi/usersapi/internal/cloudwatch"
	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
	"github.com/usersapi/usersapi/shared/queue/envelope"
	"github.com/usersapi/usersapi/shared/requestid"
	"github.com/usersapi/usersapi/shared/signed"
	"github.com/usersapi/usersapi/shared/users"
)

func TestMain(m *testing.M) {
	code := m.Run()
	cloudtest.Close()
	os.Exit(code)
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// client gives up on an answer after a minute: the local gateway answers
// within its 29 s integration timeout, so a longer wait is a hang to report.
var client = &http.Client{Timeout: time.Minute}

// apiClient returns the API's Go client for c, calling as sub with scopes
// (with the tests' key): the way the tests make the calls whose HTTP details
// they do not check.
func apiClient(t *testing.T, c *localcloud.Cloud, sub, scopes string) *usersapi.Client {
	t.Helper()
	api, err := usersapi.New(c.URL, usersapi.WithHTTPClient(client), usersapi.WithAPIKey(cloudtest.TestKey),
		usersapi.WithTokenSource(func(context.Context) (string, error) { return c.Issuer.Token(sub, scopes, time.Hour) }))
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// alice is the default caller of do, as a client.
func alice(t *testing.T, c *localcloud.Cloud) *usersapi.Client {
	return apiClient(t, c, "alice", "users.read users.write")
}

// settled waits for w's outcome (30 s at most, as settle), failing the test
// when it cannot learn it.
func settled(t *testing.T, w *usersapi.Write) usersapi.RequestStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st, err := w.WaitStatus(ctx)
	if err != nil {
		t.Fatalf("request %s: %v\n%s", w.RequestID, err, tail(cloudtest.Log.String()))
	}
	return st
}

// create creates a user as api's caller and waits until it exists.
func create(t *testing.T, api *usersapi.Client, in usersapi.UserInput) (*usersapi.Write, usersapi.User) {
	t.Helper()
	w, err := api.CreateUser(t.Context(), in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	u, err := w.Wait(ctx)
	if err != nil {
		t.Fatalf("create %s: %v\n%s", w.RequestID, err, tail(cloudtest.Log.String()))
	}
	return w, u
}

// isKind reports whether err is the API's problem+json of kind and status.
func isKind(err error, kind string, status int) bool {
	var p *usersapi.Problem
	return errors.As(err, &p) && p.Kind() == kind && p.Status == status
}

func do(t *testing.T, c *localcloud.Cloud, method, path, body string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, c.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	// By default a caller with a key and a token that reads and writes its own users.
	req.Header.Set("X-Api-Key", cloudtest.TestKey)
	req.Header.Set("Authorization", cloudtest.Token(t, c, "alice", "users.read users.write"))
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &r.body)
	return r
}

func expect(t *testing.T, r response, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s\n--- log ---\n%s", r.status, status, r.raw, tail(cloudtest.Log.String()))
	}
	if status >= 400 && !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("error %d without problem+json: %s %s", status, r.header.Get("Content-Type"), r.raw)
	}
	return r
}

func tail(s string) string {
	if len(s) > 6000 {
		return s[len(s)-6000:]
	}
	return s
}

// settle polls the request at location until it is no longer pending,
// as the caller that the headers name (alice by default).
func settle(t *testing.T, c *localcloud.Cloud, location string, headers ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	path := strings.TrimPrefix(location, "/dev")
	for time.Now().Before(deadline) {
		r := expect(t, do(t, c, "GET", path, "", headers...), 200)
		if r.body["status"] != "pending" {
			return r.body
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("request %s still pending after 30s\n%s", location, tail(cloudtest.Log.String()))
	return nil
}

// events returns the change events published for user so far.
func events(c *localcloud.Cloud, user string) []map[string]any {
	var out []map[string]any
	for _, e := range c.Bus.Events() {
		var d map[string]any
		_ = json.Unmarshal(e.Detail, &d)
		if d["userId"] == user {
			d["detail-type"] = e.DetailType
			out = append(out, d)
		}
	}
	return out
}

func waitEvents(t *testing.T, c *localcloud.Cloud, user string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if evs := events(c, user); len(evs) >= n {
			time.Sleep(300 * time.Millisecond) // and no more than n arrive
			return events(c, user)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("fewer than %d events for %s after 30s: %v\n%s", n, user, events(c, user), tail(cloudtest.Log.String()))
	return nil
}

func email() string { return "ada-" + uuid.NewString()[:8] + "@example.com" }

// TestPipeline: POST → 202 → queue → worker → table → stream → exactly one event.
func TestPipeline(t *testing.T) {
	c := cloudtest.Cloud(t)
	mail := email()
	r := expect(t, do(t, c, "POST", "/users", `{"name":"Ada Lovelace","email":"`+mail+`","phone":"5551234567","age":36}`), 202)
	id, _ := r.body["userId"].(string)
	loc := r.header.Get("Location")
	if r.body["status"] != "pending" || loc != "/dev/requests/"+fmt.Sprint(r.body["requestId"]) {
		t.Fatalf("202 %v, Location %q", r.body, loc)
	}
	st := settle(t, c, loc)
	if st["status"] != "succeeded" || st["version"] != 1.0 || st["operation"] != "create" || st["completedAt"] == nil {
		t.Fatalf("request %v", st)
	}
	u := expect(t, do(t, c, "GET", "/users/"+id, ""), 200)
	if u.header.Get("ETag") != `"1"` || u.body["email"] != mail || u.body["name"] != "Ada Lovelace" {
		t.Fatalf("user %v ETag %q", u.body, u.header.Get("ETag"))
	}
	evs := waitEvents(t, c, id, 1)
	if len(evs) != 1 || evs[0]["detail-type"] != "UserCreated" || evs[0]["eventId"] != id+"#1" || evs[0]["requestId"] != r.body["requestId"] {
		t.Fatalf("events %v", evs)
	}
	for _, e := range c.Bus.Events() {
		if strings.Contains(string(e.Detail), id) && len(e.Rules) == 0 {
			t.Errorf("event %s matched none of the template's rules", e.ID)
		}
	}
}

// TestContract walks every route of the API through the gateway.
func TestContract(t *testing.T) {
	c := cloudtest.Cloud(t)
	mail := email()
	r := expect(t, do(t, c, "POST", "/users", `{"name":"Grace","email":"`+mail+`"}`), 202)
	id := r.body["userId"].(string)
	settle(t, c, r.header.Get("Location"))

	expect(t, do(t, c, "GET", "/users?userId="+id, ""), 200)
	expect(t, do(t, c, "HEAD", "/users/"+id, ""), 200)
	expect(t, do(t, c, "GET", "/users/"+id, "", "If-None-Match", `"1"`), 304)
	expect(t, do(t, c, "GET", "/users/0193a4b2-7c3d-7e4f-8a5b-000000000000", ""), 404)
	expect(t, do(t, c, "GET", "/users?userId=0193a4b2-7c3d-7e4f-8a5b-000000000000", ""), 404)
	expect(t, do(t, c, "GET", "/users/not-an-id", ""), 400)
	admin := cloudtest.Token(t, c, "root", "users.admin")
	page := expect(t, do(t, c, "GET", "/users?limit=1", "", "Authorization", admin), 200)
	if items, _ := page.body["items"].([]any); len(items) != 1 {
		t.Errorf("page %v", page.body)
	}
	expect(t, do(t, c, "GET", "/users?limit=101", "", "Authorization", admin), 400)
	expect(t, do(t, c, "GET", "/users?cursor=forged", "", "Authorization", admin), 400)
	expect(t, do(t, c, "GET", "/users?limit=1", ""), 403) // only an admin lists
	expect(t, do(t, c, "GET", "/requests/made-up", ""), 404)
	r405 := expect(t, do(t, c, "POST", "/requests/x", "{}"), 405)
	if r405.header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
	expect(t, do(t, c, "GET", "/nowhere", ""), 404)
	expect(t, do(t, c, "POST", "/users", `{"name":"A","email":"`+email()+`","admin":true}`), 400)
	expect(t, do(t, c, "POST", "/users", `{"name":"A",`), 400)
	expect(t, do(t, c, "POST", "/users", `{"name":"A","email":"`+email()+`"}`, "Content-Type", "text/plain"), 415)
	// The web ACL refuses a body over 64 KiB before API Gateway's validator
	// sees it (TestWAF); behind it, the function refuses one too.
	tooLarge(t, do(t, c, "POST", "/users", `{"name":"`+strings.Repeat("a", 70000)+`","email":"`+email()+`"}`))
	tooLarge(t, do(t, c, "PATCH", "/users/"+id, `{"name":"`+strings.Repeat("a", 70000)+`"}`, "Content-Type", "application/merge-patch+json"))

	// The writes, through the client. PUT with a stale If-Match ends as a failed request.
	api, ctx := alice(t, c), t.Context()
	put, err := api.ReplaceUser(ctx, id, usersapi.UserInput{Name: "Grace Hopper", Email: mail}, usersapi.IfMatch(`"5"`))
	if err != nil {
		t.Fatal(err)
	}
	if st := settled(t, put); st.Status != usersapi.StatusFailed || st.Error == nil || st.Error.Kind() != usersapi.KindPreconditionFailed {
		t.Fatalf("stale If-Match: %+v", st)
	}
	if put, err = api.ReplaceUser(ctx, id, usersapi.UserInput{Name: "Grace Hopper", Email: mail, Age: 85}, usersapi.IfMatch(`"1"`)); err != nil {
		t.Fatal(err)
	}
	if st := settled(t, put); st.Status != usersapi.StatusSucceeded || st.Version != 2 {
		t.Fatalf("PUT: %+v", st)
	}
	patch, err := api.PatchUser(ctx, id, usersapi.UserPatch{Age: usersapi.Int(0), Phone: usersapi.String("0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	settled(t, patch)
	u := expect(t, do(t, c, "GET", "/users/"+id, ""), 200)
	if u.body["age"] != nil || u.body["phone"] != "0123456789" || u.header.Get("ETag") != `"3"` {
		t.Fatalf("after PATCH: %v", u.body)
	}
	del, err := api.DeleteUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st := settled(t, del); st.Status != usersapi.StatusSucceeded || st.Version != 4 {
		t.Fatalf("DELETE: %+v", st)
	}
	if _, err := api.GetUser(ctx, id); !isKind(err, usersapi.KindNotFound, 404) {
		t.Fatalf("GET after DELETE: %v", err)
	}
	// A write to a user that no longer exists: 403 at once for its owner (as for
	// anyone's user but their own), accepted and then failed as not-found for an admin.
	if _, err := api.PatchUser(ctx, id, usersapi.UserPatch{Age: usersapi.Int(40)}); !isKind(err, usersapi.KindForbidden, 403) {
		t.Fatalf("the owner's PATCH after DELETE: %v", err)
	}
	gone, err := apiClient(t, c, "root", "users.admin").PatchUser(ctx, id, usersapi.UserPatch{Age: usersapi.Int(40)})
	if err != nil {
		t.Fatal(err)
	}
	if st := settled(t, gone); st.Status != usersapi.StatusFailed || st.Error == nil || st.Error.Kind() != usersapi.KindNotFound {
		t.Fatalf("an admin's write after delete: %+v", st)
	}
	evs := waitEvents(t, c, id, 4)
	types := []string{}
	for _, e := range evs {
		types = append(types, fmt.Sprint(e["detail-type"], "#", e["version"]))
	}
	if strings.Join(types, ",") != "UserCreated#1,UserUpdated#2,UserUpdated#3,UserDeleted#4" {
		t.Fatalf("events %v", types)
	}
}

// TestConcurrentCreatesOneEmail: 20 creates with one email make one user.
func TestConcurrentCreatesOneEmail(t *testing.T) {
	c := cloudtest.Cloud(t)
	mail := email()
	api := alice(t, c)
	var wg sync.WaitGroup
	writes := make([]*usersapi.Write, 20)
	errs := make([]error, 20)
	for i := range writes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			writes[i], errs[i] = api.CreateUser(t.Context(), usersapi.UserInput{Name: "Twin", Email: mail})
		}()
	}
	wg.Wait()
	won, taken := 0, 0
	for i, w := range writes {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		st := settled(t, w)
		switch {
		case st.Status == usersapi.StatusSucceeded:
			won++
		case st.Error != nil && st.Error.Kind() == usersapi.KindEmailTaken:
			taken++
		}
	}
	if won != 1 || taken != 19 {
		t.Fatalf("%d succeeded, %d email-taken; want 1 and 19", won, taken)
	}
}

// TestPoisonMessage: a poison message reaches the DLQ after maxReceiveCount
// (5) receives, and the good messages of its batch are stored.
func TestPoisonMessage(t *testing.T) {
	c := cloudtest.Cloud(t)
	ctx := context.Background()
	queueURL := c.Stack.Resources["WriteQueue"].Attr["QueueUrl"]
	dlqURL := c.Stack.Resources["WriteDLQ"].Attr["QueueUrl"]
	marker := uuid.NewString()
	poisonGroup := "0193a4b2-7c3d-7e4f-8a5b-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	_, err := c.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("poison"), MessageBody: aws.String(`{"schemaVersion":99,"marker":"` + marker + `"}`), MessageGroupId: aws.String(poisonGroup), MessageDeduplicationId: aws.String(marker)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Good writes go through while the poison message is retried.
	api := alice(t, c)
	var writes []*usersapi.Write
	for range 3 {
		w, err := api.CreateUser(ctx, usersapi.UserInput{Name: "Good", Email: email()})
		if err != nil {
			t.Fatal(err)
		}
		writes = append(writes, w)
	}
	for _, w := range writes {
		if st := settled(t, w); st.Status != usersapi.StatusSucceeded {
			t.Fatalf("good write next to a poison message: %+v", st)
		}
	}
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if strings.Contains(aws.ToString(m.Body), marker) {
				if n := m.Attributes["ApproximateReceiveCount"]; n != "6" && n != "5" {
					t.Errorf("poison message moved after %s receives (counted again by this receive), want 5", n)
				}
				_, _ = c.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(dlqURL), ReceiptHandle: m.ReceiptHandle})
				return
			}
		}
	}
	t.Fatalf("the poison message is not in the DLQ after 45s\n%s", tail(cloudtest.Log.String()))
}

// TestServiceMapAfterPOST: after one POST through the real pipeline, the
// service map page, opened in headless Chromium, shows the pipeline's nodes.
func TestServiceMapAfterPOST(t *testing.T) {
	c := cloudtest.Cloud(t)
	_, u := create(t, alice(t, c), usersapi.UserInput{Name: "Map", Email: email()})
	waitEvents(t, c, u.ID, 1)
	dom := browsertest.DOM(t, strings.TrimSuffix(c.URL, "/dev")+"/_local/xray")
	for _, node := range []string{"client", "IngestFunction", "SQS", "WorkerFunction", "DynamoDB", "StreamFunction", "EventBridge"} {
		if !strings.Contains(dom, ">"+node+"</text>") {
			t.Errorf("the service map shows no %s node", node)
		}
	}
	if !strings.Contains(dom, "user_id="+u.ID) {
		t.Error("the POST's trace is not listed with its user_id annotation")
	}
}

// TestValuesStoredExactly: quotes, HTML, Unicode and control characters are
// stored and returned as sent, never interpreted; fields a client may not set
// are refused.
func TestValuesStoredExactly(t *testing.T) {
	c := cloudtest.Cloud(t)
	// Control characters are refused (400), not stored: see TestCharactersSQSRefuses.
	name := "<script>alert(\"x\")</script> 'q' & \\ 日本語 😀 \u200b\u00a0\ufffd"
	_, created := create(t, alice(t, c), usersapi.UserInput{Name: name, Email: email()})
	id := created.ID
	if created.Name != name {
		t.Fatalf("stored %q, sent %q", created.Name, name)
	}
	u := expect(t, do(t, c, "GET", "/users/"+id, ""), 200)
	if u.body["name"] != name {
		t.Fatalf("stored %q, sent %q", u.body["name"], name)
	}
	if ct := u.header.Get("Content-Type"); ct != "application/json" || u.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", u.header)
	}
	// The change event names the user and carries none of its data
	// (docs/privacy.md): a consumer reads the user, exactly as stored.
	evs := waitEvents(t, c, id, 1)
	if raw, _ := json.Marshal(evs[0]); strings.Contains(string(raw), "alert") || evs[0]["version"] != float64(1) {
		t.Errorf("the event %s: want the user's id and version, none of its data", raw)
	}
	for _, field := range []string{`"id":"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"`, `"version":7`, `"createdAt":"2020-01-01T00:00:00Z"`, `"updatedAt":"2020-01-01T00:00:00Z"`, `"owner":"mallory"`, `"isAdmin":true`} {
		expect(t, do(t, c, "POST", "/users", `{"name":"M","email":"`+email()+`",`+field+`}`), 400)
		expect(t, do(t, c, "PATCH", "/users/"+id, `{`+field+`}`, "Content-Type", "application/merge-patch+json"), 400)
	}
}

// TestIdempotencyKeys: the same key and body from the same caller get the very
// same 202 and one effect; another body gets 422; another caller's same key is
// another key.
func TestIdempotencyKeys(t *testing.T) {
	c := cloudtest.Cloud(t)
	key := `"` + uuid.NewString() + `"`
	body := `{"name":"Once","email":"` + email() + `"}`
	first := expect(t, do(t, c, "POST", "/users", body, "Idempotency-Key", key), 202)
	again := expect(t, do(t, c, "POST", "/users", body, "Idempotency-Key", strings.Trim(key, `"`)), 202)
	if first.raw != again.raw || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("first %s, again %s", first.raw, again.raw)
	}
	settle(t, c, first.header.Get("Location"))
	expect(t, do(t, c, "POST", "/users", `{"name":"Twice","email":"`+email()+`"}`, "Idempotency-Key", key), 422)
	bob := expect(t, do(t, c, "POST", "/users", body, "Idempotency-Key", key, "Authorization", cloudtest.Token(t, c, "bob", "users.write")), 202)
	if bob.body["requestId"] == first.body["requestId"] {
		t.Fatal("another caller's key replayed alice's answer")
	}
	if evs := waitEvents(t, c, first.body["userId"].(string), 1); len(evs) != 1 {
		t.Fatalf("%d events for one create", len(evs))
	}
}

// TestRedrive: a command parked in the DLQ (as after an outage) is listed,
// and once redriven, it is applied and its request's status says so.
func TestRedrive(t *testing.T) {
	c := cloudtest.Cloud(t)
	ctx := context.Background()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := signedIssuer()
	if err != nil {
		t.Fatal(err)
	}
	reqID, claims, err := issuer.Issue(users.ID(id.String()), users.Create, "alice")
	if err != nil {
		t.Fatal(err)
	}
	body, err := envelope.Encode(users.Command{RequestID: reqID, Op: users.Create, UserID: users.ID(id.String()), AcceptedAt: claims.AcceptedAt,
		Owner: "alice", Input: users.Input{Name: "Parked", Email: email()}})
	if err != nil {
		t.Fatal(err)
	}
	dlqURL := c.Stack.Resources["WriteDLQ"].Attr["QueueUrl"]
	if _, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlqURL), MessageBody: aws.String(string(body)),
		MessageGroupId: aws.String(id.String()), MessageDeduplicationId: aws.String(reqID)}); err != nil {
		t.Fatal(err)
	}
	if st := expect(t, do(t, c, "GET", "/requests/"+reqID, ""), 200); st.body["status"] != "pending" {
		t.Fatalf("before the redrive: %v", st.body)
	}
	dls, err := c.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, dl := range dls {
		found = found || (strings.Contains(dl.Body, reqID) && dl.Source == "WriteQueue")
	}
	if !found {
		t.Fatalf("the parked message is not listed: %+v", dls)
	}
	if n, err := c.Redrive(ctx); err != nil || n < 1 {
		t.Fatalf("redrive: %d, %v", n, err)
	}
	if st := settled(t, alice(t, c).Follow(reqID)); st.Status != usersapi.StatusSucceeded {
		t.Fatalf("after the redrive: %+v", st)
	}
}

func signedIssuer() (*requestid.Issuer, error) {
	k, err := signed.NewKey(localcloud.DevSigningKey)
	if err != nil {
		return nil, err
	}
	return requestid.NewIssuer(k), nil
}

// TestLogsAndMetricsAfterPOST: after one POST through the real pipeline, the
// functions' JSON log lines carry the ids that tie the hops together, and
// GET /_local/metrics shows the write accepted, applied and published, with
// its end-to-end latency, in the namespace usersapi with the stage dimension.
func TestLogsAndMetricsAfterPOST(t *testing.T) {
	c := cloudtest.Cloud(t)
	before := localMetrics(t, c)
	w, _ := create(t, alice(t, c), usersapi.UserInput{Name: "Metrics", Email: email()})
	user, request := w.UserID, w.RequestID
	waitEvents(t, c, user, 1)

	// Logs: a JSON line from each function, with the Lambda request id, the
	// trace id, the cold-start flag, and the user and request ids.
	for fn, msg := range map[string]string{"IngestFunction": "accepted", "WorkerFunction": "request applied", "StreamFunction": "published"} {
		var line map[string]any
		deadline := time.Now().Add(10 * time.Second)
		for line == nil && time.Now().Before(deadline) {
			for l := range strings.SplitSeq(cloudtest.Log.String(), "\n") {
				rest, ok := strings.CutPrefix(l, "["+fn+"] ")
				if !ok || !strings.Contains(rest, request) {
					continue
				}
				var m map[string]any
				if json.Unmarshal([]byte(rest), &m) == nil && m["message"] == msg {
					line = m
				}
			}
			if line == nil {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if line == nil {
			t.Errorf("%s logged no JSON line %q for request %s", fn, msg, request)
			continue
		}
		if line["request_id"] != request || line["requestId"] == "" || line["traceId"] == nil || line["coldStart"] == nil || line["level"] == nil {
			t.Errorf("%s: %v lacks the request id, Lambda's request id, the trace id, the level or coldStart", fn, line)
		}
		if fn != "StreamFunction" && line["user_id"] != user {
			t.Errorf("%s: %v lacks the user id", fn, line)
		}
	}

	// Metrics: the difference the POST made; at least, since the cloud is
	// shared and an earlier test's last events may still be on their way.
	want := map[string]float64{"AcceptedWrites/create": 1, "WorkerOutcomes/applied": 1, "EventsPublished": 1, "EndToEndLatency#samples": 1}
	reached := func(delta map[string]float64) bool {
		for k, v := range want {
			if delta[k] < v {
				return false
			}
		}
		return true
	}
	var delta map[string]float64
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		after := localMetrics(t, c)
		delta = map[string]float64{}
		for k := range want {
			delta[k] = after[k] - before[k]
		}
		if reached(delta) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !reached(delta) {
		t.Errorf("GET /_local/metrics changed by %v after one POST, want at least %v", delta, want)
	}
}

// localMetrics reads GET /_local/metrics into totals by name and dimension
// values ("AcceptedWrites/create"), and sample counts ("Name#samples"),
// checking that each is in the namespace usersapi with the stage dev.
func localMetrics(t *testing.T, c *localcloud.Cloud) map[string]float64 {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(c.URL, "/dev") + "/_local/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Metrics []cloudwatch.Series }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /_local/metrics: %d %v", resp.StatusCode, err)
	}
	out := map[string]float64{}
	for _, s := range body.Metrics {
		if s.Namespace != "usersapi" || s.Dimensions["stage"] != "dev" {
			t.Errorf("%s: namespace %s, dimensions %v", s.Name, s.Namespace, s.Dimensions)
		}
		key := s.Name
		for _, d := range []string{"operation", "outcome", "reason"} {
			if v, ok := s.Dimensions[d]; ok {
				key += "/" + v
			}
		}
		out[key] += s.Sum
		out[s.Name+"#samples"] += float64(s.Samples)
	}
	return out
}
