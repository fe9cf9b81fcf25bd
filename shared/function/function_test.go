package function_test

import (
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/shared/function"
)

// TestStartFailedInit: a handler that cannot be built ends the process with
// status 1 and says why, as Lambda expects of a failed init.
func TestStartFailedInit(t *testing.T) {
	if os.Getenv("FUNCTION_TEST_CHILD") == "1" {
		load := func(getenv func(string) string) (string, error) {
			return "", function.Missing(getenv("FUNCTION_TEST_SETTING"))
		}
		build := func(string, *slog.Logger) (any, error) { panic("build after a failed load") }
		function.Start(load, build)
		return
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestStartFailedInit$")
	cmd.Env = append(os.Environ(), "FUNCTION_TEST_CHILD=1", "FUNCTION_TEST_SETTING=TABLE")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit code %d (%v), want 1; output:\n%s", code, err, out)
	}
	if !strings.Contains(string(out), "TABLE must be set") {
		t.Errorf("output does not say why:\n%s", out)
	}
}
