package dynamo

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usersapi/usersapi/shared/users"
)

// requestsIndex is the requests table's index of request records by user
// (userId, requestId; every attribute projected): a user's request history.
const requestsIndex = "ByUser"

// MaxExportRequests bounds the request records one export holds (about
// 2.5 MB of JSON, within Lambda's 6 MB response).
const MaxExportRequests = 10000

// Export returns everything the tables hold about the user with id: the user
// (read consistently) or its tombstone, and the records of its requests
// (read from the ByUser index, eventually consistent), oldest first. An
// export of an id the tables know nothing of is empty, not an error.
func (t *Table) Export(ctx context.Context, id users.ID) (users.Export, error) {
	e := users.Export{UserID: id}
	it, ok, err := t.getUser(ctx, id)
	if err != nil {
		return users.Export{}, err
	}
	switch {
	case ok && it.Deleted:
		if e.Tombstone, err = it.tombstone(); err != nil {
			return users.Export{}, err
		}
	case ok:
		u, err := it.user()
		if err != nil {
			return users.Export{}, err
		}
		e.User = &u
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(t.requests),
		IndexName:                 aws.String(requestsIndex),
		KeyConditionExpression:    aws.String("userId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: string(id)}},
	}
	for {
		out, err := t.client.Query(ctx, in)
		if err != nil {
			return users.Export{}, fmt.Errorf("export %s: requests: %w", id, err)
		}
		for _, av := range out.Items {
			if len(e.Requests) == MaxExportRequests {
				e.Truncated = true
				break
			}
			var r requestItem
			if err := attributevalue.UnmarshalMap(av, &r); err != nil {
				return users.Export{}, fmt.Errorf("export %s: requests: %w", id, err)
			}
			e.Requests = append(e.Requests, r.request())
		}
		if e.Truncated || len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	slices.SortStableFunc(e.Requests, func(a, b users.Request) int {
		return cmp.Or(a.AcceptedAt.Compare(b.AcceptedAt), cmp.Compare(a.ID, b.ID))
	})
	return e, nil
}
