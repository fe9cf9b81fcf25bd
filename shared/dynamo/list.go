package dynamo

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/usersapi/usersapi/shared/users"
)

// The list shards: a live user's listPk is "users#<n>", n its id's shard
// (shardOf), so that writes spread over the ByList index's partitions instead
// of all landing on one.
const (
	// DefaultListShards is the shard count of a Table made without
	// ListShards, and the template's default for the ListShards parameter.
	DefaultListShards = 2
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
// order, and every user that lives through a whole listing is in it. While a
// reshard moves users (layout), the shards of both counts are merged (a user
// is in one of them, or for a moment, while the index catches up with its
// move, in both, and is then taken once), and read a second time (below).
func (t *Table) List(ctx context.Context, limit int, next []byte) (users.Page, error) {
	after, err := decodePosition(next)
	if err != nil {
		return users.Page{}, err
	}
	l, err := t.layout(ctx, false)
	if err != nil {
		return users.Page{}, fmt.Errorf("list users: %w", err)
	}
	n := l.readShards()
	shards := make([]shardPage, n)
	all := make([]int, n)
	for k := range shards {
		shards[k].last, shards[k].more, all[k] = after, true, k
	}
	if err := t.readShards(ctx, shards, all, firstRead(limit, n)); err != nil {
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
		u := shards[best].users[0]
		shards[best].users = shards[best].users[1:]
		if len(p.Items) > 0 && p.Items[len(p.Items)-1].ID == u.ID {
			continue // the same user in the shards of both counts: once
		}
		p.Items = append(p.Items, u)
	}
	more := false
	for _, s := range shards {
		more = more || s.more || len(s.users) > 0
	}
	if l.moving && len(p.Items) > 0 {
		// A user that a reshard moved between two reads of this page may be
		// in none of them (read from its new shard before it came, from its
		// old one after it left). A user moves once, from the old count's
		// shard to the new one's, so every shard read again, after all the
		// first reads, up to the page's last id, finds it where it went.
		last := p.Items[len(p.Items)-1].ID
		again, err := t.readAgain(ctx, n, limit, after, string(last))
		if err != nil {
			return users.Page{}, err
		}
		byID := map[users.ID]users.User{}
		for _, u := range slices.Concat(p.Items, again) {
			byID[u.ID] = u
		}
		ids := slices.Sorted(maps.Keys(byID))
		if len(ids) > limit {
			ids, more = ids[:limit], true
		}
		p.Items = p.Items[:0]
		for _, id := range ids {
			p.Items = append(p.Items, byID[id])
		}
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
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for _, k := range which {
		g.Go(func() error {
			read, more, err := t.queryShard(ctx, k, n, shards[k].last, "")
			if err != nil {
				return err
			}
			s := &shards[k] // each goroutine its own shard
			s.users, s.more = append(s.users, read...), more
			if len(read) > 0 {
				s.last = string(read[len(read)-1].ID)
			}
			return nil
		})
	}
	return g.Wait()
}

// queryShard returns the first limit users of shard after the id after ("":
// from the start) and up to the id upTo ("": no bound), and whether the shard
// may hold more. Every entry of the shard is listed, whatever count its id
// names: a user is where its one listPk is, and the layout says which
// shards a listing reads.
func (t *Table) queryShard(ctx context.Context, shard, limit int, after, upTo string) ([]users.User, bool, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(t.users),
		IndexName:                 aws.String(listIndex),
		KeyConditionExpression:    aws.String("listPk = :shard"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":shard": &types.AttributeValueMemberS{Value: listKey(shard)}},
		Limit:                     aws.Int32(int32(limit)),
	}
	v := in.ExpressionAttributeValues
	switch {
	case after != "" && upTo != "":
		// One condition on the sort key only: BETWEEN is inclusive, so the
		// user at after is dropped below.
		in.KeyConditionExpression = aws.String("listPk = :shard AND id BETWEEN :after AND :upTo")
		v[":after"], v[":upTo"] = &types.AttributeValueMemberS{Value: after}, &types.AttributeValueMemberS{Value: upTo}
	case after != "":
		in.KeyConditionExpression = aws.String("listPk = :shard AND id > :after")
		v[":after"] = &types.AttributeValueMemberS{Value: after}
	case upTo != "":
		in.KeyConditionExpression = aws.String("listPk = :shard AND id <= :upTo")
		v[":upTo"] = &types.AttributeValueMemberS{Value: upTo}
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
		if it.ID == after {
			continue
		}
		u, err := it.user()
		if err != nil {
			return nil, false, fmt.Errorf("list users: %w", err)
		}
		read = append(read, u)
	}
	return read, len(out.LastEvaluatedKey) > 0, nil
}

// readAgain reads every one of n shards again from after up to upTo, whole,
// all at once (listConcurrency at a time), and returns what it read.
func (t *Table) readAgain(ctx context.Context, n, limit int, after, upTo string) ([]users.User, error) {
	found := make([][]users.User, n)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for k := range n {
		g.Go(func() error {
			for from := after; ; {
				// limit+1: a read after the first starts with the user at
				// from, which queryShard drops.
				read, more, err := t.queryShard(ctx, k, limit+1, from, upTo)
				if err != nil {
					return err
				}
				found[k] = append(found[k], read...)
				if !more || len(read) == 0 {
					return nil
				}
				from = string(read[len(read)-1].ID)
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(found...), nil
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
