package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/internal/emulator/emulatortest"
	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/dynamo/dynamotest"
	"github.com/usersapi/usersapi/shared/users"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// TestReshard runs the command against DynamoDB Local: a table of users over
// 2 shards goes to 3, every user still listed once, in order, through a Table
// of either count; a second run has nothing to do; bad flags say how to call it.
func TestReshard(t *testing.T) {
	tables := dynamotest.Deploy(t)
	ctx := context.Background()
	name := tables.NewUsersTable(t, "Command")
	two := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(2), dynamo.LayoutRefresh(time.Millisecond))
	var want []users.ID
	for i := range 40 {
		id := users.ID(uuid.Must(uuid.NewV7()).String())
		r, err := two.Apply(ctx, users.Command{RequestID: "req-" + uuid.NewString(), Op: users.Create, UserID: id, Owner: "alice",
			AcceptedAt: time.Now(), Input: users.Input{Name: "Ada", Email: "ada-" + uuid.NewString()[:8] + "@example.com", Phone: "5551234567", Age: 36}})
		if err != nil || r.Status != users.Succeeded {
			t.Fatalf("create %d: %+v %v", i, r, err)
		}
		want = append(want, id)
	}
	slices.Sort(want)

	endpoint := emulatortest.DynamoDB(t)
	var out bytes.Buffer
	if err := run(ctx, []string{"--endpoint", endpoint, "--table", name, "--to", "3", "--settle", "20ms", "--catch-up", "20ms"}, &out); err != nil {
		t.Fatalf("reshard: %v\n%s", err, out.String())
	}
	for _, line := range []string{"warning: --settle 20ms is shorter than 45s", "resharding " + name + " to 3 list shards", "pass 1: 40 live users", "40 live users over 3 shards (from 2)", "Now deploy ListShards=3"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, out.String())
		}
	}
	three := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(3))
	for _, tb := range []*dynamo.Table{two, three} {
		var got []users.ID
		for next := []byte(nil); ; {
			p, err := tb.List(ctx, 6, next)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range p.Items {
				got = append(got, u.ID)
			}
			if next = p.Next; next == nil {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("listed %d users after the reshard, want %d in id order", len(got), len(want))
		}
	}

	out.Reset()
	if err := run(ctx, []string{"--endpoint", endpoint, "--table", name, "--to", "3"}, &out); err != nil || !strings.Contains(out.String(), "nothing to do") {
		t.Errorf("a second run: %v\n%s", err, out.String())
	}
	for _, args := range [][]string{{"--to", "3"}, {"--table", name}, {"--table", name, "--to", "3", "extra"}} {
		if err := run(ctx, args, &out); err == nil || !strings.Contains(err.Error(), "usage: usersapi-reshard --table NAME --to N") {
			t.Errorf("%q: %v", args, err)
		}
	}
	if err := run(ctx, []string{"--endpoint", endpoint, "--table", name, "--to", "101"}, &out); err == nil || !strings.Contains(err.Error(), "not from 1 to 100") {
		t.Errorf("--to 101: %v", err)
	}
}
