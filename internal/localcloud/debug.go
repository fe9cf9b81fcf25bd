package localcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/usersapi/usersapi/internal/runtimeapi"
)

// DebugFlags are the go build flags of a function run under Delve: Lambda's
// tags, no optimisations and no inlining, full paths (no -trimpath), so that
// an editor's breakpoints by file and line are where the code is.
var DebugFlags = []string{"-tags", "lambda.norpc", "-gcflags=all=-N -l", "-buildvcs=false"}

// Debug is the function a cloud runs under Delve (Options.Debug).
type Debug struct {
	Function string // its logical id: ReadFunction
	Addr     string // where Delve's headless server listens: attach here
	Binary   string // the function built with DebugFlags
	dir      string // Binary's temporary directory, removed by Close
}

// LaunchJSON returns a configuration of VS Code's launch.json (the Go
// extension) that attaches to d.
func (d *Debug) LaunchJSON() string {
	host, port, _ := net.SplitHostPort(d.Addr)
	n, _ := strconv.Atoi(port)
	b, _ := json.MarshalIndent(struct {
		Name    string `json:"name"`
		Type    string `json:"type"`
		Request string `json:"request"`
		Mode    string `json:"mode"`
		Host    string `json:"host"`
		Port    int    `json:"port"`
	}{"Attach to " + d.Function + " (make run --debug)", "go", "attach", "remote", host, n}, "", "  ")
	return string(b)
}

// delve returns the dlv to run: opt.Delve, the one `make tools` installs,
// or one on PATH.
func (c *Cloud) delve() (string, error) {
	if c.opt.Delve != "" {
		return c.opt.Delve, nil
	}
	tools := os.Getenv("USERSAPI_TOOLS")
	if tools == "" {
		tools = filepath.Join(c.opt.Root, ".tools")
	}
	if p := filepath.Join(tools, "bin", "dlv"); fileExists(p) {
		return p, nil
	}
	if p, err := exec.LookPath("dlv"); err == nil {
		return p, nil
	}
	return "", errors.New("--debug: dlv not found in .tools/bin or on PATH: run `make tools`")
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// startDebug builds the function opt.Debug names with DebugFlags and makes
// fn run it under Delve in headless mode, one instance at a time (one
// debugger, one address), with no timeout.
func (c *Cloud) startDebug(id string, fn *runtimeapi.Function) error {
	dlv, err := c.delve()
	if err != nil {
		return err
	}
	addr := c.opt.DebugAddr
	if addr == "" {
		addr = "127.0.0.1:2345"
	}
	if host, port, err := net.SplitHostPort(addr); err != nil || port == "0" {
		// Delve needs its port before it starts: take a free one now.
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return fmt.Errorf("--debug: %w", err)
		}
		addr = ln.Addr().String()
		_ = ln.Close()
	}
	if err := loopbackAddr(addr); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "usersapi-debug-")
	if err != nil {
		return err
	}
	d := &Debug{Function: id, Addr: addr, Binary: filepath.Join(dir, binaryDir(id), "bootstrap"), dir: dir}
	c.Debug = d
	args := append([]string{"build"}, DebugFlags...)
	cmd := exec.Command("go", append(args, "-o", d.Binary, "./functions/"+binaryDir(id))...)
	cmd.Dir = c.opt.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("--debug: build %s: %w\n%s", id, err, out)
	}
	fn.Binary = d.Binary
	fn.Debugger = []string{dlv, "exec", "--headless", "--api-version=2", "--accept-multiclient",
		"--listen=" + addr, "--continue"}
	fn.NoTimeout = true
	fn.Concurrency = 1
	return nil
}

// loopbackAddr refuses a debugger address that is not on this machine: Delve
// runs any code its client asks it to.
func loopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--debug-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--debug-addr %q: must be a loopback address such as 127.0.0.1:2345", addr)
}
