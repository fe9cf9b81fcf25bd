package dynamo_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/dynamo/dynamotest"
	"github.com/usersapi/usersapi/shared/users"
)

// listUsers is how many users BenchmarkList lists from.
const listUsers = 10000

// BenchmarkList measures a page of GET /users (limit 25) with 10,000 users
// in DynamoDB Local, listed over the default count of shards against the
// same users over one shard (the unsharded listing), from the same positions
// (a random user's id each page), in turns. Then it applies the same creates,
// patches and deletes through Table.Apply over both counts and sums the
// write capacity DynamoDB reports for the ByList index.
//
// Metrics: sharded-ms and unsharded-ms (mean time of a page), x (their
// ratio; the goal is at most 1.5), and index-wcu/write at each count (one
// index write per user write at any count: the entry moves with no write).
func BenchmarkList(b *testing.B) {
	tables := dynamotest.Deploy(b)
	ctx := context.Background()
	ids := make([]users.ID, listUsers)
	for i := range ids {
		ids[i] = users.ID(uuid.Must(uuid.NewV7()).String())
	}
	counts := []int{dynamo.DefaultListShards, 1}
	capacity := make([]*indexCapacity, len(counts))
	tbls := make([]*dynamo.Table, len(counts))
	for i, n := range counts {
		name := tables.NewUsersTable(b, "BenchList"+strconv.Itoa(n))
		seedUsers(b, tables.Client, name, n, ids)
		capacity[i] = &indexCapacity{API: tables.Client}
		tbls[i] = dynamo.NewTable(capacity[i], name, tables.Requests, dynamo.ListShards(n))
	}
	rng := rand.New(rand.NewPCG(15, 25))
	page := func(tb *dynamo.Table, after []byte) time.Duration {
		start := time.Now()
		p, err := tb.List(ctx, 25, after)
		if err != nil || len(p.Items) == 0 {
			b.Fatalf("list: %d users, %v", len(p.Items), err)
		}
		return time.Since(start)
	}
	// The first page, and pages after 64 random users: the same positions
	// for both tables.
	positions := [][]byte{nil}
	for range 64 {
		positions = append(positions, dynamo.Position(ids[rng.IntN(len(ids))]))
	}
	var times [2]time.Duration
	for i := 0; b.Loop(); i++ {
		at := positions[rng.IntN(len(positions))]
		if i%2 == 0 {
			times[0] += page(tbls[0], at)
			times[1] += page(tbls[1], at)
		} else {
			times[1] += page(tbls[1], at)
			times[0] += page(tbls[0], at)
		}
	}
	b.StopTimer()
	sharded, unsharded := times[0].Seconds()*1000/float64(b.N), times[1].Seconds()*1000/float64(b.N)
	b.ReportMetric(sharded, "sharded-ms")
	b.ReportMetric(unsharded, "unsharded-ms")
	b.ReportMetric(sharded/unsharded, "x")

	for i, tb := range tbls {
		writes := 0
		for range 10 {
			id := newID(b)
			for _, cmd := range []users.Command{
				create(id, uniqueEmail("bench")),
				{RequestID: "req-" + uuid.NewString(), Op: users.PatchOp, UserID: id, Owner: "alice", AcceptedAt: time.Now(), Patch: users.Patch{Age: ptr(40)}},
				{RequestID: "req-" + uuid.NewString(), Op: users.Delete, UserID: id, Owner: "alice", AcceptedAt: time.Now()},
			} {
				if r, err := tb.Apply(ctx, cmd); err != nil || r.Status != users.Succeeded {
					b.Fatalf("%s: %+v %v", cmd.Op, r, err)
				}
				writes++
			}
		}
		b.ReportMetric(capacity[i].units()/float64(writes), fmt.Sprintf("index-wcu/write-%d-shards", counts[i]))
	}
}

// indexCapacity is a client that asks every transaction for the capacity it
// consumed, and sums what the ByList index took.
type indexCapacity struct {
	dynamo.API
	mu    sync.Mutex
	index float64
}

func (c *indexCapacity) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ReturnConsumedCapacity = ddbtypes.ReturnConsumedCapacityIndexes
	out, err := c.API.TransactWriteItems(ctx, in, opts...)
	if err == nil {
		c.mu.Lock()
		for _, cc := range out.ConsumedCapacity {
			if g, ok := cc.GlobalSecondaryIndexes["ByList"]; ok {
				c.index += aws.ToFloat64(g.CapacityUnits)
			}
		}
		c.mu.Unlock()
	}
	return out, err
}

func (c *indexCapacity) units() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.index
}

// seedUsers writes a user item for each id to table, listed over n shards as
// Table.Apply lists it, with the shard count recorded; 25 items a
// BatchWriteItem, four at a time.
func seedUsers(b *testing.B, db *dynamodb.Client, table string, n int, ids []users.ID) {
	b.Helper()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var reqs []ddbtypes.WriteRequest
	put := func(item map[string]any) {
		av, err := attributevalue.MarshalMap(item)
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: av}})
	}
	put(map[string]any{"pk": "LIST#shards", "shards": n})
	for _, id := range ids {
		put(map[string]any{"pk": "USER#" + string(id), "id": string(id), "name": "Ada Lovelace", "email": "ada-" + string(id) + "@example.com",
			"phone": "5551234567", "age": 36, "version": 1, "createdAt": now, "updatedAt": now, "owner": "alice",
			"lastRequestId": "req-" + string(id), "listPk": dynamo.ListKey(id, n)})
	}
	batches := slices.Collect(slices.Chunk(reqs, 25))
	var wg sync.WaitGroup
	slots := make(chan struct{}, 4)
	for _, batch := range batches {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			for pending := batch; len(pending) > 0; {
				out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
					RequestItems: map[string][]ddbtypes.WriteRequest{table: pending}})
				if err != nil {
					b.Errorf("seed %s: %v", table, err)
					return
				}
				pending = out.UnprocessedItems[table]
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}
