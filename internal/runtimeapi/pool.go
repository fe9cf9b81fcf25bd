package runtimeapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// Function is what a Pool needs to know of a function.
type Function struct {
	Name        string
	Binary      string            // path to the bootstrap executable
	Env         map[string]string // the function's environment (the pool adds Lambda's own variables)
	Timeout     time.Duration
	MemoryMB    int
	Concurrency int       // the most instances at once; at least 1
	Log         io.Writer // where the function's output and the REPORT lines go
	Region      string
	Account     string
	// Debugger, when set, is the command that runs the binary: the binary's
	// path is appended to it (Delve: dlv exec --headless ... --continue). It
	// gets the function's environment and passes it on. Stopping an instance
	// interrupts it first, so that it can end the process it runs.
	Debugger []string
	// NoTimeout lets an invocation run as long as it takes, as a function
	// held at a breakpoint needs; its deadline is a day away.
	NoTimeout bool
}

// Result is the outcome of one invocation.
type Result struct {
	RequestID string
	Payload   []byte // the response, or the error document when FunctionError is set
	// FunctionError is "Unhandled" when the function failed (an error, a
	// panic, a timeout, an exit), as Lambda's X-Amz-Function-Error says.
	FunctionError string
	Duration      time.Duration
	InitDuration  time.Duration // non-zero on a cold start
}

// Pool runs invocations of one function on warm instances.
type Pool struct {
	fn   Function
	sem  chan struct{} // one token per instance that may run
	mu   sync.Mutex
	idle []*instance
	all  map[*instance]bool
	done bool
	gen  int // bumped by Reload: instances of an older generation are retired

	stats     Stats           // counts; Warm, the percentiles and the logs are filled in by Stats
	durations []time.Duration // the last 1,000 invocations' durations, oldest first
	logs      *tail
}

// Stats is what a pool has done since it started, as the local cloud's
// functions page shows it.
type Stats struct {
	Warm        int           `json:"warm"` // instances alive, idle or busy
	ColdStarts  int           `json:"coldStarts"`
	Invocations int           `json:"invocations"`
	Errors      int           `json:"errors"`  // invocations that failed (FunctionError set)
	Reloads     int           `json:"reloads"` // calls of Reload
	P50         time.Duration `json:"p50_ns"`  // of the last 1,000 invocations
	P99         time.Duration `json:"p99_ns"`
	Logs        []string      `json:"logs"` // the function's last 20 log lines, oldest first
}

// Stats returns what the pool has done so far.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.stats
	st.Warm = len(p.all)
	if n := len(p.durations); n > 0 {
		d := slices.Clone(p.durations)
		slices.Sort(d)
		st.P50, st.P99 = d[(n+1)/2-1], d[(n*99+99)/100-1] // nearest rank
	}
	st.Logs = p.logs.lines()
	return st
}

// tail passes writes on and keeps the last lines written.
type tail struct {
	next io.Writer
	mu   sync.Mutex
	last []string
}

const tailLines = 20

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	for line := range strings.SplitSeq(strings.TrimRight(string(b), "\n"), "\n") {
		t.last = append(t.last, line)
	}
	if over := len(t.last) - tailLines; over > 0 {
		t.last = slices.Delete(t.last, 0, over)
	}
	t.mu.Unlock()
	return t.next.Write(b)
}

func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.last)
}

// NewPool returns a Pool for fn. It starts no process until the first invocation.
func NewPool(fn Function) *Pool {
	if fn.Concurrency < 1 {
		fn.Concurrency = 1
	}
	if fn.Timeout <= 0 {
		fn.Timeout = 3 * time.Second
	}
	if fn.MemoryMB == 0 {
		fn.MemoryMB = 128
	}
	if fn.Log == nil {
		fn.Log = io.Discard
	}
	logs := &tail{next: fn.Log}
	fn.Log = logs
	return &Pool{fn: fn, sem: make(chan struct{}, fn.Concurrency), all: map[*instance]bool{}, logs: logs}
}

// ARN returns the function's ARN.
func (p *Pool) ARN() string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", p.fn.Region, p.fn.Account, p.fn.Name)
}

