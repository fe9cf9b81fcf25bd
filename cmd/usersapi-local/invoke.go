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
	eventFile := fs.String("e", "", "the event, a JSON file")
	if err := fs.Parse(args[1:]); err != nil {
		return 0, err
	}
	if *eventFile == "" {
		return 0, errors.New("invoke needs -e events/<file>.json")
	}
	payload, err := os.ReadFile(*eventFile)
	if err != nil {
		return 0, err
	}
	if !json.Valid(payload) {
		return 0, fmt.Errorf("%s is not JSON", *eventFile)
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
	res, err := pool.Invoke(ctx, payload, "")
	if err != nil {
		return 0, err
	}
	fmt.Fprintln(stdout, string(res.Payload))
	if res.FunctionError != "" {
		return 1, nil
	}
	return 0, nil
}
