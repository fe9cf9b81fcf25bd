package dynamo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/usersapi/usersapi/shared/users"
)

// The list shards: a live user's listPk is "users#<n>", n its id's shard
// (shardOf), so that writes spread over the ByList index's partitions instead
// of all landing on one.
const (
	// DefaultListShards is the shard count of a Table made without
	// ListShards, and the template's default for the ListShards parameter.
	DefaultListShards = 10
	// MaxListShards is the most shards a Table lists over: the template's
	// MaxValue for ListShards. A page queries every shard.
	MaxListShards = 100

	listPrefix = "users#"
	// unshardedListPK is the listPk every live user had before list shards.
	unshardedListPK = "users"
	// shardsKey is the pk of the item that records the shard count the
	// table's users are written with.
	shardsKey = "LIST#shards"
	// listConcurrency bounds the shard queries of one page in flight.
	listConcurrency = 16
)

// Option configures a Table.
type Option func(*Table)

// ListShards makes a Table write and list users over n shards (1 to
// MaxListShards; ParseListShards checks a configured value). Every Table over
// one users table must have the same n: the first write records it in the
// table, and a Table with another count refuses to write or list.
func ListShards(n int) Option { return func(t *Table) { t.shards = n } }

// ParseListShards reads a shard count as configured (LIST_SHARDS): an
// integer from 1 to MaxListShards, or DefaultListShards when s is empty.
func ParseListShards(s string) (int, error) {
	if s == "" {
		return DefaultListShards, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxListShards {
		return 0, fmt.Errorf("list shards %q: must be an integer from 1 to %d", s, MaxListShards)
	}
	return n, nil
}

// shardOf returns the list shard of the user with id among n shards: the
// 32-bit FNV-1a hash of the id, modulo n. It must never change: a user's
// entry is found in the shard its id names.
func shardOf(id string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

func listKey(shard int) string { return listPrefix + strconv.Itoa(shard) }

// List returns up to limit live users in id order (creation order: ids are
// UUIDv7), after the position next (nil for the first page). The page's Next
// is the position to pass back for the page after it.
//
// Each shard is sorted by id, so the page is the first limit users of the
// shards' merge after the position. List reads each shard's first users after
// it (firstRead of them, a share of the page with room for chance), all
// shards at once (at most listConcurrency queries in flight), and merges
// them; a user is taken only once no shard can hold one before it, and a
// shard that might is read further first. No shard gives more than limit
// users a page. The position is the id of the last user returned, which is a
// position in every shard alike: a user is never listed twice nor out of
// order, and every user that lives through a whole listing is in it.
func (t *Table) List(ctx context.Context, limit int, next []byte) (users.Page, error) {
	after, err := decodePosition(next)
	if err != nil {
		return users.Page{}, err
	}
	if err := t.checkShards(ctx, false); err != nil {
		return users.Page{}, fmt.Errorf("list users: %w", err)
	}
	shards := make([]shardPage, t.shards)
	all := make([]int, t.shards)
	for k := range shards {
		shards[k].last, shards[k].more, all[k] = after, true, k
	}
	if err := t.readShards(ctx, shards, all, firstRead(limit, t.shards)); err != nil {
		return users.Page{}, err
	}
	p := users.Page{Items: make([]users.User, 0, limit)}
	for len(p.Items) < limit {
		best := -1
		for k, s := range shards {
			if len(s.users) > 0 && (best < 0 || s.users[0].ID < shards[best].users[0].ID) {
				best = k
			}
		}
		// A shard read up to an id below the best so far, with more after
		// it, may hold the next user: read it further first.
		var behind []int
		for k, s := range shards {
			if s.more && (best < 0 || users.ID(s.last) < shards[best].users[0].ID) {
				behind = append(behind, k)
			}
		}
		if len(behind) > 0 {
			if err := t.readShards(ctx, shards, behind, limit-len(p.Items)); err != nil {
				return users.Page{}, err
			}
			continue
		}
		if best < 0 {
			break
		}
		p.Items = append(p.Items, shards[best].users[0])
		shards[best].users = shards[best].users[1:]
	}
	more := false
	for _, s := range shards {
		more = more || s.more || len(s.users) > 0
	}
	if more && len(p.Items) > 0 {
		if p.Next, err = encodePosition(p.Items[len(p.Items)-1].ID); err != nil {
			return users.Page{}, fmt.Errorf("list users: %w", err)
		}
	}
	return p, nil
}

// firstRead is how many users List first reads from each of n shards for a
// page of limit: the shard's share and half again, plus two, so that a second
// read is seldom needed (at 10 shards and 25 users, about one page in ten).
func firstRead(limit, n int) int {
	return min(limit, (3*limit+2*n-1)/(2*n)+2)
}

// shardPage is one shard's part of a page: the users read and not yet
// merged, in id order, the last id read, and whether the shard may hold
// more after it.
type shardPage struct {
	users []users.User
	last  string
	more  bool
}

// readShards reads the next n users of each of the shards named, after their
// last id read, listConcurrency at a time; the first error stops the others.
func (t *Table) readShards(ctx context.Context, shards []shardPage, which []int, n int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	slots := make(chan struct{}, listConcurrency)
	for _, k := range which {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			if ctx.Err() != nil {
				return
			}
			read, more, err := t.queryShard(ctx, k, n, shards[k].last)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
				return
			}
			s := &shards[k]
			s.users, s.more = append(s.users, read...), more
			if len(read) > 0 {
				s.last = string(read[len(read)-1].ID)
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return fmt.Errorf("list users: %w", ctx.Err())
	}
	return firstErr
}

// queryShard returns the first limit users of shard after the id after ("":
// from the start), and whether the shard may hold more.
func (t *Table) queryShard(ctx context.Context, shard, limit int, after string) ([]users.User, bool, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(t.users),
		IndexName:                 aws.String(listIndex),
		KeyConditionExpression:    aws.String("listPk = :shard"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":shard": &types.AttributeValueMemberS{Value: listKey(shard)}},
		Limit:                     aws.Int32(int32(limit)),
	}
	if after != "" {
		in.KeyConditionExpression = aws.String("listPk = :shard AND id > :after")
		in.ExpressionAttributeValues[":after"] = &types.AttributeValueMemberS{Value: after}
	}
	out, err := t.client.Query(ctx, in)
	if err != nil {
		return nil, false, fmt.Errorf("list users: shard %d: %w", shard, err)
	}
	read := make([]users.User, 0, len(out.Items))
	for _, item := range out.Items {
		var it userItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, false, fmt.Errorf("list users: shard %d: %w", shard, err)
		}
		if want := shardOf(it.ID, t.shards); want != shard {
			return nil, false, fmt.Errorf("list users: user %s is in list shard %d, not %d: the table was written with another ListShards than %d (docs/scale.md)",
				it.ID, shard, want, t.shards)
		}
		u, err := it.user()
		if err != nil {
			return nil, false, fmt.Errorf("list users: %w", err)
		}
		read = append(read, u)
	}
	return read, len(out.LastEvaluatedKey) > 0, nil
}

