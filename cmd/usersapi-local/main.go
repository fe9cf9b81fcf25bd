// Command usersapi-local runs the usersapi pipeline on this machine, with no
// AWS account and no Docker: `make run` calls `usersapi-local run`.
//
//	usersapi-local run [--addr 127.0.0.1:3000] [--data DIR] [--stage dev] [--no-watch] [--debug ReadFunction [--debug-addr 127.0.0.1:2345]]
//	usersapi-local invoke <LogicalId> -e events/<file>.json
//	usersapi-local token [--sub alice] [--scope "users.read users.write"]
//	usersapi-local seed --users N [--addr 127.0.0.1:3000]
//	usersapi-local events replay --since 10m [--addr 127.0.0.1:3000]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/usersapi/usersapi/internal/localcloud"
)

const usage = `usersapi-local runs the users API locally, from template.yaml, with the real function binaries.

Usage:
  usersapi-local run [--addr ADDR] [--data DIR] [--stage STAGE] [--no-watch]   the whole pipeline (make run)
                    [--debug LogicalId [--debug-addr 127.0.0.1:2345]]   one function under Delve, to attach a debugger
  usersapi-local invoke <LogicalId> -e FILE                     run one function once, like sam local invoke
  usersapi-local dlq list|redrive [--addr ADDR]                 the dead-letter queues of a running make run
  usersapi-local events replay --since 10m [--name N] [--addr ADDR]   replay a running make run's archived events through the rules
  usersapi-local token [--sub S] [--scope "users.read users.write"]   a development JWT the local authorizer accepts
  usersapi-local seed --users N [--addr ADDR] [--concurrency 8]   create N realistic users through the API of a running make run
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	stopWithParent()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	var err error
	switch os.Args[1] {
	case "run":
		err = run(ctx, os.Args[2:], os.Stdout)
	case "invoke":
		var code int
		code, err = invoke(ctx, os.Args[2:], os.Stdout, os.Stderr)
		if err == nil {
			stop()
			os.Exit(code)
		}
	case "dlq":
		err = dlq(os.Args[2:], os.Stdout)
	case "events":
		err = events(os.Args[2:], os.Stdout)
	case "token":
		err = token(os.Args[2:], os.Stdout)
	case "seed":
		err = seedUsers(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "usersapi-local: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:3000", "where the API listens (loopback only)")
	data := fs.String("data", "", "keep the emulators' data in this directory (default: in memory)")
	stage := fs.String("stage", "dev", "the stage: the template's Stage parameter and the API's base path")
	noWatch := fs.Bool("no-watch", false, "do not rebuild and reload a function when its Go sources change")
	debug := fs.String("debug", "", "run this function (a logical id: ReadFunction) under Delve, without optimisations or a timeout")
	debugAddr := fs.String("debug-addr", "127.0.0.1:2345", "where Delve listens for a debugger (--debug)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loopback(*addr); err != nil {
		return err
	}
	start := time.Now()
	c, err := localcloud.Start(ctx, localcloud.Options{Addr: *addr, DataDir: *data, Stage: *stage, Log: os.Stderr,
		Debug: *debug, DebugAddr: *debugAddr})
	if err != nil {
		return err
	}
	defer c.Close()
	watching := "off (--no-watch)"
	if !*noWatch {
		// Without Go sources to watch (a copy of the binaries alone, no go.mod), the
		// cloud still serves; it says why it does not reload.
		if err := c.Watch(ctx, out); err != nil {
			watching = "off: " + err.Error()
		} else {
			watching = "a save rebuilds and reloads the functions it affects (--no-watch: off)"
		}
	}
	base := c.URL[:len(c.URL)-len(*stage)-1]
	fmt.Fprintf(out, `
usersapi is ready (in %.1fs).

  API         %s
  try         curl -s -X POST %s/users -H "x-api-key: <api key>" -H "Authorization: Bearer $(bin/usersapi-local token)" \
                -H 'Content-Type: application/json' -d '{"name":"Ada Lovelace","email":"ada@example.com"}'
  events      %s/_local/events
  traces      %s/_local/xray   metrics  %s/_local/metrics   (all pages: %s/_local/)
  api key     %s
  token       bin/usersapi-local token --sub alice --scope "users.read users.write"   (JWKS: %s/_local/jwks.json)
  functions   %d, under an emulated Lambda Runtime API; their logs follow, prefixed by name
  sources     %s
  dynamodb    %s   users table %s
              (more list shards: go run ./cmd/usersapi-reshard --endpoint %s --table %s --to N)

Ctrl-C stops everything.
`, time.Since(start).Seconds(), c.URL, c.URL, base, base, base, base, devKey(c), base, len(c.Pools), watching,
		c.DynamoDBEndpoint(), c.Stack.Resources["UsersTable"].Name, c.DynamoDBEndpoint(), c.Stack.Resources["UsersTable"].Name)
	if d := c.Debug; d != nil {
		fmt.Fprintf(out, `
  debug       %s runs under Delve (no optimisations, no timeout): attach to %s
              (dlv connect %s, or VS Code's launch.json:)
%s
`, d.Function, d.Addr, d.Addr, d.LaunchJSON())
	}
	<-ctx.Done()
	fmt.Fprintln(out, "\nstopping…")
	return nil
}

func loopback(addr string) error {
	host := addr
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			host = addr[:i]
			break
		}
	}
	switch host {
	case "127.0.0.1", "localhost", "[::1]", "::1":
		return nil
	}
	return errors.New("--addr must be a loopback address such as 127.0.0.1:3000")
}

// devKey names the development API key, if the template declares any.
func devKey(c *localcloud.Cloud) string {
	for _, k := range c.APIKeys {
		return k.Value + " (x-api-key; " + k.Name + ")"
	}
	return "none needed (the template declares no API key)"
}
