package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// checkout returns a temporary root that links to the repository's files
// and has, as bin/, the functions built for the tests: what a run finds in a
// checkout after `make build`.
func checkout(t *testing.T, files ...string) string {
	t.Helper()
	bins, err := cloudtest.Build()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, f := range files {
		if err := os.Symlink(filepath.Join(cloudtest.Root(), f), filepath.Join(root, f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(bins, filepath.Join(root, "bin")); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestInterruptStopsEverything: Ctrl-C (SIGINT) stops the emulators and every
// function process; no process of the run is left. Before that, the banner's
// DynamoDB line is what usersapi-reshard needs: it moves the run's users to 3
// list shards while the run serves, and GET /users still lists the user
// created before.
func TestInterruptStopsEverything(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "usersapi-local")
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	root := checkout(t, "template.yaml", "api")
	marker := "USERSAPI_RUN_MARKER=" + filepath.Base(root)
	cmd := exec.Command(exe, "run", "--addr", "127.0.0.1:0")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), marker, "USERSAPI_TOOLS="+filepath.Join(cloudtest.Root(), ".tools"))
	out, _ := cmd.StdoutPipe()
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	api := make(chan string, 1)
	dynamodb := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "API" {
				api <- f[1]
			}
			if f := strings.Fields(sc.Text()); len(f) == 5 && f[0] == "dynamodb" && f[2] == "users" {
				dynamodb <- []string{f[1], f[4]} // endpoint, table
			}
			if strings.Contains(sc.Text(), "Ctrl-C") {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			if os.Getenv("CI") != "true" && strings.Contains(stderr.String(), "make tools") {
				t.Skip("emulators not installed: make tools")
			}
			t.Fatalf("run ended before it was ready:\n%s", stderr.String())
		}
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("not ready after 90s:\n%s", stderr.String())
	}
	// A write starts the ingest, worker and stream functions: processes to stop.
	tokenCmd := exec.Command(exe, "token", "--sub", "alice")
	tokenCmd.Dir = root // the run's issuer key is under its root
	token, err := tokenCmd.Output()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	base := <-api
	adminCmd := exec.Command(exe, "token", "--sub", "root", "--scope", "users.admin")
	adminCmd.Dir = root
	admin, err := adminCmd.Output()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	call := func(method, path, body string) (int, string) {
		t.Helper()
		bearer := token
		if method == "GET" {
			bearer = admin // lists every user
		}
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", "local-devapikey-0123456789abcdef")
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(bearer)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := call("POST", "/users", `{"name":"Ada","email":"ada@example.com"}`)
	if code != 202 {
		t.Fatalf("POST: %d %s", code, body)
	}
	var accepted struct{ UserID string }
	if err := json.Unmarshal([]byte(body), &accepted); err != nil || accepted.UserID == "" {
		t.Fatalf("POST answered %s", body)
	}
	time.Sleep(2 * time.Second)
	if left := processesWith(marker, root); len(left) < 6 {
		t.Fatalf("only %d processes carry the marker while running: %v", len(left), left)
	}

	// usersapi-reshard against the run, as the banner says (short waits:
	// nothing is written or listed meanwhile, and the read function reads the
	// layout first after it).
	db := <-dynamodb
	reshard := exec.Command("go", "run", "../usersapi-reshard", "--endpoint", db[0], "--table", db[1], "--to", "3", "--settle", "10ms", "--catch-up", "10ms")
	if got, err := reshard.CombinedOutput(); err != nil || !strings.Contains(string(got), "1 live users over 3 shards (from 2)") {
		t.Fatalf("usersapi-reshard: %v\n%s", err, got)
	}
	if code, body := call("GET", "/users", ""); code != 200 || !strings.Contains(body, accepted.UserID) {
		t.Errorf("GET /users after the reshard: %d %s; want the user %s", code, body, accepted.UserID)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Logf("run stopped: %v", err) // its exit status after Ctrl-C is not what this test is about
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("run did not stop within 30s of Ctrl-C")
	}
	time.Sleep(200 * time.Millisecond)
	if left := processesWith(marker, root); len(left) > 0 {
		t.Fatalf("processes left after Ctrl-C: %v", left)
	}
}

// processesWith lists the processes whose environment holds marker (the run
// and the emulators) or whose command names a file under root (the
// functions, which get Lambda's environment, not ours).
func processesWith(marker, root string) []string {
	var found []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join("/proc", d.Name(), "environ"))
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		ours := strings.HasPrefix(string(cmdline), root+"/")
		for _, kv := range strings.Split(string(env), "\x00") {
			ours = ours || kv == marker
		}
		if ours {
			found = append(found, d.Name()+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return found
}
