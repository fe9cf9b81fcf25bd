package localcloud

import (
	"strings"
	"testing"

	"github.com/usersapi/usersapi/internal/browsertest"
)

// TestChromiumXRayPage checks that the service map page draws the map from
// its JSON: the node names are only in the DOM once the script has run.
func TestChromiumXRayPage(t *testing.T) {
	x, userID := tracedRequests(t)
	srv := servePages(t, x)
	dom := browsertest.DOM(t, srv.URL+"/_local/xray")
	for _, name := range []string{"client", testAPIName + "/dev", "IngestFunction", "SQS", "WorkerFunction", "DynamoDB", "StreamFunction", "EventBridge", "ReadFunction"} {
		if !strings.Contains(dom, `class="name" y="43">`+name+"</text>") {
			t.Errorf("the map has no node %s", name)
		}
	}
	for _, want := range []string{`class="edge`, "user_id=" + userID, "outcome=succeeded", "POST /dev/users"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page has no %q", want)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}
