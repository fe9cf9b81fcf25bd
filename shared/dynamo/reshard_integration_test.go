package dynamo_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/dynamo/dynamotest"
	"github.com/usersapi/usersapi/shared/users"
)

// refresh is the LayoutRefresh of the Tables of these tests, and settle the
// Reshard wait longer than it.
const (
	refresh = 20 * time.Millisecond
	settle  = 100 * time.Millisecond
)

// TestReshardListsExactly moves a table's users from 2 to 5 list shards while
// it is listed and written: after every few moves, a whole listing (pages of
// 7) through a Table still configured with 2 and through one configured with
// 5 returns exactly the live users, each once, in id order; writes between
// listings land under the new count; a user a stale writer puts back under
// the old count after the first pass is moved by a second. Afterwards every
// live user is in its shard under 5, the layout records 5 (and 2 as the count
// before), both configurations list and write, a third count is refused, and
// a second run has nothing to do.
func TestReshardListsExactly(t *testing.T) {
	tables := dynamotest.Deploy(t)
	ctx := context.Background()
	name := tables.NewUsersTable(t, "Reshard")
	two := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(2), dynamo.LayoutRefresh(refresh))
	five := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(5), dynamo.LayoutRefresh(refresh))

	live := map[users.ID]bool{}
	for range 120 {
		id := newID(t)
		apply(t, two, create(id, uniqueEmail("reshard")))
		live[id] = true
	}
	if _, err := five.List(ctx, 10, nil); err == nil || !strings.Contains(err.Error(), "usersapi-reshard --table "+name+" --to 5") {
		t.Fatalf("listing over 5 shards a table of 2, before the reshard: %v", err)
	}

	// The checks run on the test's goroutine: Reshard's goroutines hand them
	// over (onTest) and wait, while the other moves go on.
	type call struct {
		fn   func()
		done chan struct{}
	}
	calls := make(chan call)
	onTest := func(fn func()) {
		c := call{fn, make(chan struct{})}
		calls <- c
		<-c.done
	}
	checks := 0
	check := func(when string) {
		t.Helper()
		want := slices.Sorted(maps.Keys(live))
		for _, tb := range []*dynamo.Table{two, five} {
			if got := listAll(t, tb, 7); !slices.Equal(got, want) {
				t.Fatalf("%s: listed %d users, want the %d live ones in id order (first differing at %d)", when, len(got), len(want), firstDiff(got, want))
			}
		}
		checks++
	}
	var moves atomic.Int64
	client := &moveHook{ReshardAPI: tables.Client, after: func() {
		if moves.Add(1)%15 != 0 {
			return
		}
		onTest(func() {
			check("during the move")
			// A create and a delete between listings, through either
			// configuration: both write under the new count.
			id := newID(t)
			apply(t, two, create(id, uniqueEmail("during")))
			live[id] = true
			if got := tables.Item(t, name, "USER#"+string(id))["listPk"]; got != "S:"+dynamo.ListKey(id, 5) {
				t.Errorf("a user created during the move is listed under %s, want %s", got, dynamo.ListKey(id, 5))
			}
			for old := range live {
				apply(t, five, users.Command{RequestID: "req-" + string(newID(t)), Op: users.Delete, UserID: old, Owner: "alice", AcceptedAt: time.Now()})
				delete(live, old)
				break
			}
		})
	}}
	progress := func(r dynamo.ReshardReport) {
		if r.Passes != 1 {
			return
		}
		onTest(func() {
			// A writer that still thinks the table has 2 shards (older than
			// the settle allows): the next pass must move it.
			stale := newID(t)
			for dynamo.ListKey(stale, 2) == dynamo.ListKey(stale, 5) {
				stale = newID(t)
			}
			now := time.Now().UTC().Format(time.RFC3339Nano)
			tables.Put(t, name, map[string]any{"pk": "USER#" + string(stale), "id": string(stale), "name": "Stale", "email": uniqueEmail("stale"),
				"version": 1, "createdAt": now, "updatedAt": now, "owner": "alice", "listPk": dynamo.ListKey(stale, 2)})
			live[stale] = true
			check("with a user under the old count")
		})
	}
	var (
		rep dynamo.ReshardReport
		err error
	)
	go func() {
		defer close(calls)
		rep, err = dynamo.Reshard(ctx, client, name, 5, dynamo.ReshardOptions{Settle: settle, Progress: progress})
	}()
	for c := range calls {
		c.fn()
		close(c.done)
	}
	if err != nil {
		t.Fatalf("reshard: %v (%+v)", err, rep)
	}
	if rep.From != 2 || rep.To != 5 || rep.Passes != 3 || rep.Moved < 60 || rep.Users != len(live) {
		t.Errorf("report %+v: want from 2 to 5 in 3 passes (the stale user found by the second), most of the users moved, %d live", rep, len(live))
	}
	if checks < 5 {
		t.Errorf("only %d listings during the move", checks)
	}
	check("after the move")

	if got := tables.Item(t, name, "LIST#shards"); got["shards"] != "N:5" || got["from"] != "N:2" || got["moving"] != "" {
		t.Errorf("layout after the move: %v, want shards 5, from 2, not moving", got)
	}
	for id := range live {
		if got := tables.Item(t, name, "USER#"+string(id))["listPk"]; got != "S:"+dynamo.ListKey(id, 5) {
			t.Errorf("user %s is listed under %s, want %s", id, got, dynamo.ListKey(id, 5))
		}
	}
	// Both configurations list (checked above) and write; a third count is refused.
	for _, tb := range []*dynamo.Table{two, five} {
		id := newID(t)
		apply(t, tb, create(id, uniqueEmail("after")))
		live[id] = true
	}
	check("after writes through both counts")
	three := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(3), dynamo.LayoutRefresh(refresh))
	if _, err := three.List(ctx, 10, nil); err == nil || !strings.Contains(err.Error(), "listed over 5 shards, but ListShards is 3") {
		t.Errorf("a third count lists: %v", err)
	}
	if rep, err := dynamo.Reshard(ctx, tables.Client, name, 5, dynamo.ReshardOptions{Settle: settle}); err != nil || !rep.Done {
		t.Errorf("a second reshard to 5: %+v, %v; want nothing to do", rep, err)
	}
}

