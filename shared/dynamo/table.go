package dynamo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usersapi/usersapi/shared/users"
)

// API is the part of the DynamoDB client that a Table uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Table reads and writes users and request outcomes.
type Table struct {
	client   API
	users    string
	requests string
	now      func() time.Time
	shards   int           // list shards configured (ListShards): recorded by the first write, checked against the layout
	refresh  time.Duration // how long the layout read is trusted (LayoutRefresh)

	layoutMu    sync.Mutex
	layoutKnown bool      // current holds the table's layout, read at layoutAt
	layoutAt    time.Time // when current was read
	current     layout
}

// NewTable returns a Table over the named users and requests tables, listing
// over DefaultListShards shards unless an option says otherwise.
func NewTable(client API, usersTable, requestsTable string, opts ...Option) *Table {
	t := &Table{client: client, users: usersTable, requests: requestsTable, now: time.Now, shards: DefaultListShards,
		refresh: DefaultLayoutRefresh}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Get returns the live user with id, read consistently, or a NotFound error.
func (t *Table) Get(ctx context.Context, id users.ID) (users.User, error) {
	it, ok, err := t.getUser(ctx, id)
	if err != nil {
		return users.User{}, err
	}
	if !ok || it.Deleted {
		return users.User{}, users.Errorf(users.NotFound, "user %s does not exist", id)
	}
	return it.user()
}

func (t *Table) getUser(ctx context.Context, id users.ID) (userItem, bool, error) {
	out, err := t.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.users),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: userKey(id)}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return userItem{}, false, fmt.Errorf("get user %s: %w", id, err)
	}
	if out.Item == nil {
		return userItem{}, false, nil
	}
	var it userItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return userItem{}, false, fmt.Errorf("get user %s: %w", id, err)
	}
	return it, true, nil
}

// Request returns the recorded outcome of the request with id, and false when
// none is recorded yet.
func (t *Table) Request(ctx context.Context, id string) (users.Request, bool, error) {
	out, err := t.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.requests),
		Key:            map[string]types.AttributeValue{"requestId": &types.AttributeValueMemberS{Value: id}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return users.Request{}, false, fmt.Errorf("get request: %w", err)
	}
	if out.Item == nil {
		return users.Request{}, false, nil
	}
	var it requestItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return users.Request{}, false, fmt.Errorf("get request: %w", err)
	}
	return it.request(), true, nil
}

// maxAttempts bounds Apply's optimistic retries when the user changed between
// its read and its write (which per-user FIFO order makes rare).
const maxAttempts = 5

// Apply carries out cmd and records its outcome, exactly once: the request
// record is written in the same transaction as the user, on the condition that
// none exists, so a redelivered command changes nothing and returns the outcome
// recorded the first time. A command that cannot apply (not-found,
// precondition-failed, email-taken) is recorded as failed and returned without
// error; an error means the outcome is unknown and the command must be retried.
func (t *Table) Apply(ctx context.Context, cmd users.Command) (users.Request, error) {
	for attempt := 1; ; attempt++ {
		// The list layout of each attempt (read again once older than
		// LayoutRefresh), so that no write uses one much older than that.
		l, err := t.layout(ctx, true)
		if err != nil {
			return users.Request{}, fmt.Errorf("apply %s %s: %w", cmd.Op, cmd.RequestID, err)
		}
		now := t.now().UTC().Truncate(time.Millisecond)
		var (
			cur     userItem
			exists  bool
			curUser users.User
		)
		// A create reads nothing: its id is the server's own and never reused,
		// so the put's attribute_not_exists(pk) finds an earlier run, and the
		// cancellation reasons below say which.
		if cmd.Op != users.Create {
			if cur, exists, err = t.getUser(ctx, cmd.UserID); err != nil {
				return users.Request{}, err
			}
		}
		live := exists && !cur.Deleted
		if live {
			if curUser, err = cur.user(); err != nil {
				return users.Request{}, err
			}
		}
		next, err := users.Apply(curUser, live, cmd, now)
		if err != nil {
			if users.KindOf(err) == users.Internal {
				return users.Request{}, err
			}
			return t.recordFailure(ctx, cmd, err, now)
		}
		tx, emailIndex, err := t.transaction(cmd, cur, exists, next, now, l.shards)
		if err != nil {
			return users.Request{}, err
		}
		_, err = t.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		if err == nil {
			return t.succeeded(cmd, next.Version, now), nil
		}
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			return users.Request{}, fmt.Errorf("apply %s %s: %w", cmd.Op, cmd.RequestID, err)
		}
		reasons := canceled.CancellationReasons
		switch {
		case failedCondition(reasons, len(tx)-1):
			// The request record exists: this command ran before.
			return t.recorded(ctx, cmd)
		case cmd.Op == users.Create && failedCondition(reasons, 0):
			// The user exists, and no record says this request made it: the id
			// is never reused, so a create ran before under an expired record.
			return t.recordFailure(ctx, cmd, users.Errorf(users.Conflict, "user %s already exists", cmd.UserID), now)
		case emailIndex >= 0 && failedCondition(reasons, emailIndex):
			return t.recordFailure(ctx, cmd, emailTaken(), now)
		case attempt >= maxAttempts:
			return users.Request{}, fmt.Errorf("apply %s %s: gave up after %d attempts: %w", cmd.Op, cmd.RequestID, attempt, err)
		}
		// The user changed under us, or the transaction met another: read again.
	}
}

