package dynamo_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
	for _, id := range createUsers(t, two, 120, "reshard") {
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
		rep, err = dynamo.Reshard(ctx, client, name, 5, dynamo.ReshardOptions{Settle: settle, CatchUp: settle, Progress: progress})
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

	if got := tables.Item(t, name, "LIST#shards"); got["shards"] != "N:5" || got["from"] != "N:2" || got["moving"] != "" || got["to"] != "" {
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
	if rep, err := dynamo.Reshard(ctx, tables.Client, name, 5, dynamo.ReshardOptions{Settle: settle, CatchUp: settle}); err != nil || !rep.Done {
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
	want := createUsers(t, three, 30, "resume")

	startReshard(t, tables, name, 1)() // stopped in its first settle, as by a Ctrl-C
	if got := tables.Item(t, name, "LIST#shards"); got["shards"] != "N:3" || got["to"] != "N:1" || got["moving"] != "BOOL:true" {
		t.Fatalf("layout of a reshard stopped before writes switched: %v, want shards 3, to 1, moving", got)
	}
	time.Sleep(2 * refresh)
	if got := listAll(t, three, 4); !slices.Equal(got, want) {
		t.Errorf("listing half-way: %d users, want %d", len(got), len(want))
	}
	if _, err := dynamo.Reshard(ctx, tables.Client, name, 4, dynamo.ReshardOptions{Settle: settle}); err == nil || !strings.Contains(err.Error(), "unfinished: run it again with --to 1") {
		t.Errorf("another reshard before the first is finished: %v", err)
	}
	rep, err := dynamo.Reshard(ctx, tables.Client, name, 1, dynamo.ReshardOptions{Settle: settle, CatchUp: settle})
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

// TestReshardBeginKeepsStaleReaders: when a reshard begins, a function that
// has not read the layout again yet (up to its LayoutRefresh) still lists
// only the old count's shards, while a function that has read it writes: the
// writes stay under the old count until the settle is over, so the stale
// listing is exact, growing (2 → 5) and shrinking (5 → 2).
func TestReshardBeginKeepsStaleReaders(t *testing.T) {
	tables := dynamotest.Deploy(t)
	for _, c := range []struct{ from, to int }{{2, 5}, {5, 2}} {
		name := tables.NewUsersTable(t, "ReshardBegin"+strconv.Itoa(c.from))
		writer := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(c.from), dynamo.LayoutRefresh(refresh))
		stale := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(c.from), dynamo.LayoutRefresh(time.Hour))
		want := createUsers(t, writer, 40, "begin")
		if got := listAll(t, stale, 7); !slices.Equal(got, want) { // reads the layout before the reshard
			t.Fatalf("before: %d users, want %d", len(got), len(want))
		}
		stop := startReshard(t, tables, name, c.to)
		time.Sleep(2 * refresh)
		for _, id := range want { // the writer has read the layout: a write of each user
			apply(t, writer, users.Command{RequestID: "req-" + string(newID(t)), Op: users.PatchOp, UserID: id, Owner: "alice",
				AcceptedAt: time.Now(), Patch: users.Patch{Age: ptr(41)}})
		}
		if got := listAll(t, stale, 7); !slices.Equal(got, want) {
			t.Errorf("%d → %d: a listing with the layout of before lists %d users, want %d", c.from, c.to, len(got), len(want))
		}
		stop()
	}
}

// TestListMoveDuringPage: a user the reshard moves between a page's read of
// its new shard and the further read of its old one is listed all the same
// (while users move, a page reads every shard again).
func TestListMoveDuringPage(t *testing.T) {
	tables := dynamotest.Deploy(t)
	ctx := context.Background()
	name := tables.NewUsersTable(t, "ListMoveDuringPage")
	two := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(2))
	all := createUsers(t, two, 40, "move")
	// The layout half-way through a move from 2 to 5 shards.
	tables.Put(t, name, map[string]any{"pk": "LIST#shards", "shards": 5, "from": 2, "moving": true})
	// x: past the first read of its old shard (firstRead(25, 5): 10 users),
	// within the first page, and bound for a new shard (2 to 4) that the page
	// reads before x comes.
	var x users.ID
	rank := map[string]int{}
	for i, id := range all {
		old := dynamo.ListKey(id, 2)
		rank[old]++
		if n := dynamo.ListKey(id, 5); i < 25 && rank[old] > 10 && n != "users#0" && n != "users#1" {
			x = id
			break
		}
	}
	if x == "" {
		t.Fatal("no user fits: change the count of users")
	}
	var once sync.Once
	hook := &queryHook{API: tables.Client, after: func(shard string) {
		if shard != dynamo.ListKey(x, 5) {
			return
		}
		once.Do(func() { // the reshard's move of x, just after its new shard was read
			_, err := tables.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(name), Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "USER#" + string(x)}},
				UpdateExpression: aws.String("SET listPk = :new"), ConditionExpression: aws.String("listPk = :old"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
					":new": &ddbtypes.AttributeValueMemberS{Value: dynamo.ListKey(x, 5)}, ":old": &ddbtypes.AttributeValueMemberS{Value: dynamo.ListKey(x, 2)}}})
			if err != nil {
				t.Error(err)
			}
		})
	}}
	reader := dynamo.NewTable(hook, name, tables.Requests, dynamo.ListShards(2))
	if got := listAll(t, reader, 25); !slices.Equal(got, all) {
		t.Errorf("listed %d of %d users while %s moved (listed: %v)", len(got), len(all), x, slices.Contains(got, x))
	}
	if got := tables.Item(t, name, "USER#"+string(x))["listPk"]; got != "S:"+dynamo.ListKey(x, 5) {
		t.Errorf("x was not moved during the listing: %s", got)
	}
}

// queryHook is a client that calls after with the shard of each list query.
type queryHook struct {
	dynamo.API
	after func(shard string)
}

func (h *queryHook) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := h.API.Query(ctx, in, opts...)
	if v, ok := in.ExpressionAttributeValues[":shard"].(*ddbtypes.AttributeValueMemberS); ok && err == nil {
		h.after(v.Value)
	}
	return out, err
}

// createUsers creates n users through tb and returns their ids in id order.
func createUsers(t *testing.T, tb *dynamo.Table, n int, prefix string) []users.ID {
	t.Helper()
	made := make([]users.ID, n)
	for i := range made {
		made[i] = newID(t)
		apply(t, tb, create(made[i], uniqueEmail(prefix)))
	}
	slices.Sort(made)
	return made
}

// startReshard begins a reshard of table to `to` shards that waits in its
// first settle, and returns once the layout records it; stop ends it there
// (Ctrl-C, as it were), checking that it stopped for that.
func startReshard(t *testing.T, tables dynamotest.Tables, table string, to int) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := dynamo.Reshard(ctx, tables.Client, table, to, dynamo.ReshardOptions{Settle: time.Hour})
		done <- err
	}()
	for tables.Item(t, table, "LIST#shards")["moving"] != "BOOL:true" {
		select {
		case err := <-done:
			t.Fatalf("the reshard ended before it began: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	return func() {
		t.Helper()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("the reshard stopped in its settle: %v", err)
		}
	}
}
