package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Region and AccountID are what the emulators put in ARNs and queue URLs.
const (
	Region    = "us-east-1"
	AccountID = "000000000000"
)

// ErrNotInstalled reports that an emulator is missing from the tools
// directory; `make tools` installs it.
var ErrNotInstalled = errors.New("not installed")

// ErrNoJava reports that no java command was found; both emulators need Java 17.
var ErrNoJava = errors.New("java not found")

// Options configures a server. The zero value is ready to use.
type Options struct {
	// ToolsDir is where `make tools` installed the emulators. Empty means
	// $USERSAPI_TOOLS, or else the .tools directory beside the go.mod found by
	// walking up from the working directory.
	ToolsDir string

	// DataDir keeps the server's data between runs. Empty means in memory.
	DataDir string

	// Stdout and Stderr receive the server's output. Nil discards it; the last
	// lines are kept anyway and quoted when the server fails to start.
	Stdout, Stderr io.Writer

	// StartTimeout bounds the wait for the server to answer. Zero means 60s.
	StartTimeout time.Duration
}

// Server is a running emulator.
type Server struct {
	// Name says which emulator this is, e.g. "DynamoDB Local".
	Name string
	// Endpoint is the base URL to give an SDK client, e.g. http://127.0.0.1:41873.
	Endpoint string

	cmd      *exec.Cmd
	tail     *tailBuffer
	done     chan struct{} // closed when the process has exited
	waitErr  error         // set before done is closed
	stopOnce sync.Once
	stopErr  error
}

// PID returns the server's process id, which is also its process group id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Done is closed when the server's process has exited, by Stop or otherwise.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop ends the server and every process in its group: SIGTERM, then SIGKILL
// if it has not exited after five seconds. It returns once the process has
// been reaped, and reports an error if the server had already died on its
// own. Stop is safe to call more than once.
//
// The group is signalled only while its leader, the server, has not been
// reaped, so the signal cannot reach a process that reused the id. The
// emulators start no processes of their own.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		select {
		case <-s.done:
			s.stopErr = fmt.Errorf("%s exited before Stop: %v%s", s.Name, s.waitErr, s.tail.quote())
			return
		default:
		}
		killGroup(s.cmd, false)
		select {
		case <-s.done:
			return
		case <-time.After(5 * time.Second):
		}
		killGroup(s.cmd, true)
		<-s.done
	})
	return s.stopErr
}

// jvmFlags trade peak speed for a faster start, which is what a test run
// needs: C1 only, one GC thread. On two busy cores they start ElasticMQ about
// 1.5s sooner (docs/emulators.md).
var jvmFlags = []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData"}

// spec is what differs between the emulators.
type spec struct {
	name    string
	args    func(port int) []string // java arguments
	dir     string                  // working directory
	target  string                  // X-Amz-Target of the readiness request
	content string                  // its Content-Type
}

// start runs java with sp on a free port until the server answers.
func start(ctx context.Context, java string, sp spec, opt Options) (*Server, error) {
	timeout := opt.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// The free port is picked by closing a listener, so another process may
	// take it first; the server then dies at once and the next try gets
	// another port.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := launch(ctx, java, sp, port, opt)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil || !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	return nil, lastErr
}

func launch(ctx context.Context, java string, sp spec, port int, opt Options) (*Server, error) {
	s := &Server{
		Name:     sp.name,
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		tail:     &tailBuffer{max: 4096},
		done:     make(chan struct{}),
	}
	cmd := exec.Command(java, append(jvmFlags, sp.args(port)...)...)
	cmd.Dir = sp.dir
	cmd.Stdin = nil
	cmd.Stdout = writers(opt.Stdout, s.tail)
	cmd.Stderr = writers(opt.Stderr, s.tail)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", sp.name, err)
	}
	s.cmd = cmd
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()

	if err := s.waitReady(ctx, sp); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("%s did not start at %s: %w%s", sp.name, s.Endpoint, err, s.tail.quote())
	}
	return s, nil
}

// waitReady polls the endpoint with a List request until it answers 200.
func (s *Server) waitReady(ctx context.Context, sp spec) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint+"/", strings.NewReader("{}"))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", sp.content)
		req.Header.Set("X-Amz-Target", sp.target)
		// DynamoDB Local parses, but does not check, the signature; its access
		// key must be alphanumeric.
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20200101/"+Region+
			"/x/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			if strings.Contains(s.tail.String(), "in use") {
				return errors.New("address already in use")
			}
			return fmt.Errorf("exited: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("no answer: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// locate finds what every emulator needs: java, and the tools directory
// that Options.ToolsDir resolves to.
func locate(opt Options) (java, tools string, err error) {
	if java, err = findJava(); err != nil {
		return "", "", err
	}
	if tools, err = toolsDir(opt); err != nil {
		return "", "", err
	}
	return java, tools, nil
}

// dataDir resolves Options.DataDir to an absolute path and creates it; ""
// means in memory.
func dataDir(opt Options) (string, error) {
	if opt.DataDir == "" {
		return "", nil
	}
	data, err := filepath.Abs(opt.DataDir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		return "", err
	}
	return data, nil
}

func findJava() (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("%w on PATH: the emulators need Java 17 (apt-get install openjdk-17-jre-headless)", ErrNoJava)
	}
	return p, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// toolsDir resolves Options.ToolsDir.
func toolsDir(opt Options) (string, error) {
	if opt.ToolsDir != "" {
		return filepath.Abs(opt.ToolsDir)
	}
	if d := os.Getenv("USERSAPI_TOOLS"); d != "" {
		return filepath.Abs(d)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".tools"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: set USERSAPI_TOOLS to the .tools directory")
		}
		dir = parent
	}
}

func writers(w io.Writer, tail *tailBuffer) io.Writer {
	if w == nil {
		return tail
	}
	return io.MultiWriter(w, tail)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// quote returns the last lines of output, indented, for an error message.
func (t *tailBuffer) quote() string {
	s := strings.TrimSpace(t.String())
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	var b bytes.Buffer
	b.WriteString("; last output:")
	for _, l := range lines {
		b.WriteString("\n\t")
		b.WriteString(l)
	}
	return b.String()
}
