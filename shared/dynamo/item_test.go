package dynamo

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usersapi/usersapi/shared/dynamo/change"
	"github.com/usersapi/usersapi/shared/users"
)

// toStream converts an item as the table stores it to the stream's image,
// as DynamoDB Streams writes it.
func toStream(t *testing.T, av map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	out := map[string]events.DynamoDBAttributeValue{}
	for k, v := range av {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out[k] = events.NewStringAttribute(v.Value)
		case *types.AttributeValueMemberN:
			out[k] = events.NewNumberAttribute(v.Value)
		case *types.AttributeValueMemberBOOL:
			out[k] = events.NewBooleanAttribute(v.Value)
		default:
			t.Fatalf("attribute %s is a %T: teach this test and package change", k, v)
		}
	}
	return out
}

// TestStreamReadsWhatTheTableWrites: package change decodes the stream's
// images by hand; what it reads from the items this package writes (a
// create, an update, a delete's tombstone) is what this package reads.
func TestStreamReadsWhatTheTableWrites(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 412000000, time.UTC)
	v1 := users.User{ID: "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", Name: "Ada \"Countess\" Lovelace", Email: "ada@example.com",
		Phone: "0123456789", Age: 36, Version: 1, CreatedAt: at, UpdatedAt: at, Owner: "alice"}
	v2 := v1
	v2.Name, v2.Phone, v2.Age, v2.Version, v2.UpdatedAt = "Ada", "", 0, 2, at.Add(time.Second)
	cmd := users.Command{RequestID: "req-2", AcceptedAt: at.Add(900 * time.Millisecond), Trace: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}

	image := func(u users.User, c users.Command, deleted bool) map[string]events.DynamoDBAttributeValue {
		it := toItem(u, c)
		if deleted {
			it = tombstone(it, at)
		}
		av, err := attributevalue.MarshalMap(it)
		if err != nil {
			t.Fatal(err)
		}
		var back userItem
		if err := attributevalue.UnmarshalMap(av, &back); err != nil || !reflect.DeepEqual(back, it) {
			t.Fatalf("the item does not round-trip: %+v, %v", back, err)
		}
		return toStream(t, av)
	}
	record := func(name string, old, new map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
		return events.DynamoDBEventRecord{EventName: name, Change: events.DynamoDBStreamRecord{
			Keys: map[string]events.DynamoDBAttributeValue{"pk": new["pk"]}, OldImage: old, NewImage: new, SequenceNumber: strconv.Itoa(len(name))}}
	}

	created, ok, err := change.Of(record("INSERT", nil, image(v1, users.Command{RequestID: "req-1"}, false)))
	if err != nil || !ok || created.Type != users.Created || !reflect.DeepEqual(*created.New, v1) || created.RequestID != "req-1" || !created.AcceptedAt.IsZero() {
		t.Errorf("create: %+v %v %v", created, ok, err)
	}
	updated, ok, err := change.Of(record("MODIFY", image(v1, users.Command{RequestID: "req-1"}, false), image(v2, cmd, false)))
	if err != nil || !ok || updated.Type != users.Updated || !reflect.DeepEqual(*updated.Old, v1) || !reflect.DeepEqual(*updated.New, v2) ||
		updated.RequestID != "req-2" || !updated.AcceptedAt.Equal(cmd.AcceptedAt) || updated.Trace != cmd.Trace || updated.EventID() != string(v1.ID)+"#2" {
		t.Errorf("update: %+v %v %v", updated, ok, err)
	}
	v3 := v2
	v3.Version = 3
	deleted, ok, err := change.Of(record("MODIFY", image(v2, cmd, false), image(v3, users.Command{RequestID: "req-3"}, true)))
	if err != nil || !ok || deleted.Type != users.Deleted || deleted.New != nil || !reflect.DeepEqual(*deleted.Old, v2) || deleted.Version != 3 {
		t.Errorf("delete: %+v %v %v", deleted, ok, err)
	}
	// A tombstone expiring, or touched again, is no change.
	if _, ok, err := change.Of(record("MODIFY", image(v3, cmd, true), image(v3, cmd, true))); ok || err != nil {
		t.Errorf("a tombstone's rewrite made a change (%v)", err)
	}
	// An email sentinel is no change.
	sentinel, _ := attributevalue.MarshalMap(emailItem{PK: emailKey("ada@example.com"), UserID: string(v1.ID)})
	if _, ok, err := change.Of(record("INSERT", nil, toStream(t, sentinel))); ok || err != nil {
		t.Errorf("a sentinel made a change (%v)", err)
	}
	// A user item whose attribute has the wrong type is an error, not a guess.
	bad := image(v1, cmd, false)
	bad["version"] = events.NewStringAttribute("1")
	if _, _, err := change.Of(record("INSERT", nil, bad)); err == nil {
		t.Error("a string version was read")
	}
}
