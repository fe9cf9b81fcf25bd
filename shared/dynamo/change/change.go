// Package change reads the users table's stream: the user change that a
// record shows, from its old and new images.
//
// The images are decoded by hand rather than with the SDK's attributevalue
// package, which links the DynamoDB client's schemas: their package init
// costs about 1 ms on every cold start of the stream function (a third of a
// hello-world function's whole init), for a dozen flat attributes. The item
// layout is package dynamo's (userItem); its tests decode what it writes with
// this package, so that the two cannot drift apart.
package change

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/users"
)

// userPrefix starts the key of every user item (package dynamo's layout).
const userPrefix = "USER#"

// Of returns the change that a stream record shows, and false when the
// record is no user change: an email sentinel, a removal by TTL (or by hand),
// or a write that left the version as it was.
func Of(rec events.DynamoDBEventRecord) (users.Change, bool, error) {
	pk := rec.Change.Keys["pk"]
	if pk.DataType() != events.DataTypeString || !strings.HasPrefix(pk.String(), userPrefix) {
		return users.Change{}, false, nil
	}
	if rec.EventName != string(events.DynamoDBOperationTypeInsert) && rec.EventName != string(events.DynamoDBOperationTypeModify) {
		return users.Change{}, false, nil
	}
	newItem, err := decode(rec.Change.NewImage)
	if err != nil {
		return users.Change{}, false, fmt.Errorf("record %s: new image: %w", rec.Change.SequenceNumber, err)
	}
	c := users.Change{Type: users.Created, UserID: newItem.user.ID, Version: newItem.user.Version,
		RequestID: newItem.lastRequestID, Trace: newItem.trace, OccurredAt: newItem.user.UpdatedAt, AcceptedAt: newItem.acceptedAt}
	if rec.EventName == string(events.DynamoDBOperationTypeModify) {
		oldItem, err := decode(rec.Change.OldImage)
		if err != nil {
			return users.Change{}, false, fmt.Errorf("record %s: old image: %w", rec.Change.SequenceNumber, err)
		}
		if oldItem.user.Version == newItem.user.Version || oldItem.deleted {
			return users.Change{}, false, nil
		}
		c.Type, c.Old = users.Updated, &oldItem.user
	}
	if newItem.deleted {
		c.Type = users.Deleted
	} else {
		c.New = &newItem.user
	}
	return c, true, nil
}

// item is a user item's image: the user, and what the item keeps beside it.
type item struct {
	user          users.User
	lastRequestID string
	acceptedAt    time.Time // zero when the item has none
	trace         string
	deleted       bool
}

// decode reads a user item's image. Attributes it does not know are ignored,
// as attributevalue.UnmarshalMap ignores them.
func decode(img map[string]events.DynamoDBAttributeValue) (item, error) {
	if len(img) == 0 {
		return item{}, fmt.Errorf("the image is missing (is the stream NEW_AND_OLD_IMAGES?)")
	}
	var it item
	var pk, created, updated, accepted string
	var err error
	// A NULL attribute reads as absent, as attributevalue reads it.
	str := func(name string, dst *string) {
		if v, ok := img[name]; ok && err == nil && v.DataType() != events.DataTypeNull {
			if v.DataType() != events.DataTypeString {
				err = fmt.Errorf("attribute %s is not a string", name)
				return
			}
			*dst = v.String()
		}
	}
	num := func(name string, dst *int64) {
		if v, ok := img[name]; ok && err == nil && v.DataType() != events.DataTypeNull {
			if v.DataType() != events.DataTypeNumber {
				err = fmt.Errorf("attribute %s is not a number", name)
				return
			}
			*dst, err = strconv.ParseInt(v.Number(), 10, 64)
		}
	}
	var id, owner string
	var age int64
	str("pk", &pk)
	str("id", &id)
	str("name", &it.user.Name)
	str("email", &it.user.Email)
	str("phone", &it.user.Phone)
	num("age", &age)
	num("version", &it.user.Version)
	str("createdAt", &created)
	str("updatedAt", &updated)
	str("owner", &owner)
	str("lastRequestId", &it.lastRequestID)
	str("acceptedAt", &accepted)
	str("trace", &it.trace)
	if v, ok := img["deleted"]; ok && err == nil && v.DataType() != events.DataTypeNull {
		if v.DataType() != events.DataTypeBoolean {
			err = fmt.Errorf("attribute deleted is not a boolean")
		}
		it.deleted = err == nil && v.Boolean()
	}
	if err != nil {
		return item{}, err
	}
	if !strings.HasPrefix(pk, userPrefix) || id == "" {
		return item{}, fmt.Errorf("item %q is not a user", pk)
	}
	it.user.ID, it.user.Owner, it.user.Age = users.ID(id), owner, int(age)
	if it.user.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return item{}, fmt.Errorf("user %s: createdAt: %w", id, err)
	}
	if it.user.UpdatedAt, err = time.Parse(time.RFC3339Nano, updated); err != nil {
		return item{}, fmt.Errorf("user %s: updatedAt: %w", id, err)
	}
	if accepted != "" {
		if it.acceptedAt, err = time.Parse(time.RFC3339Nano, accepted); err != nil {
			return item{}, fmt.Errorf("user %s: acceptedAt: %w", id, err)
		}
	}
	return it, nil
}
