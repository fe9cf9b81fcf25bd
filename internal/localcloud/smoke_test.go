package localcloud_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestSmokeScript runs scripts/smoke.sh, the smoke run of a deployed stage,
// against the local cloud with the same flags a deployed stage takes: the
// stage's URL, the template's development API key and a token. It must pass,
// and it must fail (exit 1, saying why) when the API answers otherwise.
func TestSmokeScript(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed: scripts/smoke.sh needs it", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	c := cloudtest.Cloud(t)
	var key string
	for _, k := range c.APIKeys {
		if k.Name == "DevApiKey" {
			key = k.Value
		}
	}
	if key == "" {
		t.Fatal("the dev stage has no DevApiKey")
	}
	token := strings.TrimPrefix(cloudtest.Token(t, c, "smoke", "users.read users.write"), "Bearer ")
	smoke := func(key string) (string, error) {
		cmd := exec.CommandContext(t.Context(), "bash", filepath.Join(cloudtest.Root(), "scripts", "smoke.sh"),
			"--url", c.URL, "--api-key", key, "--token", token, "--wait", "30")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := smoke(key)
	if err != nil || !strings.Contains(out, "smoke: ok:") {
		t.Fatalf("smoke.sh: %v\n%s", err, out)
	}
	for _, step := range []string{"POST /users", "GET /users/", "PATCH /users/", "DELETE /users/"} {
		if !strings.Contains(out, "smoke: "+step) {
			t.Errorf("smoke.sh skipped %s:\n%s", step, out)
		}
	}
	out, err = smoke("not-a-key")
	if code := exitCode(err); code != 1 || !strings.Contains(out, "FAIL: POST /users: expected 202, got 403") {
		t.Errorf("smoke.sh with a wrong key: exit %d, want 1 and the 403 named:\n%s", code, out)
	}
}

func exitCode(err error) int {
	if e := (*exec.ExitError)(nil); errors.As(err, &e) {
		return e.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
