package dynamo

import (
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usersapi/usersapi/shared/users"
)

// ChangeOf returns the change that a stream record shows, and false when the
// record is no user change: an email sentinel, a removal by TTL (or by hand),
// or a write that left the version as it was.
func ChangeOf(rec events.DynamoDBEventRecord) (users.Change, bool, error) {
	pk := rec.Change.Keys["pk"]
	if pk.DataType() != events.DataTypeString || !strings.HasPrefix(pk.String(), userPrefix) {
		return users.Change{}, false, nil
	}
	if rec.EventName != string(events.DynamoDBOperationTypeInsert) && rec.EventName != string(events.DynamoDBOperationTypeModify) {
		return users.Change{}, false, nil
	}
	newItem, err := imageItem(rec.Change.NewImage)
	if err != nil {
		return users.Change{}, false, fmt.Errorf("record %s: new image: %w", rec.Change.SequenceNumber, err)
	}
	c := users.Change{Type: users.Created, UserID: users.ID(newItem.ID), Version: newItem.Version,
		RequestID: newItem.LastRequestID, Trace: newItem.Trace}
	nu, err := newItem.user()
	if err != nil {
		return users.Change{}, false, fmt.Errorf("record %s: %w", rec.Change.SequenceNumber, err)
	}
	c.OccurredAt = nu.UpdatedAt
	if newItem.AcceptedAt != "" {
		if c.AcceptedAt, err = parseTime(newItem.AcceptedAt); err != nil {
			return users.Change{}, false, fmt.Errorf("record %s: acceptedAt: %w", rec.Change.SequenceNumber, err)
		}
	}
	if rec.EventName == string(events.DynamoDBOperationTypeModify) {
		oldItem, err := imageItem(rec.Change.OldImage)
		if err != nil {
			return users.Change{}, false, fmt.Errorf("record %s: old image: %w", rec.Change.SequenceNumber, err)
		}
		if oldItem.Version == newItem.Version || oldItem.Deleted {
			return users.Change{}, false, nil
		}
		ou, err := oldItem.user()
		if err != nil {
			return users.Change{}, false, fmt.Errorf("record %s: %w", rec.Change.SequenceNumber, err)
		}
		c.Type, c.Old = users.Updated, &ou
	}
	if newItem.Deleted {
		c.Type = users.Deleted
	} else {
		c.New = &nu
	}
	return c, true, nil
}

func imageItem(img map[string]events.DynamoDBAttributeValue) (userItem, error) {
	if len(img) == 0 {
		return userItem{}, fmt.Errorf("the image is missing (is the stream NEW_AND_OLD_IMAGES?)")
	}
	m := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		av, err := fromStream(v)
		if err != nil {
			return userItem{}, fmt.Errorf("attribute %s: %w", k, err)
		}
		m[k] = av
	}
	var it userItem
	if err := attributevalue.UnmarshalMap(m, &it); err != nil {
		return userItem{}, err
	}
	return it, nil
}

// fromStream converts aws-lambda-go's attribute value to the SDK's. The two
// libraries model the same JSON differently and neither converts to the other.
func fromStream(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		var l []types.AttributeValue
		for _, e := range v.List() {
			av, err := fromStream(e)
			if err != nil {
				return nil, err
			}
			l = append(l, av)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case events.DataTypeMap:
		m := map[string]types.AttributeValue{}
		for k, e := range v.Map() {
			av, err := fromStream(e)
			if err != nil {
				return nil, err
			}
			m[k] = av
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown attribute type %v", v.DataType())
}
