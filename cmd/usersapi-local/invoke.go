package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/usersapi/usersapi/internal/localcloud"
)

// invoke runs one function once on an event file, as `sam local invoke`
// does: the function's logs on stderr, its result on stdout, and exit
// status 1 when the function failed.
func invoke(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		return 0, errors.New("usage: usersapi-local invoke <LogicalId> -e events/<file>.json")
	}
	id := args[0]
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	var files eventFiles
	fs.Var(&files, "e", "the event, a JSON file (repeat -e to invoke once per file, in order)")
	if err := fs.Parse(args[1:]); err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, errors.New("invoke needs -e events/<file>.json")
	}
	var payloads [][]byte
	for _, f := range files {
		payload, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		if !json.Valid(payload) {
			return 0, fmt.Errorf("%s is not JSON", f)
		}
		payloads = append(payloads, payload)
	}
	c, err := localcloud.Start(ctx, localcloud.Options{Log: stderr, NoMappings: true})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	pool, ok := c.Pools[id]
	if !ok {
		return 0, fmt.Errorf("the template has no function %q", id)
	}
	code := 0
	for _, payload := range payloads {
		res, err := pool.Invoke(ctx, payload, "")
		if err != nil {
			return 0, err
		}
		fmt.Fprintln(stdout, string(res.Payload))
		if res.FunctionError != "" {
			code = 1
		}
	}
	return code, nil
}

// eventFiles collects repeated -e flags.
type eventFiles []string

func (f *eventFiles) String() string     { return fmt.Sprint(*f) }
func (f *eventFiles) Set(v string) error { *f = append(*f, v); return nil }
