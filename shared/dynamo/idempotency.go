package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usersapi/usersapi/shared/users"
)

// IdempotencyTTL is how long an Idempotency-Key is remembered.
const IdempotencyTTL = 24 * time.Hour

// KeyLease is how long a request holds its Idempotency-Key before it answers.
// A retry within the lease gets 409; after it, the retry resumes the request.
// It must be longer than the ingest function's timeout (internal/stack checks).
const KeyLease = 30 * time.Second

// IdempotencyAPI is the part of the DynamoDB client that Keys uses.
type IdempotencyAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ IdempotencyAPI = (*dynamodb.Client)(nil)

// Keys remembers Idempotency-Keys, the request id each is bound to and the
// answers they were given. Only requests that send a key pay for it: a
// conditional put when accepted, an update once answered.
//
// A key is bound to its request id from the first attempt on. An attempt that
// may have queued its message and then failed to answer (it timed out, or the
// queue's answer was lost) leaves the key in progress; once its lease lapses,
// a retry resumes it with the same request id, which SQS (within 5 minutes)
// and the worker's request record (for 30 days) deduplicate. So a keyed retry
// never has a second effect, whatever the first attempt got to do.
type Keys struct {
	client IdempotencyAPI
	table  string
	now    func() time.Time
	lease  time.Duration
}

// NewKeys returns Keys kept in the named table.
func NewKeys(client IdempotencyAPI, table string) *Keys {
	return &Keys{client: client, table: table, now: time.Now, lease: KeyLease}
}

type keyItem struct {
	PK          string `dynamodbav:"pk"`
	Fingerprint string `dynamodbav:"fingerprint"` // of the request the key came with first
	RequestID   string `dynamodbav:"requestId"`   // the request id the key is bound to
	Answer      string `dynamodbav:"answer,omitempty"`
	LeaseUntil  int64  `dynamodbav:"leaseUntil"` // Unix ms; an unanswered key is in progress until then
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
}

// Claim is what Begin found for a key.
type Claim struct {
	// RequestID is the request id the key is bound to: the one Begin was
	// given, or an earlier attempt's.
	RequestID string
	// Answer is the answer recorded for the key's request: replay it.
	Answer string
	// Resumed says that an earlier attempt with this key stopped without an
	// answer: its message may be queued already (under RequestID).
	Resumed bool
	// Lease is the end of this claim's lease (Unix ms). It fences Release and
	// Abandon: an attempt that outlived its lease, and whose key another
	// attempt took over, changes nothing.
	Lease int64
}

func unavailable(what string, err error) error {
	return &users.Error{Kind: users.Unavailable, Detail: "idempotency keys are unavailable; try again", Err: fmt.Errorf("%s: %w", what, err)}
}

func inProgress() error {
	return users.Errorf(users.Conflict, "a request with this Idempotency-Key is being accepted; retry in a moment")
}

func keyOf(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}
}

