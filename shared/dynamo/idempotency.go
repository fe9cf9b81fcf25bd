package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usersapi/usersapi/shared/idempotency"
)

// IdempotencyAPI is the part of the DynamoDB client that Keys uses.
type IdempotencyAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ IdempotencyAPI = (*dynamodb.Client)(nil)

// Keys keeps the records of Idempotency-Keys in a DynamoDB table, one item
// per key, for package idempotency, whose rules decide what is written: Keys
// only makes each write conditional on the item it expects. Only requests
// that send a key pay for it: a conditional put when accepted, another once
// answered. The table's TTL removes an item some time after its expiresAt.
type Keys struct {
	client IdempotencyAPI
	table  string
}

var _ idempotency.Store = (*Keys)(nil)

// NewKeys returns Keys kept in the named table.
func NewKeys(client IdempotencyAPI, table string) *Keys {
	return &Keys{client: client, table: table}
}

// keyItem is an idempotency.Record as the table stores it. Items written
// before keys were bound to request ids have no requestId and no leaseUntil.
type keyItem struct {
	PK          string `dynamodbav:"pk"`
	Fingerprint string `dynamodbav:"fingerprint"`         // of the request the key came with first
	RequestID   string `dynamodbav:"requestId,omitempty"` // the request id the key is bound to
	Answer      string `dynamodbav:"answer,omitempty"`
	LeaseUntil  int64  `dynamodbav:"leaseUntil"` // Unix ms; an unanswered key is in progress until then; 0: no lease
	ExpiresAt   int64  `dynamodbav:"expiresAt"`  // Unix s; the table's TTL attribute
}

func toKeyItem(r idempotency.Record) keyItem {
	it := keyItem{PK: r.Key, Fingerprint: r.Fingerprint, RequestID: r.RequestID, Answer: r.Answer}
	if !r.LeaseUntil.IsZero() {
		it.LeaseUntil = r.LeaseUntil.UnixMilli()
	}
	if !r.ExpiresAt.IsZero() {
		it.ExpiresAt = r.ExpiresAt.Unix()
	}
	return it
}

func (it keyItem) record() idempotency.Record {
	r := idempotency.Record{Key: it.PK, Fingerprint: it.Fingerprint, RequestID: it.RequestID, Answer: it.Answer}
	if it.LeaseUntil != 0 {
		r.LeaseUntil = time.UnixMilli(it.LeaseUntil)
	}
	if it.ExpiresAt != 0 {
		r.ExpiresAt = time.Unix(it.ExpiresAt, 0)
	}
	return r
}

func keyOf(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}
}

// Get returns the record kept under key, read consistently, and false when
// none is kept. An item it cannot read is an error wrapping
// idempotency.ErrUnreadable.
func (k *Keys) Get(ctx context.Context, key string) (idempotency.Record, bool, error) {
	out, err := k.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(k.table), ConsistentRead: aws.Bool(true), Key: keyOf(key)})
	if err != nil {
		return idempotency.Record{}, false, fmt.Errorf("get idempotency key: %w", err)
	}
	if out.Item == nil {
		return idempotency.Record{}, false, nil
	}
	var it keyItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return idempotency.Record{}, false, fmt.Errorf("get idempotency key: %w: %w", idempotency.ErrUnreadable, err)
	}
	return it.record(), true, nil
}

// Create keeps r if no item is kept under r.Key; else it returns
// idempotency.ErrChanged.
func (k *Keys) Create(ctx context.Context, r idempotency.Record) error {
	return k.put(ctx, "create", r, "attribute_not_exists(pk)", nil)
}

// Replace keeps r in place of old if the item kept under old.Key is still
// old; else it returns idempotency.ErrChanged.
func (k *Keys) Replace(ctx context.Context, old, r idempotency.Record) error {
	r.Key = old.Key
	cond, values := expect(old)
	return k.put(ctx, "replace", r, cond, values)
}

func (k *Keys) put(ctx context.Context, what string, r idempotency.Record, cond string, values map[string]types.AttributeValue) error {
	av, err := attributevalue.MarshalMap(toKeyItem(r))
	if err != nil {
		return fmt.Errorf("%s idempotency key: %w", what, err)
	}
	_, err = k.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(k.table), Item: av,
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: values})
	return written(what, err)
}

// Delete forgets old if the item kept under old.Key is still old; else it
// returns idempotency.ErrChanged.
func (k *Keys) Delete(ctx context.Context, old idempotency.Record) error {
	cond, values := expect(old)
	_, err := k.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(k.table), Key: keyOf(old.Key),
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: values})
	return written("delete", err)
}

// written translates a conditional write's failed condition into
// idempotency.ErrChanged, and adds context to any other error.
func written(what string, err error) error {
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return idempotency.ErrChanged
	case err != nil:
		return fmt.Errorf("%s idempotency key: %w", what, err)
	}
	return nil
}

// expect returns the condition that the item kept is r: each attribute equal,
// an absent one where r's field is empty (omitted) or zero (items written
// before leases have no leaseUntil, released ones have 0).
func expect(r idempotency.Record) (string, map[string]types.AttributeValue) {
	it := toKeyItem(r)
	values := map[string]types.AttributeValue{":fp": &types.AttributeValueMemberS{Value: it.Fingerprint}}
	cond := []string{"attribute_exists(pk)", "fingerprint = :fp"}
	for _, a := range []struct{ name, value string }{{"requestId", it.RequestID}, {"answer", it.Answer}} {
		if a.value == "" {
			cond = append(cond, "attribute_not_exists("+a.name+")")
			continue
		}
		cond = append(cond, a.name+" = :"+a.name)
		values[":"+a.name] = &types.AttributeValueMemberS{Value: a.value}
	}
	for _, a := range []struct {
		name  string
		value int64
	}{{"leaseUntil", it.LeaseUntil}, {"expiresAt", it.ExpiresAt}} {
		values[":"+a.name] = &types.AttributeValueMemberN{Value: strconv.FormatInt(a.value, 10)}
		if a.value == 0 {
			cond = append(cond, "(attribute_not_exists("+a.name+") OR "+a.name+" = :"+a.name+")")
		} else {
			cond = append(cond, a.name+" = :"+a.name)
		}
	}
	return strings.Join(cond, " AND "), values
}
