package dynamo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
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

// DefaultReshardSettle is how long Reshard waits after each change of the
// layout that functions must see before the next step: longer than
// DefaultLayoutRefresh (10 s) plus the longest call of a function that uses
// the layout (the worker's timeout, 30 s), plus a margin.
const DefaultReshardSettle = 45 * time.Second

// DefaultReshardCatchUp is how long Reshard waits after its last pass before
// listings stop reading the old count's shards: time for the index to apply
// the last moves (DynamoDB propagates to a global secondary index
// asynchronously, usually within a second).
const DefaultReshardCatchUp = 5 * time.Second

// ReshardOptions tune Reshard.
type ReshardOptions struct {
	// Settle is the wait after each layout change that functions must see
	// (DefaultReshardSettle when zero). It must be longer than the
	// LayoutRefresh of every Table in use plus its longest call.
	Settle time.Duration
	// CatchUp is the wait between the last pass and the end of the move
	// (DefaultReshardCatchUp when zero).
	CatchUp time.Duration
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
// the API keeps serving and listing exactly:
//
//  1. It records that a move to `to` begins (layout: to, moving). Every Table
//     reads the layout again within its LayoutRefresh; from then on it lists
//     the shards of both counts, and still writes under the old one. It waits
//     opt.Settle, so that every listing reads both before any user moves.
//  2. It switches writes to the new count (shards: to, from: the old count) and
//     waits opt.Settle again, so that no write under the old count is still
//     in flight.
//  3. It scans the table (strongly consistent) and rewrites the listPk of each
//     live user not in its shard under the new count, on the condition that
//     the listPk is still the one read (a user written or deleted meanwhile is
//     left to the next pass); it scans again until a pass moves no one.
//  4. It waits opt.CatchUp for the index, then records the move done (moving
//     removed): listings read the new count's shards only. The old count stays
//     recorded as `from`, so functions still configured with it keep working
//     until ListShards is deployed.
//
// While users move, a page of List reads every shard twice (see List), so a
// user moved between two reads of one page is still listed. A move changes
// no user's version, so the stream function makes no change event of it.
// Reshard run again after it stopped half-way resumes the same move; a move to
// another count is refused until that one is finished.
func Reshard(ctx context.Context, client ReshardAPI, table string, to int, opt ReshardOptions) (ReshardReport, error) {
	rep := ReshardReport{To: to}
	if to < 1 || to > MaxListShards {
		return rep, fmt.Errorf("reshard: %d shards is not from 1 to %d", to, MaxListShards)
	}
	settle := cmp.Or(opt.Settle, DefaultReshardSettle)
	wait := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return fmt.Errorf("reshard: %w (run it again to go on)", ctx.Err())
		case <-time.After(d):
			return nil
		}
	}
	l, ok, err := readLayout(ctx, client, table)
	if err != nil {
		return rep, fmt.Errorf("reshard: %w", err)
	}
	switch target := cmp.Or(l.to, l.shards); {
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
	case l.moving && target != to:
		return rep, fmt.Errorf("reshard: a move from %d to %d shards is unfinished: run it again with --to %d first",
			cmp.Or(l.from, l.shards), target, target)
	case !l.moving && l.shards == to:
		rep.From, rep.Done = to, true
		return rep, nil
	case !l.moving:
		if err := updateLayout(ctx, client, table, "SET #to = :to, #moving = :true",
			"#shards = :shards AND attribute_not_exists(#moving)", l.shards, to); err != nil {
			return rep, err
		}
		l = layout{shards: l.shards, from: l.from, to: to, moving: true}
	}
	if l.to != 0 {
		// Step 1 recorded (now or by an earlier run): once the settle is
		// over, every listing reads both counts; then writes switch.
		if err := wait(settle); err != nil {
			return rep, err
		}
		if err := updateLayout(ctx, client, table, "SET #shards = :to, #from = :shards REMOVE #to",
			"#shards = :shards AND #to = :to AND #moving = :true", l.shards, to); err != nil {
			// Another run of the same move may have switched it first.
			if now, ok, rerr := readLayout(ctx, client, table); rerr != nil || !ok || now.shards != to || !now.moving || now.from != l.shards {
				return rep, err
			}
		}
		l = layout{shards: to, from: l.shards, moving: true}
	}
	rep.From = l.from
	if err := wait(settle); err != nil {
		return rep, err
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

	if err := wait(cmp.Or(opt.CatchUp, DefaultReshardCatchUp)); err != nil {
		return rep, err
	}
	if err := updateLayout(ctx, client, table, "REMOVE #moving", "#shards = :to AND #moving = :true", 0, to); err != nil {
		// Another run of the same move may have finished it first.
		if now, ok, rerr := readLayout(ctx, client, table); rerr == nil && ok && now.shards == to && !now.moving {
			return rep, nil
		}
		return rep, err
	}
	return rep, nil
}

// updateLayout applies update to the layout item on condition, with :shards
// (when not 0), :to and :true bound to what the expressions use; a failed
// condition means another run changed the layout.
func updateLayout(ctx context.Context, client ReshardAPI, table, update, condition string, shards, to int) error {
	exprs := update + " " + condition
	values := map[string]types.AttributeValue{}
	for name, v := range map[string]types.AttributeValue{":shards": number(shards), ":to": number(to), ":true": &types.AttributeValueMemberBOOL{Value: true}} {
		if strings.Contains(exprs, name) { // DynamoDB refuses a value the expressions do not use
			values[name] = v
		}
	}
	names := map[string]string{} // aliased: from and to are DynamoDB reserved words
	for _, n := range []string{"shards", "from", "to", "moving"} {
		if strings.Contains(exprs, "#"+n) {
			names["#"+n] = n
		}
	}
	_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: shardsKey}},
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(condition),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return errors.New("reshard: the layout changed under the reshard (another run?): run it again")
	}
	if err != nil {
		return fmt.Errorf("reshard: record the layout (%s): %w", update, err)
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
