package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/usersapi/usersapi/client"
	"github.com/usersapi/usersapi/internal/apigateway"
	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/seed"
	"github.com/usersapi/usersapi/internal/stack"
)

// seedUsers creates --users realistic users through the API of a running
// local cloud (`make run`), with the development API key and a token of the
// local issuer, and reports how many it created and how long that took.
func seedUsers(ctx context.Context, args []string, out, progress io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	n := fs.Int("users", 0, "how many users to create")
	addr := fs.String("addr", "127.0.0.1:3000", "where `make run` serves the API")
	stage := fs.String("stage", "dev", "the stage `make run` serves (--stage of run)")
	concurrency := fs.Int("concurrency", 8, "the most creates in flight at once")
	apiKey := fs.String("api-key", "", "the x-api-key to send (default: the template's development key)")
	sub := fs.String("sub", "seed", "the token's subject: who owns the users")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *concurrency < 1 {
		return errors.New("usage: usersapi-local seed --users N [--addr 127.0.0.1:3000] [--concurrency 8]")
	}
	if err := loopback(*addr); err != nil {
		return err
	}
	root, err := localcloud.FindRoot()
	if err != nil {
		return err
	}
	if *apiKey == "" {
		if *apiKey, err = templateKey(root, *stage); err != nil {
			return err
		}
	}
	is, err := localcloud.LoadIssuer(localcloud.IssuerKeyPath(root))
	if err != nil {
		return err
	}
	tok, err := is.Token(*sub, "users.read users.write", 24*time.Hour)
	if err != nil {
		return err
	}
	base := "http://" + *addr + "/" + *stage
	if err := running(ctx, *addr); err != nil {
		return err
	}
	c, err := client.New(base, client.WithAPIKey(*apiKey), client.WithTokenSource(client.StaticToken(tok)),
		client.WithHTTPClient(&http.Client{Timeout: time.Minute}),
		// A usage plan of 10 requests a second turns many creates into 429s:
		// wait as long as they ask, for minutes if need be.
		client.WithRetry(client.Retry{Attempts: 50, Budget: 10 * time.Minute, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}))
	if err != nil {
		return err
	}
	res, err := seed.Run(ctx, seed.Config{Client: c, Users: *n, Concurrency: *concurrency,
		Progress: progress, Terminal: isTerminal(progress)})
	fmt.Fprintf(out, "created %d of %d users in %.1f s (%.1f a second)", res.Created, *n, res.Took.Seconds(),
		float64(res.Created)/max(res.Took.Seconds(), 0.001))
	if res.Failed > 0 {
		fmt.Fprintf(out, "; %d failed", res.Failed)
	}
	fmt.Fprintln(out)
	for _, e := range res.Errors {
		fmt.Fprintf(out, "  %v\n", e)
	}
	if err != nil {
		return err
	}
	if res.Failed > 0 {
		return fmt.Errorf("%d users were not created", res.Failed)
	}
	return nil
}

// templateKey returns the template's first API key as the local cloud serves
// it (the one `make run` prints as the api key).
func templateKey(root, stage string) (string, error) {
	s, err := stack.Load(filepath.Join(root, "template.yaml"), map[string]any{"Stage": stage})
	if err != nil {
		return "", err
	}
	keys, err := apigateway.TemplateKeys(s)
	if err != nil {
		return "", err
	}
	if len(keys) == 0 {
		return "", nil
	}
	return keys[0].Value, nil
}

// isTerminal reports whether w is a terminal, where a progress bar may redraw itself.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// running checks that a local cloud answers at addr.
func running(ctx context.Context, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/_local/jwks.json", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("is `make run` running at %s? %w", addr, err)
	}
	return resp.Body.Close()
}