// transaction returns the writes that turn cur into next, the user listed
// over shards, with the request record last, and the index of the write that reserves a new email (-1: none).
func (t *Table) transaction(cmd users.Command, cur userItem, exists bool, next users.User, now time.Time, shards int) ([]types.TransactWriteItem, int, error) {
	var tx []types.TransactWriteItem
	id := &types.AttributeValueMemberS{Value: string(cmd.UserID)}

	item := toItem(next, cmd)
	item.ListPK = listKey(shardOf(string(next.ID), shards))
	if cmd.Op == users.Delete {
		// Erased at once: the tombstone keeps none of the user's data.
		item = tombstone(item, now)
	}
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return nil, -1, fmt.Errorf("marshal user %s: %w", next.ID, err)
	}
	put := &types.Put{TableName: aws.String(t.users), Item: av}
	if exists {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(cur.Version)}}
		if !cmd.Admin {
			// The owner is checked again in the write itself (OWASP API1): a
			// user that changed hands since the read fails here, not silently.
			put.ExpressionAttributeNames = map[string]string{"#owner": "owner"}
			if cmd.Owner == "" {
				put.ConditionExpression = aws.String("version = :v AND attribute_not_exists(#owner)")
			} else {
				put.ConditionExpression = aws.String("version = :v AND #owner = :owner")
				put.ExpressionAttributeValues[":owner"] = &types.AttributeValueMemberS{Value: cmd.Owner}
			}
		}
	} else {
		put.ConditionExpression = aws.String("attribute_not_exists(pk)")
	}
	tx = append(tx, types.TransactWriteItem{Put: put})

	emailIndex := -1
	oldKey, newKey := "", emailKey(next.Email)
	if exists && !cur.Deleted {
		oldKey = emailKey(cur.Email)
	}
	if cmd.Op == users.Delete {
		newKey = ""
	}
	if newKey != "" && newKey != oldKey {
		av, err := attributevalue.MarshalMap(emailItem{PK: newKey, UserID: string(cmd.UserID)})
		if err != nil {
			return nil, -1, err
		}
		emailIndex = len(tx)
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(t.users), Item: av,
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR userId = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": id},
		}})
	}
	if oldKey != "" && oldKey != newKey {
		tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(t.users),
			Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: oldKey}},
		}})
	}

	rec, err := attributevalue.MarshalMap(t.requestItem(t.succeeded(cmd, next.Version, now)))
	if err != nil {
		return nil, -1, err
	}
	tx = append(tx, types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(t.requests), Item: rec,
		ConditionExpression: aws.String("attribute_not_exists(requestId)"),
	}})
	return tx, emailIndex, nil
}

func failedCondition(reasons []types.CancellationReason, i int) bool {
	return i >= 0 && i < len(reasons) && aws.ToString(reasons[i].Code) == "ConditionalCheckFailed"
}

func (t *Table) succeeded(cmd users.Command, version int64, now time.Time) users.Request {
	return users.Request{ID: cmd.RequestID, UserID: cmd.UserID, Op: cmd.Op, Status: users.Succeeded,
		Version: version, AcceptedAt: cmd.AcceptedAt, CompletedAt: now, Owner: cmd.Owner}
}

func (t *Table) requestItem(r users.Request) requestItem {
	it := requestItem{
		RequestID: r.ID, UserID: string(r.UserID), Op: string(r.Op), Status: string(r.Status), Version: r.Version,
		AcceptedAt: formatTime(r.AcceptedAt), CompletedAt: formatTime(r.CompletedAt), Owner: r.Owner,
		ExpiresAt: r.CompletedAt.Add(RequestTTL).Unix(),
	}
	if r.Error != nil {
		it.ErrorType, it.ErrorDetail, it.ErrorFields = r.Error.Kind.String(), r.Error.Detail, r.Error.Fields
	}
	return it
}

// recordFailure records that cmd failed with cause, unless an outcome is
// recorded already, and returns the outcome that stands.
func (t *Table) recordFailure(ctx context.Context, cmd users.Command, cause error, now time.Time) (users.Request, error) {
	var ue *users.Error
	if !errors.As(cause, &ue) {
		ue = &users.Error{Kind: users.Internal, Detail: cause.Error()}
	}
	r := users.Request{ID: cmd.RequestID, UserID: cmd.UserID, Op: cmd.Op, Status: users.Failed,
		Error: &users.Error{Kind: ue.Kind, Detail: ue.Detail, Fields: ue.Fields}, AcceptedAt: cmd.AcceptedAt, CompletedAt: now, Owner: cmd.Owner}
	av, err := attributevalue.MarshalMap(t.requestItem(r))
	if err != nil {
		return users.Request{}, err
	}
	_, err = t.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(t.requests), Item: av,
		ConditionExpression: aws.String("attribute_not_exists(requestId)"),
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return t.recorded(ctx, cmd)
	case err != nil:
		return users.Request{}, fmt.Errorf("record failure of %s: %w", cmd.RequestID, err)
	}
	return r, nil
}

func (t *Table) recorded(ctx context.Context, cmd users.Command) (users.Request, error) {
	r, ok, err := t.Request(ctx, cmd.RequestID)
	if err != nil {
		return users.Request{}, err
	}
	if !ok {
		return users.Request{}, fmt.Errorf("request %s: its record vanished", cmd.RequestID)
	}
	return r, nil
}

// NewClient returns a DynamoDB client for cfg; endpoint, when not nil,
// overrides AWS's (DynamoDB Local). DynamoDB Local leaves the CRC32 header
// off its error responses, so checksums are checked only against AWS.
func NewClient(cfg aws.Config, endpoint *string) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != nil {
			o.BaseEndpoint = endpoint
			o.DisableValidateResponseChecksum = true
		}
	})
}