// Begin claims key for a request with fingerprint, binding it to requestID.
// It returns a Claim with the answer recorded for the key when the same
// request was answered before; a Conflict error while another attempt holds
// the key's lease; a KeyReused error when the key came with another request;
// otherwise the claim is the caller's, with the request id to use, and the
// caller must Complete, Release or Abandon it.
func (k *Keys) Begin(ctx context.Context, key, fingerprint, requestID string) (Claim, error) {
	now := k.now()
	lease := now.Add(k.lease).UnixMilli()
	av, err := attributevalue.MarshalMap(keyItem{PK: key, Fingerprint: fingerprint, RequestID: requestID,
		LeaseUntil: lease, ExpiresAt: now.Add(IdempotencyTTL).Unix()})
	if err != nil {
		return Claim{}, err
	}
	_, err = k.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(k.table), Item: av,
		// An expired key that TTL has not removed yet counts as absent, unless
		// an attempt still holds its lease.
		ConditionExpression: aws.String("attribute_not_exists(pk) OR (expiresAt < :now AND NOT leaseUntil > :nowms)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": number(now.Unix()), ":nowms": number(now.UnixMilli())},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return Claim{RequestID: requestID, Lease: lease}, nil
	case !errors.As(err, &ccf):
		return Claim{}, unavailable("claim key", err)
	}
	out, err := k.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(k.table), ConsistentRead: aws.Bool(true), Key: keyOf(key)})
	if err != nil {
		return Claim{}, unavailable("read key", err)
	}
	var it keyItem
	if out.Item == nil || attributevalue.UnmarshalMap(out.Item, &it) != nil {
		return Claim{}, inProgress()
	}
	switch {
	case it.Fingerprint != fingerprint:
		return Claim{}, users.Errorf(users.KeyReused, "this Idempotency-Key was used with another request")
	case it.Answer != "":
		return Claim{RequestID: it.RequestID, Answer: it.Answer}, nil
	case it.RequestID == requestID:
		// This attempt's own put, applied, whose answer was lost and which
		// the SDK sent again.
		return Claim{RequestID: requestID, Lease: it.LeaseUntil}, nil
	case it.RequestID == "" || it.LeaseUntil > now.UnixMilli():
		// Held by a live attempt; or written by a version that bound no
		// request id, which is in progress until it expires.
		return Claim{}, inProgress()
	}
	// The earlier attempt's lease lapsed without an answer: take the key over,
	// on the condition that nobody else did meanwhile, for a lease that
	// outlasts the key's expiry if need be.
	expires := max(it.ExpiresAt, time.UnixMilli(lease).Add(time.Second).Unix())
	_, err = k.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(k.table), Key: keyOf(key),
		UpdateExpression: aws.String("SET leaseUntil = :lease, expiresAt = :exp"),
		ConditionExpression: aws.String("attribute_exists(pk) AND fingerprint = :fp AND requestId = :id AND " +
			"attribute_not_exists(answer) AND leaseUntil = :was"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":lease": number(lease), ":exp": number(expires),
			":was": number(it.LeaseUntil), ":fp": &types.AttributeValueMemberS{Value: fingerprint},
			":id": &types.AttributeValueMemberS{Value: it.RequestID}},
	})
	switch {
	case errors.As(err, &ccf):
		return Claim{}, inProgress()
	case err != nil:
		return Claim{}, unavailable("resume key", err)
	}
	return Claim{RequestID: it.RequestID, Resumed: true, Lease: lease}, nil
}

// Complete records the answer that a claimed key's request was given. The
// answer belongs to the request, so any attempt at it may record it; the
// key must still be bound to that request.
func (k *Keys) Complete(ctx context.Context, key string, c Claim, answer string) error {
	_, err := k.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(k.table), Key: keyOf(key),
		UpdateExpression:    aws.String("SET answer = :a"),
		ConditionExpression: aws.String("requestId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: answer},
			":id": &types.AttributeValueMemberS{Value: c.RequestID}},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("complete key: %w", err)
	}
	return nil
}

// Release ends a claim's lease without an answer, so that the client's retry
// resumes the request at once, with the same request id: for a request whose
// message may have been queued.
func (k *Keys) Release(ctx context.Context, key string, c Claim) error {
	_, err := k.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(k.table), Key: keyOf(key),
		UpdateExpression:          aws.String("SET leaseUntil = :zero"),
		ConditionExpression:       aws.String("leaseUntil = :mine AND attribute_not_exists(answer)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": number(0), ":mine": number(c.Lease)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("release key: %w", err)
	}
	return nil
}

// Abandon forgets a claimed key whose request was not accepted and sent
// nothing, so that the client's retry is accepted afresh; unless another
// attempt took the key over meanwhile.
func (k *Keys) Abandon(ctx context.Context, key string, c Claim) error {
	_, err := k.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(k.table), Key: keyOf(key),
		ConditionExpression:       aws.String("leaseUntil = :mine AND attribute_not_exists(answer)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":mine": number(c.Lease)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("abandon key: %w", err)
	}
	return nil
}

func number(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
