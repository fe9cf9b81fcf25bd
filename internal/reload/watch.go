package reload

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// LambdaFlags are the go build flags of `make build`: Lambda's binaries.
var LambdaFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-buildvcs=false"}

// Reloader runs a function's binary; *runtimeapi.Pool is one. Reload is
// called once the new binary is in place, and returns once it serves.
type Reloader interface {
	Reload() error
}

// Function is a function the Watcher keeps current.
type Function struct {
	Name   string   // the logical id: ReadFunction
	Dir    string   // its main package, relative to the root: functions/read
	Binary string   // where its bootstrap is; a new build is renamed over it
	Flags  []string // go build flags; nil: LambdaFlags
	Pool   Reloader
}

// Watcher rebuilds functions when their sources change. Set its fields,
// then call Start.
type Watcher struct {
	Root      string // the module's root
	Functions []Function
	Log       io.Writer // one line per function reloaded, and build errors
	// Restart names the files (relative to Root) that the local cloud reads
	// only at start, each with what it configures: a change is reported as
	// needing a restart.
	Restart map[string]string
	// Reloaded, if set, is told of each function reloaded: when its source
	// was saved and how long it took from then to serving.
	Reloaded func(name string, saved time.Time, took time.Duration)
	Quiet    time.Duration // how long the files must be quiet before a build; default 100 ms

	fns     map[string]Function
	graph   *graph
	fsw     *fsnotify.Watcher
	watched map[string]bool
	sums    map[string][sha256.Size]byte // the restart files' contents when last seen
	done    chan struct{}
	logMu   sync.Mutex
}

// Start loads the import graph, watches the packages' directories and
// returns; the Watcher then works until ctx ends (Wait waits for that).
func (w *Watcher) Start(ctx context.Context) error {
	w.Quiet = cmp.Or(w.Quiet, 100*time.Millisecond)
	w.fns = map[string]Function{}
	dirs := map[string]string{}
	for _, f := range w.Functions {
		w.fns[f.Name] = f
		dirs[f.Name] = "./" + filepath.ToSlash(filepath.Clean(f.Dir))
	}
	g, err := loadGraph(ctx, w.Root, dirs)
	if err != nil {
		return err
	}
	w.graph = g
	if w.fsw, err = fsnotify.NewWatcher(); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	w.watched = map[string]bool{}
	w.sums = map[string][sha256.Size]byte{}
	w.add(w.Root)
	for name := range w.Restart {
		path := filepath.Join(w.Root, name)
		w.add(filepath.Dir(path))
		if b, err := os.ReadFile(path); err == nil {
			w.sums[path] = sha256.Sum256(b)
		}
	}
	w.addGraph()
	w.done = make(chan struct{})
	go w.loop(ctx)
	return nil
}

// Wait returns once the Watcher has stopped.
func (w *Watcher) Wait() { <-w.done }

// add watches dir (not its subdirectories).
func (w *Watcher) add(dir string) {
	if !w.watched[dir] && w.fsw.Add(dir) == nil {
		w.watched[dir] = true
	}
}

// addGraph watches every directory the graph names, embedded trees included.
func (w *Watcher) addGraph() {
	for _, d := range w.graph.dirs() {
		_ = filepath.WalkDir(d, func(path string, e os.DirEntry, err error) error {
			if err != nil || !e.IsDir() {
				return nil
			}
			if path != d && (strings.HasPrefix(e.Name(), ".") || w.graph.byDir[path] != nil) {
				return filepath.SkipDir // a package of its own is added on its own
			}
			if _, ok := w.graph.byDir[path]; ok || path == d || w.embedded(path) {
				w.add(path)
				return nil
			}
			return filepath.SkipDir
		})
	}
}

func (w *Watcher) embedded(path string) bool {
	for f := path; within(w.Root, f) && f != w.Root; f = filepath.Dir(f) {
		if len(w.graph.embeds[f]) > 0 {
			return true
		}
	}
	return false
}

// loop collects changes until the files are quiet, then rebuilds.
func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	defer w.fsw.Close()
	changed := map[string]bool{}
	var first time.Time
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.logf("reload: watching the sources: %v\n", err)
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			if ev.Has(fsnotify.Create) && w.graph.byDir[filepath.Dir(ev.Name)] != nil {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() && !strings.HasPrefix(fi.Name(), ".") {
					w.add(ev.Name) // perhaps a new package
				}
			}
			if len(changed) == 0 {
				first = time.Now()
			}
			changed[ev.Name] = true
			quiet.Reset(w.Quiet)
		case <-quiet.C:
			w.apply(ctx, first, slices.Sorted(maps.Keys(changed)))
			clear(changed)
		}
	}
}

