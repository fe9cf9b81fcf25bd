package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DefaultLayoutRefresh is how long a Table trusts the list layout it read
// from the table before it reads it again: the longest a running function
// can take to see that a reshard began. Reshard waits longer than this (and a
// call's longest run) before it moves the first user.
const DefaultLayoutRefresh = 10 * time.Second

// LayoutRefresh makes a Table read the table's list layout again once what it
// read is older than d (DefaultLayoutRefresh unless set; tests shorten it).
func LayoutRefresh(d time.Duration) Option { return func(t *Table) { t.refresh = d } }

// layout is how a table's live users are spread over list shards, as its
// LIST#shards item records it: the table is the truth, not the configured
// count, so that every function agrees while a reshard runs.
//
//   - shards: the count writes use: a user's listPk is listKey(shardOf(id, shards)).
//   - from: the count before the last reshard (0: never resharded). A function
//     still configured with it keeps working, so the deploy of the new count can
//     come after the reshard.
//   - to: while a reshard begins, the count it goes to: listed, and accepted as
//     configured, but not yet written (0: none).
//   - moving: a reshard is under way, so a user may be in the shard of any of
//     these counts: a listing reads the shards of all of them.
type layout struct {
	shards int
	from   int
	to     int
	moving bool
}

// readShards is how many shards a listing merges: while users move, the
// shards of every count named (shard k's key is the same name under each, and
// a user is in exactly one of them, since its item has one listPk).
func (l layout) readShards() int {
	if l.moving {
		return max(l.shards, l.from, l.to)
	}
	return l.shards
}

// accepts reports whether a function configured with n shards may use the table.
func (l layout) accepts(n int) bool { return n == l.shards || n == l.from || n == l.to }

// layout returns the table's list layout, read again when the copy the Table
// holds is older than its refresh period. It refuses a table whose layout the
// configured count (ListShards) is not part of, and a table with users from
// before list shards. With no layout recorded yet, record says whether this
// call may record the configured count (a write's call does; a listing's
// call lists over the configured count and records nothing).
func (t *Table) layout(ctx context.Context, record bool) (layout, error) {
	t.layoutMu.Lock()
	defer t.layoutMu.Unlock()
	if t.layoutKnown && t.now().Sub(t.layoutAt) < t.refresh {
		return t.current, nil
	}
	if t.shards < 1 || t.shards > MaxListShards {
		return layout{}, fmt.Errorf("list shards: %d is not from 1 to %d", t.shards, MaxListShards)
	}
	for {
		at := t.now()
		l, ok, err := readLayout(ctx, t.client, t.users)
		if err != nil {
			return layout{}, err
		}
		if ok {
			if !l.accepts(t.shards) {
				t.layoutKnown = false
				return layout{}, fmt.Errorf("list shards: the table's users are listed over %d shards, but ListShards is %d: "+
					"change the count with `usersapi-reshard --table %s --to %d` before deploying it, or deploy ListShards=%d (docs/scale.md, Changing ListShards)",
					l.shards, t.shards, t.users, t.shards, l.shards)
			}
			t.current, t.layoutAt, t.layoutKnown = l, at, true
			return l, nil
		}
		if err := checkUnsharded(ctx, t.client, t.users); err != nil {
			return layout{}, err
		}
		if !record {
			return layout{shards: t.shards}, nil // nothing written yet: the first write records the count
		}
		err = putLayout(ctx, t.client, t.users, layout{shards: t.shards})
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			continue // another writer recorded it first: compare with theirs
		}
		if err != nil {
			return layout{}, fmt.Errorf("list shards: record %d: %w", t.shards, err)
		}
		t.current, t.layoutAt, t.layoutKnown = layout{shards: t.shards}, at, true
		return t.current, nil
	}
}

// layoutReader is what reading the layout needs of a DynamoDB client.
type layoutReader interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// readLayout returns the layout recorded in table, read consistently, and
// false when none is.
func readLayout(ctx context.Context, client layoutReader, table string) (layout, bool, error) {
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: shardsKey}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return layout{}, false, fmt.Errorf("list shards: read the recorded count: %w", err)
	}
	if out.Item == nil {
		return layout{}, false, nil
	}
	var it shardsItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return layout{}, false, fmt.Errorf("list shards: read the recorded count: %w", err)
	}
	l := layout{shards: it.Shards, from: it.From, to: it.To, moving: it.Moving}
	if l.shards < 1 || l.shards > MaxListShards || l.from < 0 || l.from > MaxListShards || l.to < 0 || l.to > MaxListShards ||
		(l.to > 0 && !l.moving) || (l.moving && l.to == 0 && l.from == 0) {
		return layout{}, false, fmt.Errorf("list shards: the recorded layout %+v is not one this code writes", it)
	}
	return l, true, nil
}

// putLayout records the first layout of a table with none.
func putLayout(ctx context.Context, client layoutReader, table string, l layout) error {
	av, err := attributevalue.MarshalMap(shardsItem{PK: shardsKey, Shards: l.shards})
	if err != nil {
		return err
	}
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: av,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	return err
}

// checkUnsharded refuses a table with users written before list shards
// (listPk "users"): no shard holds them, so they would vanish from listings.
func checkUnsharded(ctx context.Context, client layoutReader, table string) error {
	out, err := client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String(listIndex),
		KeyConditionExpression:    aws.String("listPk = :all"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":all": &types.AttributeValueMemberS{Value: unshardedListPK}},
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return fmt.Errorf("list shards: look for unsharded users: %w", err)
	}
	if len(out.Items) > 0 {
		return errors.New(`list shards: the table has users listed under listPk "users", written before list shards; ` +
			"they would vanish from listings: move them to their shards first (docs/scale.md)")
	}
	return nil
}
