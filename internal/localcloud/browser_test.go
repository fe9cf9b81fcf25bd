package localcloud

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromiumDOM loads url in headless Chromium, lets its scripts run for 5 s
// of virtual time, and returns the DOM they leave. Without Chromium it skips,
// or fails under CI=true (Debian: apt-get install chromium).
func chromiumDOM(t *testing.T, url string) string {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed: apt-get install chromium")
		}
		t.Skip("chromium is not installed: apt-get install chromium")
	}
	profile, err := os.MkdirTemp("", "chromium-profile-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--user-data-dir="+profile, "--virtual-time-budget=5000", "--dump-dom", url)
	// Chromium starts helper processes: end them all with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return stdout.String()
}

// TestChromiumXRayPage checks that the service map page draws the map from
// its JSON: the node names are only in the DOM once the script has run.
func TestChromiumXRayPage(t *testing.T) {
	p := newPipeline(t)
	userID := p.scenario(t)
	srv := p.serve(t)
	dom := chromiumDOM(t, srv.URL+"/_local/xray")
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