// apply rebuilds and reloads the functions that files feed; saved is when
// the first of them changed.
func (w *Watcher) apply(ctx context.Context, saved time.Time, files []string) {
	names := map[string]bool{}
	stale := false
	for _, f := range files {
		if msg, ok := w.Restart[relTo(w.Root, f)]; ok {
			w.restartNeeded(f, msg)
		}
		if base := filepath.Base(f); filepath.Dir(f) == w.Root && (base == "go.mod" || base == "go.sum") {
			stale = true
			for n := range w.fns {
				names[n] = true
			}
			continue
		}
		fns, s := w.graph.affected(f, importsOf(f))
		stale = stale || s
		for _, n := range fns {
			names[n] = true
		}
	}
	if stale {
		if g, err := loadGraph(ctx, w.Root, w.dirs()); err != nil {
			w.logf("reload: %v\n", err) // a file that does not parse yet: the build below says what is wrong
		} else {
			w.graph = g
			w.addGraph()
			for _, f := range files {
				fns, _ := g.affected(f, nil)
				for _, n := range fns {
					names[n] = true
				}
			}
		}
	}
	if len(names) == 0 {
		return
	}
	w.rebuild(ctx, saved, slices.Sorted(maps.Keys(names)))
}

func (w *Watcher) dirs() map[string]string {
	dirs := map[string]string{}
	for n, f := range w.fns {
		dirs[n] = "./" + filepath.ToSlash(filepath.Clean(f.Dir))
	}
	return dirs
}

// restartNeeded says that a file read at start changed, if its content did.
func (w *Watcher) restartNeeded(path, what string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	sum := sha256.Sum256(b)
	if sum == w.sums[path] {
		return
	}
	w.sums[path] = sum
	w.logf("reload: %s changed: %s; the local cloud reads it only at start: restart make run to apply it\n", relTo(w.Root, path), what)
}

// rebuild builds the named functions, those with the same flags in one go
// command, and reloads each that built.
func (w *Watcher) rebuild(ctx context.Context, saved time.Time, names []string) {
	groups := map[string][]Function{}
	for _, n := range names {
		f := w.fns[n]
		key := strings.Join(cmpFlags(f.Flags), "\x00")
		groups[key] = append(groups[key], f)
	}
	for _, key := range sortedKeys(groups) {
		fns := groups[key]
		built, err := w.build(ctx, fns)
		if err != nil && len(fns) > 1 { // build each alone: those that compile still reload
			built = nil
			for _, f := range fns {
				b, err := w.build(ctx, []Function{f})
				if err != nil {
					w.buildFailed([]Function{f}, err)
				}
				built = append(built, b...)
			}
		} else if err != nil {
			w.buildFailed(fns, err)
		}
		for _, f := range built {
			if err := f.Pool.Reload(); err != nil {
				w.logf("reload: %s built, but its new binary does not start: %v\n", f.Name, err)
				continue
			}
			took := time.Since(saved)
			w.logf("reloaded %s in %.1f s\n", f.Name, took.Seconds())
			if w.Reloaded != nil {
				w.Reloaded(f.Name, saved, took)
			}
		}
	}
}

func (w *Watcher) buildFailed(fns []Function, err error) {
	var names []string
	for _, f := range fns {
		names = append(names, f.Name)
	}
	w.logf("reload: %s did not build; the old binary keeps serving:\n%v\n", strings.Join(names, ", "), err)
}

// build runs one go build of fns into a directory beside the first's binary
// and renames each result over its function's binary; it returns the
// functions whose binaries were replaced.
func (w *Watcher) build(ctx context.Context, fns []Function) ([]Function, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Dir(fns[0].Binary)), ".reload-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	args := append([]string{"build"}, cmpFlags(fns[0].Flags)...)
	args = append(args, "-o", tmp+string(filepath.Separator))
	for _, f := range fns {
		args = append(args, "./"+filepath.ToSlash(filepath.Clean(f.Dir)))
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = w.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, errors.New(strings.TrimSpace(out.String()))
	}
	var built []Function
	for _, f := range fns {
		if err := os.Rename(filepath.Join(tmp, filepath.Base(f.Dir)), f.Binary); err != nil {
			w.logf("reload: %s: %v\n", f.Name, err)
			continue
		}
		built = append(built, f)
	}
	return built, nil
}

func cmpFlags(flags []string) []string {
	if flags == nil {
		return LambdaFlags
	}
	return flags
}

// importsOf returns the imports of a Go source file, or nil when it is not
// one or does not parse.
func importsOf(path string) []string {
	if !isGoSource(filepath.Base(path)) {
		return nil
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		return nil
	}
	var out []string
	for _, imp := range f.Imports {
		if p, err := strconv.Unquote(imp.Path.Value); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func relTo(root, path string) string {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

func (w *Watcher) logf(format string, args ...any) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	fmt.Fprintf(w.Log, format, args...)
}
