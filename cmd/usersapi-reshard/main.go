// Command usersapi-reshard changes the number of list shards of a stage's
// users table while the API serves: it records the move, waits until every
// function lists over both counts, switches writes to the new count, waits
// again, moves each live user's list entry, and records the move done
// (dynamo.Reshard; docs/scale.md, Changing ListShards). Deploy the new
// ListShards after it.
//
//	usersapi-reshard --table NAME --to N [--region R] [--endpoint URL] [--settle 45s] [--catch-up 5s]
//
// It uses the AWS SDK's default configuration (environment, profile, SSO)
// against AWS, or --endpoint for the DynamoDB Local of `make run`.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/usersapi/usersapi/shared/dynamo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "usersapi-reshard: %v\n", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("usersapi-reshard", flag.ContinueOnError)
	table := fs.String("table", "", "the stage's users table: `aws cloudformation describe-stack-resource --stack-name usersapi-prod --logical-resource-id UsersTable`")
	to := fs.Int("to", 0, fmt.Sprintf("the new number of list shards, 1 to %d", dynamo.MaxListShards))
	region := fs.String("region", "", "the table's region (default: the SDK's configuration)")
	endpoint := fs.String("endpoint", "", "a DynamoDB endpoint other than AWS's: make run's DynamoDB Local (its banner prints it)")
	settle := fs.Duration("settle", dynamo.DefaultReshardSettle,
		"the wait after each layout change, twice: longer than the functions' layout refresh (10 s) plus their longest call (the worker's 30 s)")
	catchUp := fs.Duration("catch-up", dynamo.DefaultReshardCatchUp, "the wait for the index after the last move, before listings read the new count alone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *table == "" || *to == 0 || fs.NArg() > 0 {
		return errors.New("usage: usersapi-reshard --table NAME --to N [--region R] [--endpoint URL] [--settle 45s] [--catch-up 5s]")
	}
	var opts []func(*config.LoadOptions) error
	if *region != "" {
		opts = append(opts, config.WithRegion(*region))
	}
	if *endpoint != "" {
		// DynamoDB Local takes any key; give one so that no profile is needed.
		opts = append(opts, config.WithRegion(cmp.Or(*region, "us-east-1")),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("AWS configuration: %w", err)
	}
	var at *string
	if *endpoint != "" {
		at = endpoint
	}
	client := dynamo.NewClient(cfg, at)
	if *settle < dynamo.DefaultReshardSettle {
		fmt.Fprintf(out, "warning: --settle %s is shorter than %s: safe only while no function of the stage runs\n", *settle, dynamo.DefaultReshardSettle)
	}

	start := time.Now()
	fmt.Fprintf(out, "resharding %s to %d list shards: recording the move, then waiting %s twice for every function to list over both counts and write with the new one…\n", *table, *to, *settle)
	rep, err := dynamo.Reshard(ctx, client, *table, *to, dynamo.ReshardOptions{Settle: *settle, CatchUp: *catchUp, Progress: func(r dynamo.ReshardReport) {
		fmt.Fprintf(out, "pass %d: %d live users, %d moved so far\n", r.Passes, r.Users, r.Moved)
	}})
	if err != nil {
		return err
	}
	switch {
	case rep.From == 0:
		fmt.Fprintf(out, "%s has no users yet: %d shards recorded.\n", *table, rep.To)
	case rep.Done:
		fmt.Fprintf(out, "%s is already listed over %d shards: nothing to do.\n", *table, rep.To)
		return nil
	default:
		fmt.Fprintf(out, "done in %s: %d live users over %d shards (from %d), %d moved in %d passes.\n",
			time.Since(start).Round(time.Second), rep.Users, rep.To, rep.From, rep.Moved, rep.Passes)
	}
	fmt.Fprintf(out, "Now deploy ListShards=%d (sam deploy --parameter-overrides ListShards=%d).\n", rep.To, rep.To)
	return nil
}
