package localcloud_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"

	"github.com/usersapi/usersapi/internal/browsertest"
	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestChromiumDevPages opens the functions, queues and tables pages of a
// cloud of its own (its dead-letter queue holds a message of this test's)
// in Chromium, after a user was written, and finds what each shows once its
// script has drawn it.
func TestChromiumDevPages(t *testing.T) {
	c := cloudtest.Start(t, "", localcloud.Options{})
	base := strings.TrimSuffix(c.URL, "/dev")
	mail := email()
	r := expect(t, do(t, c, "POST", "/users", `{"name":"Grace Hopper","email":"`+mail+`"}`), 202)
	if st := settle(t, c, r.header.Get("Location")); st["status"] != "succeeded" {
		t.Fatalf("request %v", st)
	}
	id, _ := r.body["userId"].(string)
	expect(t, do(t, c, "GET", "/users/"+id, ""), 200)
	marker := "parked-" + uuid.NewString()[:8]
	if _, err := c.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(c.Stack.Resources["WriteDLQ"].Attr["QueueUrl"]),
		MessageBody: aws.String(`{"not":"a command","marker":"` + marker + `"}`), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String(marker)}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		path string
		want []string
	}{
		{"/_local/", []string{`href="/_local/functions"`, `href="/_local/queues"`, `href="/_local/tables"`, `href="/_local/dashboard"`}},
		{"/_local/dashboard", []string{`data-title="Writes accepted and refused"`, "AcceptedWrites operation=create (Sum): 1", "<circle",
			"Not filled locally: AWS/Lambda metrics are AWS's own", "Not filled locally: a widget of type alarm", "PipelineDashboard"}},
		{"/_local/functions", []string{`data-function="ReadFunction"`, `data-function="IngestFunction"`, `data-function="WorkerFunction"`,
			"REPORT RequestId: ", "not since start", `class="status ok"`}},
		{"/_local/queues", []string{`data-queue="WriteQueue"`, `data-queue="WriteDLQ"`, "dead letters of WriteQueue", marker, `id="redrive"`}},
		{"/_local/tables?table=UsersTable&q=" + mail, []string{`data-table="UsersTable"`, `data-table="RequestsTable"`, "NEW_AND_OLD_IMAGES", mail,
			"2 items, newest first", "<code>USER#" + id + "</code>", "<code>EMAIL#" + mail + "</code>"}}, // the user and its email's claim
		{"/_local/tables?table=UsersTable&key=USER%23&q=" + mail, []string{"1 item, newest first", "<code>USER#" + id + "</code>"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			dom := browsertest.DOM(t, base+tt.path)
			for _, w := range tt.want {
				if !strings.Contains(dom, w) {
					t.Errorf("no %q", w)
				}
			}
			if strings.Contains(dom, cloudtest.TestKey) || strings.Contains(dom, localcloud.DevSigningKey) {
				t.Error("the page shows a secret")
			}
			if t.Failed() {
				t.Logf("DOM:\n%s", dom)
			}
		})
	}

	// The redrive button posts here: the message leaves the dead-letter queue.
	resp, err := client.Post(base+"/_local/dlq/redrive", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Redriven int }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if out.Redriven != 1 {
		t.Errorf("redriven %d, want 1", out.Redriven)
	}
}
