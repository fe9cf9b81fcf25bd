package localcloud

import (
	"context"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/usersapi/usersapi/internal/reload"
)

// Reload is when a function was last rebuilt and reloaded, and how long
// that took from the save that caused it.
type Reload struct {
	Saved time.Time     `json:"saved"`
	Took  time.Duration `json:"took_ns"`
}

// reloads keeps each function's last Reload.
type reloads struct {
	mu   sync.Mutex
	last map[string]Reload
}

func (r *reloads) record(name string, saved time.Time, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]Reload{}
	}
	r.last[name] = Reload{Saved: saved, Took: took}
}

// LastReload returns when the function id was last reloaded, if it was.
func (c *Cloud) LastReload(id string) (Reload, bool) {
	c.reloads.mu.Lock()
	defer c.reloads.mu.Unlock()
	r, ok := c.reloads.last[id]
	return r, ok
}

// Watch rebuilds a function when a Go package it is built from changes
// under the repository, and swaps the new binary into its pool (see package
// reload); it prints one line per function reloaded to out. The emulators,
// the queues, the pollers and the gateway (its cached authorizer results)
// carry on. A change to template.yaml or api/openapi.yaml rebuilds the
// functions that embed it and says that a restart is needed for the rest.
// It returns once the sources are watched; the watch ends with ctx.
func (c *Cloud) Watch(ctx context.Context, out io.Writer) error {
	w := &reload.Watcher{
		Root: c.opt.Root,
		Log:  out,
		Restart: map[string]string{
			"template.yaml":    "its tables, queues, event sources and functions' environment",
			"api/openapi.yaml": "the gateway's routes, validators and authorizers",
		},
		Reloaded: c.reloads.record,
	}
	for id, p := range c.Pools {
		f := reload.Function{
			Name: id, Dir: filepath.Join("functions", binaryDir(id)),
			Binary: filepath.Join(c.opt.BinDir, binaryDir(id), "bootstrap"), Pool: p,
		}
		if c.Debug != nil && c.Debug.Function == id { // rebuilt as it was built, for Delve
			f.Binary, f.Flags = c.Debug.Binary, DebugFlags
		}
		w.Functions = append(w.Functions, f)
	}
	return w.Start(ctx)
}
