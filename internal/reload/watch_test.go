package reload

import (
	"github.com/usersapi/usersapi/internal/logbuf"

	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pool records the reloads of one function.
type pool struct {
	mu sync.Mutex
	n  int
}

func (p *pool) Reload() error { p.mu.Lock(); defer p.mu.Unlock(); p.n++; return nil }
func (p *pool) count() int    { p.mu.Lock(); defer p.mu.Unlock(); return p.n }

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mainSource(say string) string {
	return "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/m/lib\"\n)\n\nfunc main() { fmt.Println(" + say + ", lib.Word) }\n"
}

// eventually waits up to 30 s for cond.
func eventually(t *testing.T, what string, cond func() bool, log *logbuf.Buffer) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within 30 s; log:\n%s", what, log)
}

func output(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	return strings.TrimSpace(string(out))
}

// TestWatcher edits a module of two functions and a library they share: a
// change to the library rebuilds both, a change to one's main only that one,
// a new package is found, a build error keeps the old binary, and a change
// to a file read at start asks for a restart.
func TestWatcher(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "go.mod"), "module example.com/m\n\ngo 1.26\n")
	write(t, filepath.Join(root, "template.yaml"), "Resources: {}\n")
	write(t, filepath.Join(root, "lib", "lib.go"), "package lib\n\n// Word is said.\nconst Word = \"one\"\n")
	write(t, filepath.Join(root, "functions", "a", "main.go"), mainSource(`"a"`))
	write(t, filepath.Join(root, "functions", "b", "main.go"), mainSource(`"b"`))
	write(t, filepath.Join(root, "functions", "b", "web", "page.html"), "<p>b</p>\n")
	write(t, filepath.Join(root, "functions", "b", "embed.go"), "package main\n\nimport \"embed\"\n\n//go:embed web\nvar web embed.FS\n\nvar _ = web\n")
	bin := filepath.Join(root, "bin")
	pools := map[string]*pool{"A": {}, "B": {}}
	var fns []Function
	// In this order: fns[0] is A's below.
	for _, fn := range []struct{ name, dir string }{{"A", "functions/a"}, {"B", "functions/b"}} {
		name, dir := fn.name, fn.dir
		b := filepath.Join(bin, strings.ToLower(name), "bootstrap")
		write(t, b, "")
		fns = append(fns, Function{Name: name, Dir: dir, Binary: b, Flags: []string{"-trimpath"}, Pool: pools[name]})
	}
	log := &logbuf.Buffer{}
	ctx, cancel := context.WithCancel(t.Context())
	w := &Watcher{Root: root, Functions: fns, Log: log, Restart: map[string]string{"template.yaml": "tables and routes"}}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); w.Wait() }()

	write(t, filepath.Join(root, "lib", "lib.go"), "package lib\n\n// Word is said.\nconst Word = \"two\"\n")
	eventually(t, "both reloaded", func() bool { return pools["A"].count() == 1 && pools["B"].count() == 1 }, log)
	if got := output(t, fns[0].Binary) + " " + output(t, fns[1].Binary); got != "a two b two" && got != "b two a two" {
		t.Errorf("the new binaries say %q", got)
	}
	if !strings.Contains(log.String(), "reloaded A in ") || !strings.Contains(log.String(), "reloaded B in ") {
		t.Errorf("log:\n%s", log)
	}

	write(t, filepath.Join(root, "functions", "a", "main.go"), mainSource(`"A"`))
	eventually(t, "A reloaded", func() bool { return pools["A"].count() == 2 }, log)
	write(t, filepath.Join(root, "functions", "b", "web", "page.html"), "<p>B</p>\n")
	eventually(t, "B reloaded for its embedded file", func() bool { return pools["B"].count() == 2 }, log)
	if pools["A"].count() != 2 {
		t.Errorf("A reloaded %d times: the page is B's", pools["A"].count())
	}

	// A new package, imported by A.
	write(t, filepath.Join(root, "extra", "extra.go"), "package extra\n\n// Word is said too.\nconst Word = \"extra\"\n")
	write(t, filepath.Join(root, "functions", "a", "main.go"), "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/m/extra\"\n)\n\nfunc main() { fmt.Println(extra.Word) }\n")
	eventually(t, "A reloaded with a new package", func() bool { return pools["A"].count() == 3 }, log)
	write(t, filepath.Join(root, "extra", "extra.go"), "package extra\n\n// Word is said too.\nconst Word = \"more\"\n")
	eventually(t, "A reloaded for the new package", func() bool { return pools["A"].count() == 4 }, log)
	if got := output(t, fns[0].Binary); got != "more" {
		t.Errorf("A says %q", got)
	}

	write(t, filepath.Join(root, "functions", "a", "main.go"), "package main\n\nfunc main() { undefined() }\n")
	eventually(t, "the build error", func() bool { return strings.Contains(log.String(), "A did not build; the old binary keeps serving") }, log)
	if got := output(t, fns[0].Binary); got != "more" || pools["A"].count() != 4 {
		t.Errorf("after a failed build A says %q, reloaded %d times", got, pools["A"].count())
	}

	write(t, filepath.Join(root, "template.yaml"), "Resources: {Queue: {Type: AWS::SQS::Queue}}\n")
	eventually(t, "the restart notice", func() bool {
		return strings.Contains(log.String(), "template.yaml changed: tables and routes; the local cloud reads it only at start: restart make run")
	}, log)
}
