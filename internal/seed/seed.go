package seed

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usersapi/usersapi/client"
)

// Config is one seeding run.
type Config struct {
	Client      *client.Client // the API to fill, with its key and token
	Users       int            // how many users to create
	Concurrency int            // the most creates in flight at once; default 8
	// Progress is where progress goes, nil for none: a bar redrawn in place
	// when Terminal is true, otherwise a line every tenth of the run.
	Progress io.Writer
	Terminal bool
	// Tag makes this run's emails and Idempotency-Keys its own; default random.
	Tag string
}

// Result is what a run did.
type Result struct {
	Created int           // users whose create succeeded
	Failed  int           // users whose create failed, or could not be followed to its end
	Took    time.Duration // from the first request to the last write applied
	Errors  []error       // the first few failures, for the report
}

// maxErrors is how many failures a Result keeps.
const maxErrors = 5

// Run creates cfg.Users users through cfg.Client and returns once every
// create has succeeded or failed (or ctx is done). Each user has an
// Idempotency-Key of its own ("seed-<tag>-<i>"), sent on every retry.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Client == nil || cfg.Users < 0 {
		return Result{}, errors.New("seed: a client and a number of users (0 or more) are needed")
	}
	workers := min(cmp.Or(cfg.Concurrency, 8), max(cfg.Users, 1))
	tag := cmp.Or(cfg.Tag, strings.ToLower(rand.Text()[:6]))
	bar := &progress{out: cfg.Progress, terminal: cfg.Terminal, total: cfg.Users}

	var (
		mu   sync.Mutex
		res  Result
		next atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	bar.draw(0, 0)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= cfg.Users || ctx.Err() != nil {
					return
				}
				// One generator per user: the same tag and i give the same user.
				rng := mrand.New(mrand.NewPCG(uint64(i), seedOf(tag)))
				err := create(ctx, cfg.Client, person(rng, tag, i), fmt.Sprintf("seed-%s-%d", tag, i))
				mu.Lock()
				if err != nil {
					res.Failed++
					if len(res.Errors) < maxErrors {
						res.Errors = append(res.Errors, fmt.Errorf("user %d: %w", i, err))
					}
				} else {
					res.Created++
				}
				done, failed := res.Created+res.Failed, res.Failed
				mu.Unlock()
				bar.draw(done, failed)
			}
		}()
	}
	wg.Wait()
	res.Took = time.Since(start)
	bar.finish()
	return res, ctx.Err()
}

// create sends one create and follows its request until it is applied.
func create(ctx context.Context, c *client.Client, in client.UserInput, key string) error {
	w, err := c.CreateUser(ctx, in, client.IdempotencyKey(key))
	if err != nil {
		return err
	}
	st, err := w.WaitStatus(ctx)
	if err != nil {
		return err
	}
	if st.Status != client.StatusSucceeded {
		if st.Error != nil {
			return st.Error
		}
		return fmt.Errorf("request %s %s", st.RequestID, st.Status)
	}
	return nil
}

func seedOf(tag string) uint64 {
	var h uint64 = 14695981039346656037 // FNV-1a
	for i := range len(tag) {
		h = (h ^ uint64(tag[i])) * 1099511628211
	}
	return h
}

// progress draws a run's progress: a bar on a terminal, plain lines elsewhere.
type progress struct {
	mu       sync.Mutex
	out      io.Writer
	terminal bool
	total    int
	shown    int // plain lines: the last tenth printed
}

const barWidth = 30

func (p *progress) draw(done, failed int) {
	if p.out == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pct := 100
	if p.total > 0 {
		pct = done * 100 / p.total
	}
	if p.terminal {
		filled := pct * barWidth / 100
		fmt.Fprintf(p.out, "\r[%s%s] %3d%% %d/%d users", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), pct, done, p.total)
		if failed > 0 {
			fmt.Fprintf(p.out, " (%d failed)", failed)
		}
		return
	}
	if tenth := pct / 10; done == 0 || tenth > p.shown {
		p.shown = tenth
		fmt.Fprintf(p.out, "seed: %d/%d users (%d%%)", done, p.total, pct)
		if failed > 0 {
			fmt.Fprintf(p.out, ", %d failed", failed)
		}
		fmt.Fprintln(p.out)
	}
}

func (p *progress) finish() {
	if p.out != nil && p.terminal {
		fmt.Fprintln(p.out)
	}
}