// Invoke runs one invocation with payload and the X-Ray trace header trace
// ("" for none) and waits for its result. An error means the invocation could
// not run at all (the binary is missing, ctx ended while waiting for an instance).
func (p *Pool) Invoke(ctx context.Context, payload []byte, trace string) (Result, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	defer func() { <-p.sem }()

	inst, cold, err := p.take()
	if err != nil {
		return Result{}, err
	}
	res := inst.invoke(payload, trace)
	if cold {
		res.InitDuration = inst.initDuration
	}
	p.count(res, cold)
	p.report(res, inst)
	p.give(inst)
	return res, nil
}

// count adds an invocation to the pool's Stats.
func (p *Pool) count(res Result, cold bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Invocations++
	if cold {
		p.stats.ColdStarts++
	}
	if res.FunctionError != "" {
		p.stats.Errors++
	}
	p.durations = append(p.durations, res.Duration)
	if over := len(p.durations) - 1000; over > 0 {
		p.durations = slices.Delete(p.durations, 0, over)
	}
}

func (p *Pool) take() (*instance, bool, error) {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return nil, false, errors.New("runtimeapi: pool closed")
	}
	for len(p.idle) > 0 {
		inst := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if inst.alive() && inst.gen == p.gen {
			p.mu.Unlock()
			return inst, false, nil
		}
		delete(p.all, inst)
	}
	p.mu.Unlock()
	inst, err := p.start()
	if err != nil {
		return nil, false, err
	}
	p.mu.Lock()
	p.all[inst] = true
	p.mu.Unlock()
	return inst, true, nil
}

func (p *Pool) give(inst *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !inst.alive() || p.done || inst.gen != p.gen {
		delete(p.all, inst)
		inst.stop()
		return
	}
	p.idle = append(p.idle, inst)
}

// Reload retires the pool's instances for a new build of the function's
// binary: idle instances stop now, those running an invocation finish it and
// then stop, and later invocations run the new binary. It starts one instance
// of the new binary before it returns, so the next invocation finds it warm,
// and returns that instance's error if it cannot start (the next invocation
// then tries again, cold). Write the new binary with a rename (a running
// process keeps the file it started from).
func (p *Pool) Reload() error {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return errors.New("runtimeapi: pool closed")
	}
	p.gen++
	p.stats.Reloads++
	idle := p.idle
	p.idle = nil
	for _, inst := range idle {
		delete(p.all, inst)
	}
	p.mu.Unlock()
	for _, inst := range idle {
		inst.stop()
	}
	return p.startIdle()
}

// Warm starts an instance now, unless one is idle, so that the next
// invocation finds it warm (and a debugger can attach to it before any).
func (p *Pool) Warm() error {
	p.mu.Lock()
	if p.done || len(p.idle) > 0 {
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	return p.startIdle()
}

// startIdle starts an instance and makes it idle, ready for the next
// invocation; one that the pool no longer wants once it has started (the
// pool closed, or reloaded again meanwhile) is stopped instead.
func (p *Pool) startIdle() error {
	inst, err := p.start()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done || inst.gen != p.gen {
		inst.stop()
		return nil
	}
	p.all[inst] = true
	p.idle = append(p.idle, inst)
	return nil
}

// Close stops every instance.
func (p *Pool) Close() {
	p.mu.Lock()
	p.done = true
	all := p.all
	p.all, p.idle = map[*instance]bool{}, nil
	p.mu.Unlock()
	for inst := range all {
		inst.stop()
	}
}

func (p *Pool) report(r Result, inst *instance) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) }
	billed := (r.Duration.Milliseconds() + 1)
	line := fmt.Sprintf("REPORT RequestId: %s\tDuration: %s ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		r.RequestID, ms(r.Duration), billed, p.fn.MemoryMB, inst.peakMB)
	if r.InitDuration > 0 {
		line += "\tInit Duration: " + ms(r.InitDuration) + " ms"
	}
	if r.FunctionError != "" {
		line += "\tStatus: error"
	}
	fmt.Fprintf(p.fn.Log, "END RequestId: %s\n%s\n", r.RequestID, line)
}

