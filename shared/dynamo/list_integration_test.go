package dynamo_test

import (
	"context"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/dynamo/dynamotest"
	"github.com/usersapi/usersapi/shared/users"
)

// TestListShardsExact is the property test of list shards. The same users,
// and the same writes and deletes between pages, go to tables listed over 1
// (the unsharded listing), 3 and the default count of shards; at every page
// size each sharded listing returns exactly the pages the unsharded one
// returns (the same users, in the same order, at the same versions), and
// every listing keeps the contract of GET /users under concurrent writes:
//
//   - every user that lives through the whole listing appears exactly once;
//   - no user appears twice, and users appear in id order;
//   - a user created or deleted during the listing may appear or not (here:
//     one created ahead of the position appears, one created behind it does
//     not, one deleted before the listing reaches it does not).
func TestListShardsExact(t *testing.T) {
	tables := dynamotest.Deploy(t)
	ctx := context.Background()
	counts := []int{1, dynamo.DefaultListShards, 3, 10}
	tbls := make([]*dynamo.Table, len(counts))
	for i, n := range counts {
		name := tables.NewUsersTable(t, "ListShards"+strconv.Itoa(n))
		tbls[i] = dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(n))
	}
	rng := rand.New(rand.NewPCG(15, 1))
	live := map[users.ID]bool{}
	// each applies cmd to every table, under a request id of each table's own.
	each := func(cmd users.Command) {
		t.Helper()
		for _, tb := range tbls {
			c := cmd
			c.RequestID = "req-" + uuid.NewString()
			if r := apply(t, tb, c); r.Status != users.Succeeded {
				t.Fatalf("%s %s: %+v", cmd.Op, cmd.UserID, r)
			}
		}
		switch cmd.Op {
		case users.Create:
			live[cmd.UserID] = true
		case users.Delete:
			delete(live, cmd.UserID)
		}
	}
	for range 25 {
		each(create(newID(t), uniqueEmail("shard")))
	}

	for _, limit := range []int{1, 2, 5, 7, 25} {
		present := maps.Clone(live) // the users that exist when the listing starts
		deleted := map[users.ID]bool{}
		var ahead, behind []users.ID
		nexts := make([][]byte, len(tbls))
		done := make([]bool, len(tbls))
		seen := make([][]users.ID, len(tbls))
		for page := 0; ; page++ {
			if page > 200 {
				t.Fatalf("limit %d: the listing does not end", limit)
			}
			var want []users.User // the unsharded listing's page
			unsharded := !done[0] // the unsharded listing has this page
			for i, tb := range tbls {
				if done[i] {
					continue
				}
				p, err := tb.List(ctx, limit, nexts[i])
				if err != nil {
					t.Fatalf("limit %d, %d shards, page %d: %v", limit, counts[i], page, err)
				}
				if len(p.Items) > limit {
					t.Fatalf("limit %d, %d shards: a page of %d", limit, counts[i], len(p.Items))
				}
				if i == 0 {
					want = p.Items
				} else if unsharded && !samePage(p.Items, want) {
					t.Fatalf("limit %d, page %d: %d shards listed %v, 1 shard %v", limit, page, counts[i], ids(p.Items), ids(want))
				} else if !unsharded && len(p.Items) > 0 {
					t.Fatalf("limit %d, page %d: %d shards listed %v after the unsharded listing ended", limit, page, counts[i], ids(p.Items))
				}
				for _, u := range p.Items {
					seen[i] = append(seen[i], u.ID)
				}
				nexts[i], done[i] = p.Next, p.Next == nil
			}
			if all(done) {
				break
			}
			// Writes between pages: now and then a user ahead of every
			// position, or one behind it (an id from a clock a millisecond
			// behind the position's); a delete or a patch.
			if page == 0 || rng.IntN(4) == 0 {
				id := newID(t)
				ahead = append(ahead, id)
				each(create(id, uniqueEmail("ahead")))
			}
			if rng.IntN(4) == 0 {
				id := idBefore(t, seen[0][len(seen[0])-1])
				behind = append(behind, id)
				each(create(id, uniqueEmail("behind")))
			}
			if ids := slices.Sorted(maps.Keys(live)); rng.IntN(2) == 0 {
				victim := ids[rng.IntN(len(ids))]
				if !slices.Contains(seen[0], victim) {
					deleted[victim] = true
				}
				each(users.Command{Op: users.Delete, UserID: victim, Owner: "alice", AcceptedAt: time.Now()})
			} else {
				each(users.Command{Op: users.PatchOp, UserID: ids[rng.IntN(len(ids))], Owner: "alice", AcceptedAt: time.Now(),
					Patch: users.Patch{Age: ptr(rng.IntN(100) + 1)}})
			}
		}
		for i, s := range seen {
			if !slices.IsSorted(s) || len(slices.Compact(slices.Clone(s))) != len(s) {
				t.Errorf("limit %d, %d shards: not in id order, or a user twice: %v", limit, counts[i], s)
			}
			for id := range present {
				if !deleted[id] && !slices.Contains(s, id) {
					t.Errorf("limit %d, %d shards: user %s lived through the listing and is not in it", limit, counts[i], id)
				}
			}
			for id := range deleted {
				if slices.Contains(s, id) {
					t.Errorf("limit %d, %d shards: user %s, deleted before the listing reached it, is in it", limit, counts[i], id)
				}
			}
			for _, id := range behind {
				if slices.Contains(s, id) {
					t.Errorf("limit %d, %d shards: user %s, created behind the position, is in it", limit, counts[i], id)
				}
			}
			for _, id := range ahead {
				if !deleted[id] && !slices.Contains(s, id) {
					t.Errorf("limit %d, %d shards: user %s, created ahead of the position, is not in it", limit, counts[i], id)
				}
			}
		}
		t.Logf("limit %d: %d users listed in %d pages; %d created, %d deleted during the listing",
			limit, len(seen[0]), (len(seen[0])+limit-1)/limit, len(ahead)+len(behind), len(deleted))
	}
}

