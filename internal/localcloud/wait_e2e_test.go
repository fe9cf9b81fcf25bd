package localcloud_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"

	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
	"github.com/usersapi/usersapi/shared/queue/envelope"
	"github.com/usersapi/usersapi/shared/users"
)

// TestPreferWait: end to end, a write with Prefer: wait=N is answered as a
// synchronous API would answer it when it is applied within N seconds.
func TestPreferWait(t *testing.T) {
	c := cloudtest.Cloud(t)
	mail := email()
	body := `{"name":"Ada","email":"` + mail + `"}`

	// Create: 201, the user, its Location under the stage, ETag "1".
	r := expect(t, do(t, c, "POST", "/users", body, "Prefer", "wait=10"), 201)
	id, _ := r.body["id"].(string)
	if id == "" || r.body["name"] != "Ada" || r.body["version"] != 1.0 || r.header.Get("ETag") != `"1"` ||
		r.header.Get("Location") != "/dev/users/"+id || r.header.Get("Preference-Applied") != "wait=10" {
		t.Fatalf("create: %v %s", r.header, r.raw)
	}
	if got := expect(t, do(t, c, "GET", strings.TrimPrefix(r.header.Get("Location"), "/dev"), ""), 200); got.body["id"] != id {
		t.Fatalf("the Location of the 201: %s", got.raw)
	}

	// A larger wait is the cap.
	r = expect(t, do(t, c, "POST", "/users", `{"name":"Capped","email":"`+email()+`"}`, "Prefer", "respond-async, wait=600"), 201)
	if r.header.Get("Preference-Applied") != "wait=10" {
		t.Errorf("wait=600: Preference-Applied %q, want wait=10", r.header.Get("Preference-Applied"))
	}

	// The email taken: 409, the type the request's error would have.
	r = expect(t, do(t, c, "POST", "/users", `{"name":"Twin","email":"`+strings.ToUpper(mail)+`"}`, "Prefer", "wait=10"), 409)
	if r.body["type"] != "https://usersapi.dev/problems/email-taken" {
		t.Errorf("email taken: %s", r.raw)
	}

	// A conditional update with a stale If-Match: 412.
	r = expect(t, do(t, c, "PUT", "/users/"+id, `{"name":"Ada King","email":"`+mail+`"}`, "If-Match", `"7"`, "Prefer", "wait=10"), 412)
	if r.body["type"] != "https://usersapi.dev/problems/precondition-failed" || r.header.Get("Preference-Applied") != "wait=10" {
		t.Errorf("stale If-Match: %v %s", r.header, r.raw)
	}

	// A patch that applies: 200, the user and its ETag.
	r = expect(t, do(t, c, "PATCH", "/users/"+id, `{"age":37}`, "Content-Type", "application/merge-patch+json", "If-Match", `"1"`, "Prefer", "wait=10"), 200)
	if r.body["age"] != 37.0 || r.body["version"] != 2.0 || r.header.Get("ETag") != `"2"` {
		t.Errorf("patch: %v %s", r.header, r.raw)
	}

	// Without a wait, or with one not taken: today's 202.
	for _, prefer := range []string{"wait=0", "wait=soon", "respond-async"} {
		r = expect(t, do(t, c, "PATCH", "/users/"+id, `{}`, "Content-Type", "application/merge-patch+json", "Prefer", prefer), 202)
		if r.body["status"] != "pending" || !strings.HasPrefix(r.header.Get("Location"), "/dev/requests/") || r.header.Get("Preference-Applied") != "" {
			t.Errorf("Prefer: %s: %v %s", prefer, r.header, r.raw)
		}
		settle(t, c, r.header.Get("Location"))
	}

	// A keyed retry of a request that has settled gets the final answer (the
	// user at version 6: each patch above made one, the empty ones too).
	keyed := expect(t, do(t, c, "PUT", "/users/"+id, body, "Idempotency-Key", "wait-"+id), 202)
	settle(t, c, keyed.header.Get("Location"))
	r = expect(t, do(t, c, "PUT", "/users/"+id, body, "Idempotency-Key", "wait-"+id, "Prefer", "wait=10"), 200)
	if r.header.Get("Idempotent-Replayed") != "true" || r.body["name"] != "Ada" || r.header.Get("ETag") != `"6"` {
		t.Errorf("keyed retry: %v %s", r.header, r.raw)
	}

	// Delete: 204, no body.
	r = expect(t, do(t, c, "DELETE", "/users/"+id, "", "Prefer", "wait=10"), 204)
	if r.raw != "" || r.header.Get("Preference-Applied") != "wait=10" {
		t.Errorf("delete: %v %q", r.header, r.raw)
	}
	expect(t, do(t, c, "GET", "/users/"+id, ""), 404)
}

// TestRequestWait: GET /requests/{id} says Retry-After while pending, and
// with Prefer: wait answers once the request is no longer pending.
func TestRequestWait(t *testing.T) {
	c := cloudtest.Cloud(t)
	issuer, err := signedIssuer()
	if err != nil {
		t.Fatal(err)
	}
	id := users.ID(uuid.Must(uuid.NewV7()).String())
	reqID, claims, err := issuer.Issue(id, users.Create, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r := expect(t, do(t, c, "GET", "/requests/"+reqID, ""), 200)
	if r.body["status"] != "pending" || r.header.Get("Retry-After") != "1" || r.header.Get("Preference-Applied") != "" {
		t.Fatalf("pending: %v %s", r.header, r.raw)
	}
	start := time.Now()
	r = expect(t, do(t, c, "GET", "/requests/"+reqID, "", "Prefer", "wait=1"), 200)
	if took := time.Since(start); r.body["status"] != "pending" || r.header.Get("Retry-After") != "1" ||
		r.header.Get("Preference-Applied") != "wait=1" || took < time.Second || took > 5*time.Second {
		t.Fatalf("pending after a wait of 1 s: %v %s in %s", r.header, r.raw, took)
	}

	// The write arrives on the queue a second into a wait of ten.
	cmd, err := envelope.Encode(users.Command{RequestID: reqID, Op: users.Create, UserID: id, AcceptedAt: claims.AcceptedAt,
		Owner: "alice", Input: users.Input{Name: "Late", Email: email()}})
	if err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() {
		time.Sleep(time.Second)
		_, err := c.SQS.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(c.Stack.Resources["WriteQueue"].Attr["QueueUrl"]),
			MessageBody: aws.String(string(cmd)), MessageGroupId: aws.String(string(id)), MessageDeduplicationId: aws.String(reqID)})
		sent <- err
	}()
	start = time.Now()
	r = expect(t, do(t, c, "GET", "/requests/"+reqID, "", "Prefer", "wait=10"), 200)
	took := time.Since(start)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if r.body["status"] != "succeeded" || r.header.Get("Retry-After") != "" || r.header.Get("Preference-Applied") != "wait=10" ||
		took < time.Second || took > 8*time.Second {
		t.Fatalf("settled during the wait: %v %s in %s", r.header, r.raw, took)
	}
	var st struct{ Version int }
	if err := json.Unmarshal([]byte(r.raw), &st); err != nil || st.Version != 1 {
		t.Errorf("version %d, %v", st.Version, err)
	}
	t.Logf("answered %s after the write was sent", took-time.Second)
}