// invocation is one request handed to an instance.
type invocation struct {
	id       string
	payload  []byte
	trace    string
	deadline time.Time
	result   chan Result
}

// instance is one process of the function and its Runtime API endpoint.
type instance struct {
	pool         *Pool
	cmd          *exec.Cmd
	srv          *http.Server
	next         chan *invocation // invocations for the process to pull
	mu           sync.Mutex
	current      *invocation // the invocation in flight
	gen          int         // the pool's generation when it started
	exited       chan struct{}
	exitErr      error
	initErr      []byte
	ready        chan struct{} // closed at the process's first /next
	readyOnce    sync.Once
	started      time.Time
	initDuration time.Duration
	peakMB       int // the process's peak memory, read at the end of each invocation
}

func (p *Pool) start() (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: listen: %w", err)
	}
	p.mu.Lock()
	gen := p.gen
	p.mu.Unlock()
	inst := &instance{pool: p, gen: gen, next: make(chan *invocation), exited: make(chan struct{}), ready: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", inst.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", inst.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", inst.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", inst.handleInitError)
	inst.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = inst.srv.Serve(ln) }()

	fn := p.fn
	cmd := exec.Command(fn.Binary)
	if len(fn.Debugger) > 0 {
		cmd = exec.Command(fn.Debugger[0], append(fn.Debugger[1:], fn.Binary)...)
	}
	cmd.Env = append(os.Environ()[:0:0], "PATH="+os.Getenv("PATH"), "HOME="+os.Getenv("HOME"), "TZ=:UTC")
	for k, v := range fn.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env,
		"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME="+fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(fn.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+fn.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME="+time.Now().Format("2006/01/02")+"/[$LATEST]"+strings.ReplaceAll(uuid.NewString(), "-", ""),
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"AWS_REGION="+fn.Region, "AWS_DEFAULT_REGION="+fn.Region,
		"LAMBDA_TASK_ROOT="+dirOf(fn.Binary), "LAMBDA_RUNTIME_DIR="+dirOf(fn.Binary),
		"_HANDLER=bootstrap",
	)
	cmd.Dir = dirOf(fn.Binary)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	inst.cmd = cmd
	inst.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = inst.srv.Close()
		return nil, fmt.Errorf("runtimeapi: start %s: %w (run `make build`)", fn.Binary, err)
	}
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		prefix := "[" + fn.Name + "] "
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintf(fn.Log, "%s%s\n", prefix, sc.Text())
		}
	}()
	go func() {
		<-logsDone
		err := cmd.Wait()
		inst.mu.Lock()
		inst.exitErr = err
		inst.mu.Unlock()
		close(inst.exited)
	}()
	// Wait for the first /next (the end of init), an init error or an exit.
	select {
	case <-inst.ready:
		inst.initDuration = time.Since(inst.started)
		return inst, nil
	case <-inst.exited:
		inst.stop()
		msg := string(inst.initErr)
		if msg == "" {
			msg = fmt.Sprintf("Runtime exited with error: %v", inst.exitError())
		}
		return nil, fmt.Errorf("runtimeapi: %s failed to start: %s", fn.Name, msg)
	case <-time.After(initLimit(fn)):
		inst.stop()
		return nil, fmt.Errorf("runtimeapi: %s did not call /next within %s of starting", fn.Name, initLimit(fn))
	}
}

// initLimit is how long a new instance has to call /next: 10 s, or a minute
// under a debugger, which reads the binary's debugging information first.
func initLimit(fn Function) time.Duration {
	if len(fn.Debugger) > 0 {
		return time.Minute
	}
	return 10 * time.Second
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return "."
}

func (inst *instance) alive() bool {
	select {
	case <-inst.exited:
		return false
	default:
		return true
	}
}

func (inst *instance) exitError() error {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return inst.exitErr
}

