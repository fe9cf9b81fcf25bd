package dynamotest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usersapi/usersapi/internal/emulator/emulatortest"
	"github.com/usersapi/usersapi/internal/stack"
)

// Tables are the template's DynamoDB tables in the test binary's DynamoDB
// Local, and a client of it.
type Tables struct {
	Client      *dynamodb.Client
	Users       string // UsersTable
	Requests    string // RequestsTable
	Idempotency string // IdempotencyTable
}

// The template's tables, deployed at most once per test binary.
var (
	deployOnce sync.Once
	deployed   *stack.Stack
	deployErr  error
)

// Deploy returns the template's tables in the test binary's DynamoDB Local,
// creating them on first use (a table that exists is kept, so tests use keys
// of their own). Like emulatortest, it skips tb, or fails it when CI=true, if
// DynamoDB Local cannot be started.
func Deploy(tb testing.TB) Tables {
	tb.Helper()
	db := emulatortest.DynamoDBClient(tb)
	deployOnce.Do(func() {
		var template string
		if template, deployErr = templatePath(); deployErr != nil {
			return
		}
		if deployed, deployErr = stack.Load(template, nil); deployErr == nil {
			deployErr = deployed.DeployTables(context.Background(), db)
		}
	})
	if deployErr != nil {
		tb.Fatalf("deploy the template's tables: %v", deployErr)
	}
	return Tables{Client: db, Users: deployed.Resources["UsersTable"].Name,
		Requests: deployed.Resources["RequestsTable"].Name, Idempotency: deployed.Resources["IdempotencyTable"].Name}
}

// Item returns the item whose "pk" is pk in table, read consistently, as
// attribute names and typed values ("S:Ada", "N:3", "BOOL:true"); nil when
// there is none. It fails tb on an error, or on a type it does not render.
func (t Tables) Item(tb testing.TB, table, pk string) map[string]string {
	tb.Helper()
	out, err := t.Client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}})
	if err != nil {
		tb.Fatalf("get %s from %s: %v", pk, table, err)
	}
	if out.Item == nil {
		return nil
	}
	item := map[string]string{}
	for name, v := range out.Item {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			item[name] = "S:" + v.Value
		case *types.AttributeValueMemberN:
			item[name] = "N:" + v.Value
		case *types.AttributeValueMemberBOOL:
			item[name] = "BOOL:" + strconv.FormatBool(v.Value)
		default:
			tb.Fatalf("get %s from %s: attribute %s is a %T", pk, table, name, v)
		}
	}
	return item
}

// Items returns every item of table, read consistently, each as
// attributevalue.UnmarshalMap decodes it (strings, float64s, bools, lists,
// maps). It fails tb on an error.
func (t Tables) Items(tb testing.TB, table string) []map[string]any {
	tb.Helper()
	var items []map[string]any
	p := dynamodb.NewScanPaginator(t.Client, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			tb.Fatalf("scan %s: %v", table, err)
		}
		for _, av := range page.Items {
			var item map[string]any
			if err := attributevalue.UnmarshalMap(av, &item); err != nil {
				tb.Fatalf("scan %s: %v", table, err)
			}
			items = append(items, item)
		}
	}
	return items
}

// Put writes item to table as it is, with no condition: for items that the
// code under test would not write, such as those of an earlier version.
// Strings become S and numbers N (attributevalue.MarshalMap).
func (t Tables) Put(tb testing.TB, table string, item map[string]any) {
	tb.Helper()
	av, err := attributevalue.MarshalMap(item)
	if err == nil {
		_, err = t.Client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: av})
	}
	if err != nil {
		tb.Fatalf("put %v to %s: %v", item, table, err)
	}
}

// NewUsersTable creates an empty table shaped as the users table (its keys
// and the ByList index), named after name and unique to this call, and
// deletes it when tb ends: for a test that needs users of its own, such as
// users written over another list shard count. It returns the table's name.
func (t Tables) NewUsersTable(tb testing.TB, name string) string {
	tb.Helper()
	ctx := context.Background()
	d, err := t.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Users)})
	if err != nil {
		tb.Fatalf("describe %s: %v", t.Users, err)
	}
	copyNo := tableCopies.Add(1)
	table := name + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(copyNo, 10)
	in := &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: d.Table.AttributeDefinitions, KeySchema: d.Table.KeySchema}
	for _, g := range d.Table.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection})
	}
	if _, err := t.Client.CreateTable(ctx, in); err != nil {
		tb.Fatalf("create %s: %v", table, err)
	}
	tb.Cleanup(func() {
		if _, err := t.Client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			tb.Errorf("delete %s: %v", table, err)
		}
	})
	return table
}

// tableCopies numbers the tables NewUsersTable makes in this test binary.
var tableCopies atomic.Int64

// templatePath returns the path of the module's template.yaml, found from
// this file's own (shared/dynamo/dynamotest), whichever package's test runs.
func templatePath() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("find template.yaml: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "template.yaml"), nil
}
