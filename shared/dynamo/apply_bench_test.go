package dynamo_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/dynamo"
	"github.com/usersapi/usersapi/shared/dynamo/dynamotest"
	"github.com/usersapi/usersapi/shared/users"
)

// batchSize is the write queue's BatchSize in template.yaml.
const batchSize = 10

// BenchmarkApply measures the worker's write path against DynamoDB Local: a
// batch of 10 creates for 10 distinct users, applied side by side as
// functions/worker applies message groups (one goroutine per user), with
// Table.Apply, against the baseline of the same batch written as bare
// TransactWriteItems calls: the same three conditional puts (the user, its
// email reservation, the request record), built by hand, with no read before
// the write, no attribute mapping and no retry. Each b.Loop iteration runs one
// batch of each, in turns, so load on the machine falls on both alike.
//
// Metrics: apply-writes/s, baseline-writes/s, and x, Apply's throughput as a
// fraction of the baseline's (the goal is at least 0.8).
func BenchmarkApply(b *testing.B) {
	tables := dynamotest.Deploy(b)
	db, usersTable, requestsTable := tables.Client, tables.Users, tables.Requests
	tbl := dynamo.NewTable(db, usersTable, requestsTable)
	ctx := context.Background()

	applyBatch := func() time.Duration {
		cmds := benchCommands(b)
		start := time.Now()
		each(cmds, func(cmd users.Command) {
			r, err := tbl.Apply(ctx, cmd)
			if err != nil || r.Status != users.Succeeded {
				b.Errorf("apply %s: %+v %v", cmd.UserID, r, err)
			}
		})
		return time.Since(start)
	}
	baseBatch := func() time.Duration {
		cmds := benchCommands(b)
		start := time.Now()
		each(cmds, func(cmd users.Command) {
			in := bareTransaction(usersTable, requestsTable, cmd, time.Now().UTC())
			if _, err := db.TransactWriteItems(ctx, in); err != nil {
				b.Errorf("transact %s: %v", cmd.UserID, err)
			}
		})
		return time.Since(start)
	}
	var applyTime, baseTime time.Duration
	for i := 0; b.Loop(); i++ {
		// Whichever batch follows the other's is slower in DynamoDB Local
		// (it is still busy with the first one's aftermath), so take turns.
		if i%2 == 0 {
			applyTime += applyBatch()
			baseTime += baseBatch()
		} else {
			baseTime += baseBatch()
			applyTime += applyBatch()
		}
	}
	if b.Failed() {
		return
	}
	writes := float64(b.N * batchSize)
	applyRate, baseRate := writes/applyTime.Seconds(), writes/baseTime.Seconds()
	b.ReportMetric(applyRate, "apply-writes/s")
	b.ReportMetric(baseRate, "baseline-writes/s")
	b.ReportMetric(applyRate/baseRate, "x")
}

// benchCommands returns creates of batchSize new users, as ingest makes them.
func benchCommands(b *testing.B) []users.Command {
	cmds := make([]users.Command, batchSize)
	for i := range cmds {
		id, err := uuid.NewV7()
		if err != nil {
			b.Fatal(err)
		}
		cmds[i] = users.Command{RequestID: "req-" + uuid.NewString(), Op: users.Create, UserID: users.ID(id.String()),
			AcceptedAt: time.Now(), Owner: "bench", Trace: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
			Input: users.Input{Name: "Ada Lovelace", Email: "ada-" + id.String()[24:] + "@example.com", Phone: "5551234567", Age: 36}}
	}
	return cmds
}

// each runs fn on every command at once and waits for them all.
func each(cmds []users.Command, fn func(users.Command)) {
	var wg sync.WaitGroup
	for _, cmd := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(cmd)
		}()
	}
	wg.Wait()
}

// bareTransaction is the transaction Table.Apply writes for a create, built
// by hand: the user on attribute_not_exists(pk), its email reservation, and
// the request record on attribute_not_exists(requestId).
func bareTransaction(usersTable, requestsTable string, cmd users.Command, now time.Time) *dynamodb.TransactWriteItemsInput {
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	n := func(v int64) ddbtypes.AttributeValue {
		return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	at, accepted := now.Format(time.RFC3339Nano), cmd.AcceptedAt.UTC().Format(time.RFC3339Nano)
	id := string(cmd.UserID)
	return &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String(usersTable), ConditionExpression: aws.String("attribute_not_exists(pk)"),
			Item: map[string]ddbtypes.AttributeValue{
				"pk": s("USER#" + id), "id": s(id), "name": s(cmd.Input.Name), "email": s(cmd.Input.Email),
				"phone": s(cmd.Input.Phone), "age": n(int64(cmd.Input.Age)), "version": n(1),
				"createdAt": s(at), "updatedAt": s(at), "owner": s(cmd.Owner), "lastRequestId": s(cmd.RequestID),
				"listPk": s("users"), "trace": s(cmd.Trace),
			}}},
		{Put: &ddbtypes.Put{TableName: aws.String(usersTable), ConditionExpression: aws.String("attribute_not_exists(pk) OR userId = :id"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":id": s(id)},
			Item:                      map[string]ddbtypes.AttributeValue{"pk": s("EMAIL#" + users.EmailKey(cmd.Input.Email)), "userId": s(id)}}},
		{Put: &ddbtypes.Put{TableName: aws.String(requestsTable), ConditionExpression: aws.String("attribute_not_exists(requestId)"),
			Item: map[string]ddbtypes.AttributeValue{
				"requestId": s(cmd.RequestID), "userId": s(id), "op": s(string(cmd.Op)), "status": s(string(users.Succeeded)),
				"version": n(1), "acceptedAt": s(accepted), "completedAt": s(at), "owner": s(cmd.Owner),
				"expiresAt": n(now.Add(dynamo.RequestTTL).Unix()),
			}}},
	}}
}