// stop kills the process group and closes the endpoint.
func (inst *instance) stop() {
	if inst.cmd.Process != nil && len(inst.pool.fn.Debugger) > 0 {
		// A debugger ends the process it started when interrupted; killed,
		// it would leave it behind (Delve starts it in a group of its own).
		_ = inst.cmd.Process.Signal(os.Interrupt)
		select {
		case <-inst.exited:
		case <-time.After(5 * time.Second):
		}
	}
	if inst.cmd.Process != nil {
		_ = syscall.Kill(-inst.cmd.Process.Pid, syscall.SIGKILL)
	}
	_ = inst.srv.Close()
	select {
	case <-inst.exited:
	case <-time.After(5 * time.Second):
	}
}

// maxMemoryMB reads the process's peak resident memory, as REPORT shows it.
func (inst *instance) maxMemoryMB() int {
	if inst.cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", inst.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return (kb + 1023) / 1024
		}
	}
	return 0
}

func (inst *instance) invoke(payload []byte, trace string) Result {
	fn := inst.pool.fn
	timeout := fn.Timeout
	if fn.NoTimeout {
		timeout = 24 * time.Hour
	}
	inv := &invocation{id: uuid.NewString(), payload: payload, trace: trace, deadline: time.Now().Add(timeout), result: make(chan Result, 1)}
	fmt.Fprintf(fn.Log, "START RequestId: %s Version: $LATEST\n", inv.id)
	start := time.Now()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	expired := timer.C
	if fn.NoTimeout {
		expired = nil // never
	}
	select {
	case inst.next <- inv:
	case <-inst.exited:
		return inst.failed(inv, start, "Runtime.ExitError", fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %v", inv.id, inst.exitError()))
	case <-expired:
		inst.stop()
		return inst.timedOut(inv, start)
	}
	select {
	case r := <-inv.result:
		r.Duration = time.Since(start)
		inst.peakMB = inst.maxMemoryMB()
		return r
	case <-inst.exited:
		return inst.failed(inv, start, "Runtime.ExitError", fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %v", inv.id, inst.exitError()))
	case <-expired:
		inst.peakMB = inst.maxMemoryMB()
		inst.stop()
		return inst.timedOut(inv, start)
	}
}

func (inst *instance) timedOut(inv *invocation, start time.Time) Result {
	msg := fmt.Sprintf("%s %s Task timed out after %.2f seconds", time.Now().UTC().Format(time.RFC3339Nano), inv.id, inst.pool.fn.Timeout.Seconds())
	fmt.Fprintf(inst.pool.fn.Log, "%s\n", msg)
	return inst.failed(inv, start, "Sandbox.Timedout", msg)
}

func (inst *instance) failed(inv *invocation, start time.Time, typ, msg string) Result {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return Result{RequestID: inv.id, Payload: b, FunctionError: "Unhandled", Duration: time.Since(start)}
}

func (inst *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	inst.readyOnce.Do(func() { close(inst.ready) })
	var inv *invocation
	select {
	case inv = <-inst.next:
	case <-r.Context().Done():
		return
	}
	inst.mu.Lock()
	inst.current = inv
	inst.mu.Unlock()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inst.pool.ARN())
	if inv.trace != "" {
		h.Set("Lambda-Runtime-Trace-Id", inv.trace)
	}
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(inv.payload)
}

// finish hands the in-flight invocation with id its result.
func (inst *instance) finish(w http.ResponseWriter, id string, res Result) {
	inst.mu.Lock()
	inv := inst.current
	if inv != nil && inv.id == id {
		inst.current = nil
	}
	inst.mu.Unlock()
	if inv == nil || inv.id != id {
		http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return
	}
	res.RequestID = id
	inv.result <- res
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func (inst *instance) handleResponse(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 6<<20+1))
	if err != nil {
		return
	}
	if len(body) > 6<<20 {
		msg, _ := json.Marshal(map[string]string{"errorType": "Function.ResponseSizeTooLarge", "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes)."})
		inst.finish(w, r.PathValue("id"), Result{Payload: msg, FunctionError: "Unhandled"})
		return
	}
	inst.finish(w, r.PathValue("id"), Result{Payload: body})
}

func (inst *instance) handleError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	inst.finish(w, r.PathValue("id"), Result{Payload: body, FunctionError: "Unhandled"})
}

func (inst *instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	inst.mu.Lock()
	inst.initErr = body
	inst.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}