// TestListShardsRecorded: the first write records the table's shard count; a
// Table over another count refuses to write or list, and so does every Table
// over a table with users from before list shards; a user in a shard its id
// does not name is listed all the same.
func TestListShardsRecorded(t *testing.T) {
	tables := dynamotest.Deploy(t)
	ctx := context.Background()

	name := tables.NewUsersTable(t, "ListShardsRecorded")
	three := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(3))
	if _, err := three.List(ctx, 10, nil); err != nil {
		t.Fatalf("listing an empty table: %v", err)
	}
	if tables.Item(t, name, "LIST#shards") != nil {
		t.Fatal("a listing recorded the shard count")
	}
	apply(t, three, create(newID(t), uniqueEmail("three")))
	if got := tables.Item(t, name, "LIST#shards"); got["shards"] != "N:3" {
		t.Fatalf("recorded %v, want shards 3", got)
	}
	four := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(4))
	refused := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "listed over 3 shards, but ListShards is 4") {
			t.Errorf("%s over 4 shards of a table of 3: %v", what, err)
		}
	}
	_, err := four.Apply(ctx, create(newID(t), uniqueEmail("four")))
	refused("a write", err)
	_, err = four.List(ctx, 10, nil)
	refused("a listing", err)
	if p, err := three.List(ctx, 10, nil); err != nil || len(p.Items) != 1 {
		t.Errorf("the table's own count lists: %d users, %v", len(p.Items), err)
	}

	// A user of before list shards, under listPk "users".
	name = tables.NewUsersTable(t, "ListShardsUnsharded")
	id := newID(t)
	tables.Put(t, name, map[string]any{"pk": "USER#" + string(id), "id": string(id), "listPk": "users"})
	old := dynamo.NewTable(tables.Client, name, tables.Requests)
	if _, err := old.List(ctx, 10, nil); err == nil || !strings.Contains(err.Error(), `listPk "users"`) {
		t.Errorf("listing a table of unsharded users: %v", err)
	}
	if _, err := old.Apply(ctx, create(newID(t), uniqueEmail("unsharded"))); err == nil || !strings.Contains(err.Error(), `listPk "users"`) {
		t.Errorf("writing to a table of unsharded users: %v", err)
	}

	// A user in a shard its id does not name (put back there by a writer
	// whose layout was older than a reshard allows, say): it is listed, in
	// its place, since the listing reads that shard; the reshard's next pass
	// would move it. This id's shard over 2 is 0 (its FNV-1a is 0x30078236).
	name = tables.NewUsersTable(t, "ListShardsMisplaced")
	two := dynamo.NewTable(tables.Client, name, tables.Requests, dynamo.ListShards(2))
	apply(t, two, create(newID(t), uniqueEmail("two")))
	now := time.Now().UTC().Format(time.RFC3339Nano)
	const misplaced = "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"
	tables.Put(t, name, map[string]any{"pk": "USER#" + misplaced, "id": misplaced, "name": "N", "email": "n@example.com",
		"version": 1, "createdAt": now, "updatedAt": now, "listPk": "users#1"})
	if p, err := two.List(ctx, 10, nil); err != nil || len(p.Items) != 2 || p.Items[0].ID != misplaced {
		t.Errorf("listing a misplaced user: %v, %v; want it listed first of 2", p.Items, err)
	}
}

func samePage(a, b []users.User) bool {
	return slices.EqualFunc(a, b, func(x, y users.User) bool { return x.ID == y.ID && x.Version == y.Version && x.Age == y.Age })
}

func ids(us []users.User) []users.ID {
	out := make([]users.ID, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func all(bs []bool) bool { return !slices.Contains(bs, false) }

// idBefore returns a new UUIDv7 id a millisecond older than id.
func idBefore(t *testing.T, id users.ID) users.ID {
	t.Helper()
	u, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	p := uuid.MustParse(string(id))
	copy(u[:6], p[:6])
	for i := 5; i >= 0; i-- { // minus one millisecond
		u[i]--
		if u[i] != 0xff {
			break
		}
	}
	return users.ID(u.String())
}