// positionV1 is the first byte of a listing position, followed by the 16
// bytes of the last listed user's id: binary, so a cursor shows no key names
// and stays 17 bytes at any shard count. Another first byte is refused, not
// misread.
const positionV1 = 1

func encodePosition(id users.ID) ([]byte, error) {
	u, err := uuid.Parse(string(id))
	if err != nil {
		return nil, fmt.Errorf("position of user %s: %w", id, err)
	}
	return append([]byte{positionV1}, u[:]...), nil
}

// decodePosition returns the id a position names ("" for none), or says it is
// no position List returned.
func decodePosition(b []byte) (string, error) {
	if b == nil {
		return "", nil
	}
	if len(b) != 1+len(uuid.UUID{}) || b[0] != positionV1 {
		return "", users.Errorf(users.Invalid, "the cursor is not valid")
	}
	return uuid.UUID(b[1:]).String(), nil
}

// checkShards makes sure the table's users are listed over t.shards shards:
// the count the first write recorded in the table (record: this call may be
// that write's), and no user left from before list shards. Once it holds, a
// Table does not read it again; a refusal is returned every time.
func (t *Table) checkShards(ctx context.Context, record bool) error {
	t.shardsMu.Lock()
	defer t.shardsMu.Unlock()
	if t.shardsChecked {
		return nil
	}
	if t.shards < 1 || t.shards > MaxListShards {
		return fmt.Errorf("list shards: %d is not from 1 to %d", t.shards, MaxListShards)
	}
	for {
		n, ok, err := t.recordedShards(ctx)
		if err != nil {
			return err
		}
		if ok {
			if n != t.shards {
				return fmt.Errorf("list shards: the table's users are listed over %d shards, but ListShards is %d: "+
					"the count cannot change after the first write (docs/scale.md); deploy ListShards=%d", n, t.shards, n)
			}
			t.shardsChecked = true
			return nil
		}
		if err := t.checkUnsharded(ctx); err != nil {
			return err
		}
		if !record {
			return nil // nothing written yet: the first write records the count
		}
		av, err := attributevalue.MarshalMap(shardsItem{PK: shardsKey, Shards: t.shards})
		if err != nil {
			return fmt.Errorf("list shards: %w", err)
		}
		_, err = t.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.users), Item: av,
			ConditionExpression: aws.String("attribute_not_exists(pk)")})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &ccf):
			continue // another writer recorded it first: compare with theirs
		case err != nil:
			return fmt.Errorf("list shards: record %d: %w", t.shards, err)
		}
		t.shardsChecked = true
		return nil
	}
}

// recordedShards returns the shard count recorded in the table, and false
// when none is.
func (t *Table) recordedShards(ctx context.Context) (int, bool, error) {
	out, err := t.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.users),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: shardsKey}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, false, fmt.Errorf("list shards: read the recorded count: %w", err)
	}
	if out.Item == nil {
		return 0, false, nil
	}
	var it shardsItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return 0, false, fmt.Errorf("list shards: read the recorded count: %w", err)
	}
	return it.Shards, true, nil
}

// checkUnsharded refuses a table with users written before list shards
// (listPk "users"): no shard holds them, so they would vanish from listings.
func (t *Table) checkUnsharded(ctx context.Context) error {
	out, err := t.client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(t.users),
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
