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

	"github.com/usersapi/usersapi/shared/users"
)

// IdempotencyTTL is how long an Idempotency-Key is remembered.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyAPI is the part of the DynamoDB client that Keys uses.
type IdempotencyAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ IdempotencyAPI = (*dynamodb.Client)(nil)

// Keys remembers Idempotency-Keys and the answers they were given. Only
// requests that send a key pay for it: a conditional put when accepted, an
// update once answered.
type Keys struct {
	client IdempotencyAPI
	table  string
	now    func() time.Time
}

// NewKeys returns Keys kept in the named table.
func NewKeys(client IdempotencyAPI, table string) *Keys {
	return &Keys{client: client, table: table, now: time.Now}
}

type keyItem struct {
	PK          string `dynamodbav:"pk"`
	Fingerprint string `dynamodbav:"fingerprint"` // of the request the key came with first
	Answer      string `dynamodbav:"answer,omitempty"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
}

// Begin claims key for a request with fingerprint. It returns the answer
// recorded for the key when the same request was accepted before; a Conflict
// error while that request is still being accepted; a KeyReused error when
// the key came with another request; and "" when the claim is new: the
// caller must then Complete or Abandon it.
func (k *Keys) Begin(ctx context.Context, key, fingerprint string) (string, error) {
	now := k.now()
	av, err := attributevalue.MarshalMap(keyItem{PK: key, Fingerprint: fingerprint, ExpiresAt: now.Add(IdempotencyTTL).Unix()})
	if err != nil {
		return "", err
	}
	_, err = k.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(k.table), Item: av,
		// An expired key that TTL has not removed yet counts as absent.
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR expiresAt < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: fmt.Sprint(now.Unix())}},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return "", nil
	case !errors.As(err, &ccf):
		return "", &users.Error{Kind: users.Unavailable, Detail: "idempotency keys are unavailable; try again", Err: fmt.Errorf("claim key: %w", err)}
	}
	out, err := k.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(k.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}})
	if err != nil {
		return "", &users.Error{Kind: users.Unavailable, Detail: "idempotency keys are unavailable; try again", Err: fmt.Errorf("read key: %w", err)}
	}
	var it keyItem
	if out.Item == nil || attributevalue.UnmarshalMap(out.Item, &it) != nil {
		return "", users.Errorf(users.Conflict, "a request with this Idempotency-Key is being accepted; retry in a moment")
	}
	switch {
	case it.Fingerprint != fingerprint:
		return "", users.Errorf(users.KeyReused, "this Idempotency-Key was used with another request")
	case it.Answer == "":
		return "", users.Errorf(users.Conflict, "a request with this Idempotency-Key is being accepted; retry in a moment")
	}
	return it.Answer, nil
}

// Complete records the answer that a claimed key's request was given.
func (k *Keys) Complete(ctx context.Context, key, answer string) error {
	_, err := k.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(k.table), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}},
		UpdateExpression:          aws.String("SET answer = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: answer}},
	})
	if err != nil {
		return fmt.Errorf("complete key: %w", err)
	}
	return nil
}

// Abandon forgets a claimed key whose request was not accepted, so that the
// client's retry is accepted afresh.
func (k *Keys) Abandon(ctx context.Context, key string) error {
	_, err := k.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(k.table), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}},
		ConditionExpression: aws.String("attribute_not_exists(answer)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("abandon key: %w", err)
	}
	return nil
}
