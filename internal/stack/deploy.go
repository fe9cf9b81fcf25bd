package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	cfnsqs "github.com/awslabs/goformation/v7/cloudformation/sqs"
)

// Deploy creates the template's DynamoDB tables and SQS queues, then
// resolves the template again with their stream ARNs and URLs.
func (s *Stack) Deploy(ctx context.Context, db *dynamodb.Client, q *sqs.Client) error {
	if err := s.DeployTables(ctx, db); err != nil {
		return err
	}
	return s.DeployQueues(ctx, q)
}

// DeployTables creates the template's DynamoDB tables (keys, indexes, stream,
// TTL). A table that exists already (a --data directory kept from an earlier
// run) is kept.
func (s *Stack) DeployTables(ctx context.Context, db *dynamodb.Client) error {
	for _, id := range s.IDs("AWS::DynamoDB::Table") {
		var t cfndynamodb.Table
		if err := s.decodeResource(id, &t); err != nil {
			return err
		}
		if err := s.createTable(ctx, db, id, &t); err != nil {
			return err
		}
	}
	return s.Resolve()
}

// DeployQueues creates the template's SQS queues (attributes, redrive policy);
// CreateQueue returns an existing queue of the same attributes as it is.
func (s *Stack) DeployQueues(ctx context.Context, q *sqs.Client) error {
	// Queues without a redrive policy (the dead-letter queues) come first.
	for _, pass := range []bool{false, true} {
		for _, id := range s.IDs("AWS::SQS::Queue") {
			var qr cfnsqs.Queue
			if err := s.decodeResource(id, &qr); err != nil {
				return err
			}
			if (qr.RedrivePolicy != nil) != pass {
				continue
			}
			attrs, err := queueAttributes(qr.FifoQueue, qr.ContentBasedDeduplication, qr.DeduplicationScope, qr.FifoThroughputLimit,
				qr.VisibilityTimeout, qr.MessageRetentionPeriod, qr.DelaySeconds, qr.MaximumMessageSize, qr.ReceiveMessageWaitTimeSeconds, qr.RedrivePolicy)
			if err != nil {
				return fmt.Errorf("queue %s: %w", id, err)
			}
			out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(s.Resources[id].Name), Attributes: attrs})
			if err != nil {
				return fmt.Errorf("create queue %s: %w", id, err)
			}
			s.Resources[id].Ref = aws.ToString(out.QueueUrl)
			s.Resources[id].Attr["QueueUrl"] = aws.ToString(out.QueueUrl)
		}
	}
	return s.Resolve()
}

func (s *Stack) createTable(ctx context.Context, db *dynamodb.Client, id string, t *cfndynamodb.Table) error {
	name := s.Resources[id].Name
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest}
	for _, a := range t.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType)})
	}
	in.KeySchema = keySchema(t.KeySchema)
	for _, g := range t.GlobalSecondaryIndexes {
		p := ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}
		if g.Projection != nil && g.Projection.ProjectionType != nil {
			p.ProjectionType = ddbtypes.ProjectionType(*g.Projection.ProjectionType)
			p.NonKeyAttributes = g.Projection.NonKeyAttributes
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(g.IndexName), KeySchema: keySchema(g.KeySchema), Projection: &p})
	}
	if t.StreamSpecification != nil {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true),
			StreamViewType: ddbtypes.StreamViewType(t.StreamSpecification.StreamViewType)}
	}
	out, err := db.CreateTable(ctx, in)
	var inUse *ddbtypes.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", id, err)
		}
		s.Resources[id].Attr["StreamArn"] = aws.ToString(d.Table.LatestStreamArn)
		return addIndexes(ctx, db, in, d.Table)
	case err != nil:
		return fmt.Errorf("create table %s: %w", id, err)
	}
	s.Resources[id].Attr["StreamArn"] = aws.ToString(out.TableDescription.LatestStreamArn)
	if ttl := t.TimeToLiveSpecification; ttl != nil && ttl.Enabled && ttl.AttributeName != nil {
		_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
			TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: ttl.AttributeName, Enabled: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("table %s: time to live: %w", id, err)
		}
	}
	return nil
}

func keySchema(ks []cfndynamodb.Table_KeySchema) []ddbtypes.KeySchemaElement {
	var out []ddbtypes.KeySchemaElement
	for _, k := range ks {
		out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: ddbtypes.KeyType(k.KeyType)})
	}
	return out
}

// queueAttributes turns a queue's properties into CreateQueue's attributes.
func queueAttributes(fifo, cbd *bool, scope, limit *string, vis, retention, delay, maxSize, wait *int, redrive any) (map[string]string, error) {
	a := map[string]string{}
	setBool := func(k string, v *bool) {
		if v != nil {
			a[k] = strconv.FormatBool(*v)
		}
	}
	setInt := func(k string, v *int) {
		if v != nil {
			a[k] = strconv.Itoa(*v)
		}
	}
	setBool("FifoQueue", fifo)
	setBool("ContentBasedDeduplication", cbd)
	if scope != nil {
		a["DeduplicationScope"] = *scope
	}
	if limit != nil {
		a["FifoThroughputLimit"] = *limit
	}
	setInt("VisibilityTimeout", vis)
	setInt("MessageRetentionPeriod", retention)
	setInt("DelaySeconds", delay)
	setInt("MaximumMessageSize", maxSize)
	setInt("ReceiveMessageWaitTimeSeconds", wait)
	if redrive != nil {
		b, err := json.Marshal(redrive)
		if err != nil {
			return nil, err
		}
		a["RedrivePolicy"] = string(b)
	}
	return a, nil
}

// decodeResource decodes resource id into goformation's typed model of it.
func (s *Stack) decodeResource(id string, v any) error {
	b, err := json.Marshal(map[string]any{"Type": s.types[id], "Properties": s.props[id]})
	if err != nil {
		return err
	}
	return s.decodeJSON(id, b, v)
}

func (s *Stack) decodeJSON(id string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("resource %s: %w", id, err)
	}
	return nil
}

// addIndexes creates on an existing table (a --data directory kept from an
// earlier run) the global secondary indexes that the template has added since,
// as a stack update does, one at a time (DynamoDB takes one index creation per
// UpdateTable).
func addIndexes(ctx context.Context, db *dynamodb.Client, want *dynamodb.CreateTableInput, have *ddbtypes.TableDescription) error {
	for _, g := range want.GlobalSecondaryIndexes {
		if slices.ContainsFunc(have.GlobalSecondaryIndexes, func(h ddbtypes.GlobalSecondaryIndexDescription) bool {
			return aws.ToString(h.IndexName) == aws.ToString(g.IndexName)
		}) {
			continue
		}
		_, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            want.TableName,
			AttributeDefinitions: want.AttributeDefinitions,
			GlobalSecondaryIndexUpdates: []ddbtypes.GlobalSecondaryIndexUpdate{{Create: &ddbtypes.CreateGlobalSecondaryIndexAction{
				IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection}}},
		})
		if err != nil {
			return fmt.Errorf("add index %s to table %s: %w", aws.ToString(g.IndexName), aws.ToString(want.TableName), err)
		}
	}
	return nil
}
