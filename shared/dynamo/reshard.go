package dynamo

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
)

// ReshardAPI is the part of the DynamoDB client that Reshard uses.
type ReshardAPI interface {
	layoutReader
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ ReshardAPI = (*dynamodb.Client)(nil)

// DefaultReshardSettle is how long Reshard waits between recording that users
// move and moving the first: longer than DefaultLayoutRefresh plus the
// longest call of a function (15 s), so that every function lists over both
// counts and writes with the new one before any user moves.
const DefaultReshardSettle = 30 * time.Second

// ReshardOptions tune Reshard.
type ReshardOptions struct {
	// Settle is the wait after the reshard is recorded and before users move
	// (DefaultReshardSettle when zero). It must be longer than the
	// LayoutRefresh of every Table in use plus its longest call.
	Settle time.Duration
	// Progress, if set, is called after each pass over the table.
	Progress func(ReshardReport)
}

// ReshardReport says what a Reshard did.
type ReshardReport struct {
	From, To int  // the counts before and after (From 0: the table had no users, and To is recorded)
	Done     bool // nothing to do: the table was already listed over To shards
	Passes   int  // scans of the table
	Moved    int  // users whose list entry moved to its shard under To
	Users    int  // live users the last pass saw
}

// maxReshardPasses bounds the passes: each pass after the first only finds
// users a stale writer put back under the old count, which the settle makes
// rare, so a pass that keeps finding them means something is wrong.
const maxReshardPasses = 5

// reshardConcurrency bounds the scan and the moves in flight.
const reshardConcurrency = 8

// Reshard moves the live users of the users table to `to` list shards, while
// the API keeps serving, listing exactly, throughout:
//
//  1. It records the move in the table's layout (shards: to, from: the count
//     before, moving). Every Table reads it within its LayoutRefresh: from then
//     on it writes users under the new count and lists the shards of both.
//  2. It waits opt.Settle, so that no function still writes under the old count.
//  3. It scans the table (strongly consistent) and rewrites the listPk of each
//     live user not in its shard under the new count, on the condition that
//     the listPk is still the one read (a user written or deleted meanwhile is
//     left to the next pass); it scans again until a pass moves no one.
//  4. It records the move done (moving removed): listings read the new count's
//     shards only. The old count stays recorded as `from`, so functions still
//     configured with it keep working until ListShards is deployed.
//
// A move changes no user's version, so the stream function makes no change
// event of it. Reshard run again after it stopped half-way resumes the same
// move; a move to another count is refused until that one is finished.
func Reshard(ctx context.Context, client ReshardAPI, table string, to int, opt ReshardOptions) (ReshardReport, error) {
	rep := ReshardReport{To: to}
	if to < 1 || to > MaxListShards {
		return rep, fmt.Errorf("reshard: %d shards is not from 1 to %d", to, MaxListShards)
	}
	l, ok, err := readLayout(ctx, client, table, true)
	if err != nil {
		return rep, fmt.Errorf("reshard: %w", err)
	}
	switch {
	case !ok:
		// No user was ever written: record the count, as the first write would.
		if err := checkUnsharded(ctx, client, table); err != nil {
			return rep, fmt.Errorf("reshard: %w", err)
		}
		err := putLayout(ctx, client, table, layout{shards: to})
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return Reshard(ctx, client, table, to, opt) // a first write recorded its count meanwhile: move from it
		}
		if err != nil {
			return rep, fmt.Errorf("reshard: record %d: %w", to, err)
		}
		return rep, nil
	case l.moving && l.shards != to:
		return rep, fmt.Errorf("reshard: a move from %d to %d shards is unfinished: run it again with --to %d first", l.from, l.shards, l.shards)
	case !l.moving && l.shards == to:
		rep.From, rep.Done = to, true
		return rep, nil
	case !l.moving:
		if err := beginReshard(ctx, client, table, l.shards, to); err != nil {
			return rep, err
		}
		l = layout{shards: to, from: l.shards, moving: true}
	}
	rep.From = l.from

	settle := opt.Settle
	if settle == 0 {
		settle = DefaultReshardSettle
	}
	select {
	case <-ctx.Done():
		return rep, fmt.Errorf("reshard: %w (run it again to go on)", ctx.Err())
	case <-time.After(settle):
	}

	for {
		moved, live, err := movePass(ctx, client, table, to)
		rep.Passes++
		rep.Moved += moved
		rep.Users = live
		if err != nil {
			return rep, fmt.Errorf("reshard: pass %d: %w (run it again to go on)", rep.Passes, err)
		}
		if opt.Progress != nil {
			opt.Progress(rep)
		}
		if moved == 0 {
			break
		}
		if rep.Passes == maxReshardPasses {
			return rep, fmt.Errorf("reshard: %d passes and users still move back under %d shards: is a function writing with a layout older than %s?",
				rep.Passes, l.from, settle)
		}
	}

	_, err = client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: shardsKey}},
		UpdateExpression:          aws.String("REMOVE #moving"),
		ConditionExpression:       aws.String("#shards = :to AND #moving = :true"),
		ExpressionAttributeNames:  map[string]string{"#shards": "shards", "#moving": "moving"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":to": number(to), ":true": &types.AttributeValueMemberBOOL{Value: true}},
	})
	if err != nil {
		return rep, fmt.Errorf("reshard: record the move done: %w", err)
	}
	return rep, nil
}

