package localcloud_test

import (
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// delveState is the part of Delve's api.DebuggerState the test reads.
type delveState struct {
	Running       bool `json:"Running"`
	Exited        bool `json:"exited"`
	CurrentThread *struct {
		File       string `json:"file"`
		Line       int    `json:"line"`
		Breakpoint *struct {
			ID int `json:"id"`
		} `json:"breakPoint"`
		Function *struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"currentThread"`
}

// delveCommand is RPCServer.Command's answer.
type delveCommand struct {
	State delveState
}

// dlvPath finds the dlv `make tools` installs; without it the test fails
// under CI=true and is skipped elsewhere.
func dlvPath(t *testing.T) string {
	t.Helper()
	if p := filepath.Join(cloudtest.Root(), ".tools", "bin", "dlv"); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath("dlv"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("dlv not installed in .tools/bin: make tools")
	}
	t.Skip("dlv not installed: make tools")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestDebugFunction: with Debug set, ReadFunction runs under Delve's headless
// server. A client attached over Delve's JSON-RPC API sets a breakpoint in
// the read handler's Handle; a request stops there, past nothing (no timeout
// ends it), and completes once the client continues.
func TestDebugFunction(t *testing.T) {
	c := cloudtest.Start(t, "", localcloud.Options{Debug: "ReadFunction", DebugAddr: "127.0.0.1:0", Delve: dlvPath(t),
		Timeouts: map[string]time.Duration{"ReadFunction": time.Second}})
	if c.Debug == nil || c.Debug.Function != "ReadFunction" {
		t.Fatalf("Debug = %+v", c.Debug)
	}
	if j := c.Debug.LaunchJSON(); !strings.Contains(j, `"request": "attach"`) || !strings.Contains(j, `"mode": "remote"`) {
		t.Errorf("launch.json entry:\n%s", j)
	}
	conn, err := net.DialTimeout("tcp", c.Debug.Addr, 10*time.Second)
	if err != nil {
		t.Fatalf("attach to Delve at %s: %v\n%s", c.Debug.Addr, err, tail(cloudtest.Log.String()))
	}
	dlv := jsonrpc.NewClient(conn)
	defer dlv.Close()

	var st delveCommand
	if err := dlv.Call("RPCServer.Command", map[string]any{"name": "halt"}, &st); err != nil {
		t.Fatalf("halt: %v", err)
	}
	var bp map[string]any
	if err := dlv.Call("RPCServer.CreateBreakpoint", map[string]any{"Breakpoint": map[string]any{"functionName": "main.(*handler).Handle"}}, &bp); err != nil {
		t.Fatalf("breakpoint: %v", err)
	}
	stopped := dlv.Go("RPCServer.Command", map[string]any{"name": "continue"}, &delveCommand{}, nil)

	answered := make(chan response, 1)
	go func() {
		// Longer than the function's 1 s timeout: the debugged function has none.
		answered <- do(t, c, "GET", "/users/01a249e0-d98c-7624-9b39-2b32e4a67b01", "")
	}()
	var hit *rpc.Call
	select {
	case hit = <-stopped.Done:
	case r := <-answered:
		t.Fatalf("the request completed (%d) without stopping at the breakpoint", r.status)
	case <-time.After(30 * time.Second):
		t.Fatalf("no breakpoint hit in 30 s\n%s", tail(cloudtest.Log.String()))
	}
	if hit.Error != nil {
		t.Fatalf("continue: %v", hit.Error)
	}
	at := hit.Reply.(*delveCommand).State.CurrentThread
	if at == nil || at.Breakpoint == nil || at.Function == nil || at.Function.Name != "main.(*handler).Handle" {
		t.Fatalf("stopped at %+v, want the breakpoint in main.(*handler).Handle", at)
	}
	if want := filepath.Join(cloudtest.Root(), "functions", "read", "handler.go"); filepath.Clean(at.File) != filepath.Clean(want) {
		t.Errorf("stopped in %s, want %s (a path an editor has: no -trimpath)", at.File, want)
	}
	time.Sleep(2 * time.Second) // held past the function's timeout
	dlv.Go("RPCServer.Command", map[string]any{"name": "continue"}, &delveCommand{}, nil)
	select {
	case r := <-answered:
		if r.status != http.StatusNotFound {
			t.Errorf("after continue: %d %s, want the handler's 404", r.status, r.raw)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the request did not complete after continue")
	}
}
