package runtimeapi

import (
	"github.com/usersapi/usersapi/internal/logbuf"

	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/echo")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build echo: %v\n%s", err, out)
	}
	return bin
}

type answer struct {
	RequestID, ARN, Trace, Env string
	Deadline                   bool
	PID                        int
}

func invoke(t *testing.T, p *Pool, payload string) (Result, answer) {
	t.Helper()
	r, err := p.Invoke(context.Background(), []byte(payload), "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	if err != nil {
		t.Fatal(err)
	}
	var a answer
	if r.FunctionError == "" {
		if err := json.Unmarshal(r.Payload, &a); err != nil {
			t.Fatalf("payload %s: %v", r.Payload, err)
		}
	}
	return r, a
}

func TestPool(t *testing.T) {
	log := &logbuf.Buffer{}
	p := NewPool(Function{Name: "Echo", Binary: build(t), Env: map[string]string{"ECHO_ENV": "from-template"},
		Timeout: time.Second, MemoryMB: 128, Concurrency: 2, Log: log, Region: "us-east-1", Account: "000000000000"})
	defer p.Close()

	r, a := invoke(t, p, `{}`)
	if r.FunctionError != "" || a.RequestID != r.RequestID || a.ARN != "arn:aws:lambda:us-east-1:000000000000:function:Echo" ||
		!strings.HasPrefix(a.Trace, "Root=1-5759e988") || !a.Deadline || a.Env != "from-template" {
		t.Fatalf("result %+v answer %+v", r, a)
	}
	if r.InitDuration == 0 {
		t.Error("the first invocation reports no init duration")
	}
	r2, a2 := invoke(t, p, `{}`)
	if a2.PID != a.PID || r2.InitDuration != 0 {
		t.Errorf("second invocation: pid %d (first %d), init %v: not warm", a2.PID, a.PID, r2.InitDuration)
	}
	for _, want := range []string{"START RequestId: " + r.RequestID, "END RequestId: " + r.RequestID, "REPORT RequestId: " + r.RequestID, "Init Duration:", "Max Memory Used:"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}

	r, _ = invoke(t, p, `{"error":"bad thing"}`)
	if r.FunctionError != "Unhandled" || !strings.Contains(string(r.Payload), "bad thing") {
		t.Errorf("error: %+v %s", r, r.Payload)
	}
	r, _ = invoke(t, p, `{"panic":true}`)
	if r.FunctionError != "Unhandled" || !strings.Contains(string(r.Payload), "told to panic") {
		t.Errorf("panic: %+v %s", r, r.Payload)
	}
	r, _ = invoke(t, p, `{"exit":true}`)
	if r.FunctionError != "Unhandled" || !strings.Contains(string(r.Payload), "Runtime.ExitError") {
		t.Errorf("exit: %+v %s", r, r.Payload)
	}
	r, _ = invoke(t, p, `{"sleepMs":3000}`)
	if r.FunctionError != "Unhandled" || !strings.Contains(string(r.Payload), "Task timed out after 1.00 seconds") {
		t.Errorf("timeout: %+v %s", r, r.Payload)
	}
	// After each failure the next invocation is served, by a new instance where the old one died.
	r, a = invoke(t, p, `{}`)
	if r.FunctionError != "" || a.PID == 0 {
		t.Fatalf("after the failures: %+v %s", r, r.Payload)
	}
}

func TestConcurrencyAndClose(t *testing.T) {
	p := NewPool(Function{Name: "Echo", Binary: build(t), Timeout: 5 * time.Second, Concurrency: 2, Region: "us-east-1", Account: "0"})
	var wg sync.WaitGroup
	pids := make(chan int, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, a := invoke(t, p, `{"sleepMs":200}`)
			pids <- a.PID
		}()
	}
	wg.Wait()
	close(pids)
	distinct := map[int]bool{}
	for pid := range pids {
		distinct[pid] = true
	}
	if len(distinct) != 2 {
		t.Fatalf("%d instances served 6 invocations with concurrency 2", len(distinct))
	}
	p.Close()
	time.Sleep(100 * time.Millisecond)
	for pid := range distinct {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("process %d outlived Close", pid)
		}
	}
}

func TestInitFailure(t *testing.T) {
	p := NewPool(Function{Name: "Echo", Binary: build(t), Env: map[string]string{"ECHO_FAIL_INIT": "1"}, Region: "us-east-1", Account: "0"})
	defer p.Close()
	if _, err := p.Invoke(context.Background(), []byte(`{}`), ""); err == nil || !strings.Contains(err.Error(), "failed to start") {
		t.Fatalf("init failure: %v", err)
	}
}

// TestReload swaps the binary under a running invocation: it finishes on the
// old process, which then stops, and the next invocation finds a new process
// already warm.
func TestReload(t *testing.T) {
	p := NewPool(Function{Name: "Echo", Binary: build(t), Timeout: 5 * time.Second, Concurrency: 2, Region: "us-east-1", Account: "0"})
	defer p.Close()
	_, first := invoke(t, p, `{}`)
	inFlight := make(chan answer)
	go func() {
		r, err := p.Invoke(context.Background(), []byte(`{"sleepMs":500}`), "")
		var a answer
		if err == nil && r.FunctionError == "" {
			_ = json.Unmarshal(r.Payload, &a)
		}
		inFlight <- a
	}()
	time.Sleep(100 * time.Millisecond)
	if err := p.Reload(); err != nil {
		t.Fatal(err)
	}
	old := <-inFlight
	if old.PID != first.PID {
		t.Fatalf("the in-flight invocation ran on pid %d, not on the warm %d, or failed", old.PID, first.PID)
	}
	r, a := invoke(t, p, `{}`)
	if a.PID == first.PID || r.InitDuration != 0 {
		t.Errorf("after Reload: pid %d (before: %d), init %v: want a new, warm process", a.PID, first.PID, r.InitDuration)
	}
	time.Sleep(100 * time.Millisecond)
	if err := syscall.Kill(first.PID, 0); err == nil {
		t.Errorf("process %d outlived the reload", first.PID)
	}
	st := p.Stats()
	if st.Invocations != 3 || st.ColdStarts != 1 || st.Errors != 0 || st.Reloads != 1 || st.Warm != 1 || st.P50 <= 0 || st.P99 < 500*time.Millisecond ||
		len(st.Logs) == 0 || !strings.HasPrefix(st.Logs[len(st.Logs)-1], "REPORT RequestId: "+r.RequestID) {
		t.Errorf("stats %+v", st)
	}
}
