package reload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// pkg is what the graph keeps of one package of the module (or of a
// directory it replaces a module with).
type pkg struct {
	ImportPath    string
	Dir           string
	Standard      bool
	Deps          []string
	Imports       []string
	EmbedPatterns []string
	EmbedFiles    []string
}

// graph is the import graph of the functions' packages, restricted to the
// packages under the module's root: which functions each directory feeds.
type graph struct {
	root    string
	byDir   map[string]*pkg            // local packages by directory
	users   map[string][]string        // directory → the functions that import its package
	embeds  map[string][]string        // embedded file or directory (absolute) → the functions
	imports map[string]map[string]bool // directory → its package's imports
}

// loadGraph runs `go list -deps -json` on the functions' packages (dirs,
// by function name) in root.
func loadGraph(ctx context.Context, root string, dirs map[string]string) (*graph, error) {
	args := []string{"list", "-deps", "-json=ImportPath,Dir,Standard,Deps,Imports,EmbedPatterns,EmbedFiles", "-tags", "lambda.norpc"}
	for _, name := range sortedKeys(dirs) {
		args = append(args, dirs[name])
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w\n%s", err, strings.TrimSpace(stderr.String()))
	}
	g := &graph{root: root, byDir: map[string]*pkg{}, users: map[string][]string{}, embeds: map[string][]string{}, imports: map[string]map[string]bool{}}
	byPath := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(pkg)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list: %w", err)
		}
		if p.Standard || !within(root, p.Dir) {
			continue
		}
		byPath[p.ImportPath] = p
		g.byDir[p.Dir] = p
		g.imports[p.Dir] = map[string]bool{}
		for _, imp := range p.Imports {
			g.imports[p.Dir][imp] = true
		}
	}
	for _, name := range sortedKeys(dirs) {
		dir := filepath.Join(root, dirs[name])
		main, ok := g.byDir[dir]
		if !ok {
			return nil, fmt.Errorf("go list: no package in %s", dir)
		}
		for _, p := range append([]*pkg{main}, depsOf(main, byPath)...) {
			g.users[p.Dir] = append(g.users[p.Dir], name)
			for _, f := range p.EmbedFiles {
				g.embeds[filepath.Join(p.Dir, f)] = append(g.embeds[filepath.Join(p.Dir, f)], name)
			}
			for _, pat := range p.EmbedPatterns {
				if !strings.ContainsAny(pat, "*?[") { // a directory or a file: a file added under it is embedded too
					d := filepath.Join(p.Dir, strings.TrimPrefix(pat, "all:"))
					g.embeds[d] = append(g.embeds[d], name)
				}
			}
		}
	}
	return g, nil
}

func depsOf(p *pkg, byPath map[string]*pkg) []*pkg {
	var out []*pkg
	for _, d := range p.Deps {
		if q, ok := byPath[d]; ok {
			out = append(out, q)
		}
	}
	return out
}

// dirs returns the directories to watch: every local package's and every
// directory an embed pattern names, with their subdirectories.
func (g *graph) dirs() []string {
	var out []string
	for d := range g.byDir {
		out = append(out, d)
	}
	for f := range g.embeds {
		out = append(out, f)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// affected returns the functions that a change to file feeds, and whether
// the graph may be stale for it (a new package, or a new import).
func (g *graph) affected(file string, imports []string) (fns []string, stale bool) {
	dir := filepath.Dir(file)
	base := filepath.Base(file)
	if isGoSource(base) {
		if _, ok := g.byDir[dir]; !ok {
			return nil, true
		}
		fns = append(fns, g.users[dir]...)
		for _, imp := range imports {
			if !g.imports[dir][imp] {
				stale = true
			}
		}
	}
	for f := file; within(g.root, f) && f != g.root; f = filepath.Dir(f) {
		fns = append(fns, g.embeds[f]...)
	}
	slices.Sort(fns)
	return slices.Compact(fns), stale
}

// isGoSource reports whether the go command builds a file of this name into
// a binary: a .go file not for tests, not hidden (an editor's lock or
// backup), not ignored.
func isGoSource(base string) bool {
	return strings.HasSuffix(base, ".go") && !strings.HasSuffix(base, "_test.go") &&
		!strings.HasPrefix(base, ".") && !strings.HasPrefix(base, "_")
}

// within reports whether path is root or under it.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