// TestReshardResumes: a reshard stopped before it moved anyone leaves the
// layout moving, listings still exact; a reshard to another count is refused
// until it is finished; the same reshard run again finishes it. A table with
// no users gets the count recorded, and a count out of range is refused.
func TestReshardResumes(t *testing.T) {
	tables := dynamotest.Deploy(t)
	ctx := context.Background()
	name := tables.NewUsersTable(t, "ReshardResume")
	three := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(3), dynamo.LayoutRefresh(refresh))
	var want []users.ID
	for range 30 {
		id := newID(t)
		apply(t, three, create(id, uniqueEmail("resume")))
		want = append(want, id)
	}
	slices.Sort(want)

	stopped, cancel := context.WithTimeout(ctx, settle/2)
	defer cancel()
	if _, err := dynamo.Reshard(stopped, tables.Client, name, 1, dynamo.ReshardOptions{Settle: time.Hour}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a reshard stopped in its settle: %v", err)
	}
	if got := tables.Item(t, name, "LIST#shards"); got["shards"] != "N:1" || got["from"] != "N:3" || got["moving"] != "BOOL:true" {
		t.Fatalf("layout of a stopped reshard: %v", got)
	}
	time.Sleep(2 * refresh)
	if got := listAll(t, three, 4); !slices.Equal(got, want) {
		t.Errorf("listing half-way: %d users, want %d", len(got), len(want))
	}
	if _, err := dynamo.Reshard(ctx, tables.Client, name, 4, dynamo.ReshardOptions{Settle: settle}); err == nil || !strings.Contains(err.Error(), "unfinished: run it again with --to 1") {
		t.Errorf("another reshard before the first is finished: %v", err)
	}
	rep, err := dynamo.Reshard(ctx, tables.Client, name, 1, dynamo.ReshardOptions{Settle: settle})
	if err != nil || rep.From != 3 || rep.Passes != 2 || rep.Users != 30 {
		t.Fatalf("the reshard run again: %+v, %v", rep, err)
	}
	if got := listAll(t, three, 4); !slices.Equal(got, want) {
		t.Errorf("listing after: %d users, want %d", len(got), len(want))
	}

	empty := tables.NewUsersTable(t, "ReshardEmpty")
	if rep, err := dynamo.Reshard(ctx, tables.Client, empty, 7, dynamo.ReshardOptions{Settle: time.Hour}); err != nil || rep.From != 0 {
		t.Errorf("reshard of a table with no users: %+v, %v", rep, err)
	}
	if got := tables.Item(t, empty, "LIST#shards"); got["shards"] != "N:7" {
		t.Errorf("layout recorded for a table with no users: %v", got)
	}
	for _, n := range []int{0, dynamo.MaxListShards + 1} {
		if _, err := dynamo.Reshard(ctx, tables.Client, empty, n, dynamo.ReshardOptions{}); err == nil {
			t.Errorf("reshard to %d shards: no error", n)
		}
	}
}

// moveHook is a client that calls after once each user move succeeds.
type moveHook struct {
	dynamo.ReshardAPI
	after func()
}

func (h *moveHook) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := h.ReshardAPI.UpdateItem(ctx, in, opts...)
	if err == nil && strings.Contains(*in.UpdateExpression, "listPk") {
		h.after()
	}
	return out, err
}

// listAll lists every user of tb, limit a page, and returns their ids.
func listAll(t *testing.T, tb *dynamo.Table, limit int) []users.ID {
	t.Helper()
	var got []users.ID
	var next []byte
	for page := 0; ; page++ {
		p, err := tb.List(context.Background(), limit, next)
		if err != nil {
			t.Fatalf("list page %d: %v", page, err)
		}
		got = append(got, ids(p.Items)...)
		if p.Next == nil {
			return got
		}
		next = p.Next
	}
}

func firstDiff(a, b []users.ID) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
