package localcloud_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	usersapi "github.com/usersapi/usersapi/client"
	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestStateSurvivesRestart: `make run --data DIR`, stopped and started again,
// keeps the users, the requests' outcomes and the messages still queued.
// The first cloud writes a user; the second, with the event source mappings
// off, finds it and its request's outcome, and accepts a write that stays in
// the write queue when it stops; the third finds all of that and its worker
// applies the queued write.
func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	start := func(noMappings bool) *localcloud.Cloud {
		t.Helper()
		return cloudtest.Start(t, "", localcloud.Options{DataDir: dir, NoMappings: noMappings})
	}
	email := "restart-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.com"

	c := start(false)
	w, ada := create(t, alice(t, c), usersapi.UserInput{Name: "Ada Lovelace", Email: email, Age: 36})
	c.Close()

	c = start(true)
	api := alice(t, c)
	kept := func(c *localcloud.Cloud, api *usersapi.Client) {
		t.Helper()
		if u, err := api.GetUser(t.Context(), ada.ID); err != nil || u != ada {
			t.Fatalf("user after a restart: %+v, %v; want %+v", u, err, ada)
		}
		if st, err := api.GetRequest(t.Context(), w.RequestID); err != nil || st.Status != usersapi.StatusSucceeded || st.UserID != ada.ID {
			t.Fatalf("request %s after a restart: %+v, %v", w.RequestID, st, err)
		}
	}
	kept(c, api)
	queued, err := api.CreateUser(t.Context(), usersapi.UserInput{Name: "Grace Hopper", Email: "q-" + email})
	if err != nil {
		t.Fatal(err)
	}
	if n := visible(t, c, "WriteQueue"); n != 1 {
		t.Fatalf("%d messages in WriteQueue with the mappings off, want 1", n)
	}
	c.Close()

	c = start(false)
	api = alice(t, c)
	kept(c, api)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	u, err := api.Follow(queued.RequestID).Wait(ctx)
	if err != nil || u.Name != "Grace Hopper" {
		t.Fatalf("the write queued before the restart: %+v, %v\n%s", u, err, tail(cloudtest.Log.String()))
	}
	// The table's stream is read on from where the last run stopped, as
	// Lambda's mapping keeps its place: Grace's change is published, Ada's
	// (published by the first run) is not published again.
	for ids := map[string]int{}; ; {
		clear(ids)
		for _, ev := range c.Bus.Events() {
			var d struct{ UserID string }
			_ = json.Unmarshal(ev.Detail, &d)
			ids[d.UserID]++
		}
		if ids[u.ID] > 0 {
			if ids[ada.ID] != 0 {
				t.Fatalf("%d events of %s, published before the restart, published again", ids[ada.ID], ada.ID)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no event of %s: %v", u.ID, ids)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// visible returns how many messages the template's queue id holds, visible or not.
func visible(t *testing.T, c *localcloud.Cloud, id string) int {
	t.Helper()
	out, err := c.SQS.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(c.Stack.Resources[id].Attr["QueueUrl"]),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, _ := strconv.Atoi(out.Attributes[string(k)])
		n += v
	}
	return n
}