// beginReshard records in the layout that users move from `from` to `to`
// shards, on the condition that the layout is still the one read.
func beginReshard(ctx context.Context, client ReshardAPI, table string, from, to int) error {
	_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: shardsKey}},
		UpdateExpression:          aws.String("SET #shards = :to, #from = :from, #moving = :true"),
		ConditionExpression:       aws.String("#shards = :from AND attribute_not_exists(#moving)"),
		ExpressionAttributeNames:  map[string]string{"#shards": "shards", "#from": "from", "#moving": "moving"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":to": number(to), ":from": number(from), ":true": &types.AttributeValueMemberBOOL{Value: true}},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return errors.New("reshard: the layout changed while the reshard began (another reshard?): run it again")
	}
	if err != nil {
		return fmt.Errorf("reshard: record the move: %w", err)
	}
	return nil
}

// movePass scans the users table once and moves each live user whose list
// entry is not in its shard under `to`; it returns how many moved and how
// many live users it saw.
func movePass(ctx context.Context, client ReshardAPI, table string, to int) (moved, live int, err error) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(reshardConcurrency)
	var n atomic.Int64
	pages := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{
		TableName:                aws.String(table),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("pk, #id, listPk"),
		FilterExpression:         aws.String("attribute_exists(listPk)"),
		ExpressionAttributeNames: map[string]string{"#id": "id"},
	})
	g.Go(func() error {
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("scan: %w", err)
			}
			for _, av := range page.Items {
				var it struct {
					PK     string `dynamodbav:"pk"`
					ID     string `dynamodbav:"id"`
					ListPK string `dynamodbav:"listPk"`
				}
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return fmt.Errorf("scan: %w", err)
				}
				live++
				want := listKey(shardOf(it.ID, to))
				if it.ListPK == want {
					continue
				}
				// Go blocks while reshardConcurrency moves are in flight
				// (the scan holds one slot of the limit too).
				g.Go(func() error {
					ok, err := moveUser(ctx, client, table, it.PK, it.ListPK, want)
					if err != nil {
						return fmt.Errorf("move user %s: %w", it.ID, err)
					}
					if ok {
						n.Add(1)
					}
					return nil
				})
			}
		}
		return nil
	})
	err = g.Wait()
	return int(n.Load()), live, err
}

// moveUser sets the listPk of the user item pk from cur to want, and reports
// false when the item no longer has cur (written or deleted since the scan).
func moveUser(ctx context.Context, client ReshardAPI, table, pk, cur, want string) (bool, error) {
	_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(table),
		Key:                 map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
		UpdateExpression:    aws.String("SET listPk = :want"),
		ConditionExpression: aws.String("listPk = :cur"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":want": &types.AttributeValueMemberS{Value: want}, ":cur": &types.AttributeValueMemberS{Value: cur}},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	return err == nil, err
}

func number(n int) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}
