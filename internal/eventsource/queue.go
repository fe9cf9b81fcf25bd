package eventsource

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/usersapi/usersapi/internal/stack"
	"github.com/usersapi/usersapi/internal/traceheader"
)

// QueueMapping is an SQS event source mapping of the template.
type QueueMapping struct {
	Function       string
	QueueURL       string
	QueueARN       string
	BatchSize      int
	Window         time.Duration
	ReportFailures bool
	Pollers        int // receive loops at once (Lambda scales these with the backlog)
	// RetryDelay is how soon a failed message is visible again. Lambda leaves
	// it to the queue's visibility timeout (180 s here); locally a short delay
	// keeps retries, and the redrive to the DLQ, within a test's patience.
	RetryDelay time.Duration
}

// queuePoller does what Lambda's SQS event source mapping does: it long-polls
// the queue, hands batches to the function, deletes what succeeded and leaves
// the rest to be received again, until the queue's redrive policy moves them
// to the dead-letter queue.
type queuePoller struct {
	m   QueueMapping
	sqs *sqs.Client
	fn  Function
	log *slog.Logger
}

// Run polls until ctx ends.
func (p *queuePoller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range max(p.m.Pollers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				p.poll(ctx)
			}
		}()
	}
	wg.Wait()
}

func (p *queuePoller) poll(ctx context.Context) {
	out, err := p.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.m.QueueURL),
		MaxNumberOfMessages:         int32(min(max(p.m.BatchSize, 1), 10)),
		WaitTimeSeconds:             2,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("receive", "queue", p.m.QueueURL, "err", err)
			sleep(ctx, time.Second)
		}
		return
	}
	if len(out.Messages) == 0 {
		return
	}
	failed := p.invoke(ctx, out.Messages)
	var del []types.DeleteMessageBatchRequestEntry
	var retry []types.ChangeMessageVisibilityBatchRequestEntry
	for _, m := range out.Messages {
		id := aws.String(strings.ReplaceAll(aws.ToString(m.MessageId), ".", "-"))
		if failed[aws.ToString(m.MessageId)] {
			retry = append(retry, types.ChangeMessageVisibilityBatchRequestEntry{Id: id, ReceiptHandle: m.ReceiptHandle,
				VisibilityTimeout: int32(p.m.RetryDelay / time.Second)})
			continue
		}
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: id, ReceiptHandle: m.ReceiptHandle})
	}
	if len(del) > 0 {
		if _, err := p.sqs.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.m.QueueURL), Entries: del}); err != nil {
			p.log.Warn("delete", "err", err)
		}
	}
	if len(retry) > 0 {
		if _, err := p.sqs.ChangeMessageVisibilityBatch(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(p.m.QueueURL), Entries: retry}); err != nil {
			p.log.Warn("change visibility", "err", err)
		}
	}
}

// invoke runs the function on msgs and returns the ids of those that failed.
func (p *queuePoller) invoke(ctx context.Context, msgs []types.Message) map[string]bool {
	all := func() map[string]bool {
		f := map[string]bool{}
		for _, m := range msgs {
			f[aws.ToString(m.MessageId)] = true
		}
		return f
	}
	recs := make([]map[string]any, len(msgs))
	trace := ""
	for i, m := range msgs {
		recs[i] = p.record(m)
		if t := m.Attributes["AWSTraceHeader"]; trace == "" && t != "" {
			trace = t
		}
	}
	payload, _ := json.Marshal(map[string]any{"Records": recs})
	res, err := p.fn.Invoke(context.WithoutCancel(ctx), payload, traceheader.Invocation(trace), trace)
	if err != nil || res.FunctionError != "" {
		return all()
	}
	if !p.m.ReportFailures {
		return nil
	}
	var resp struct {
		BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
	}
	if json.Unmarshal(res.Payload, &resp) != nil {
		return all()
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		known := false
		for _, m := range msgs {
			known = known || aws.ToString(m.MessageId) == f.ItemIdentifier
		}
		if !known || f.ItemIdentifier == "" {
			return all() // Lambda fails the whole batch on an unknown identifier
		}
		failed[f.ItemIdentifier] = true
	}
	return failed
}

// record writes a message as Lambda's SQS event record.
func (p *queuePoller) record(m types.Message) map[string]any {
	attrs := map[string]string{}
	for k, v := range m.Attributes {
		attrs[k] = v
	}
	mattrs := map[string]any{}
	for k, v := range m.MessageAttributes {
		mattrs[k] = map[string]any{"stringValue": v.StringValue, "binaryValue": v.BinaryValue, "dataType": v.DataType,
			"stringListValues": []string{}, "binaryListValues": []string{}}
	}
	sum := md5.Sum([]byte(aws.ToString(m.Body)))
	return map[string]any{
		"messageId": aws.ToString(m.MessageId), "receiptHandle": aws.ToString(m.ReceiptHandle), "body": aws.ToString(m.Body),
		"attributes": attrs, "messageAttributes": mattrs, "md5OfBody": hex.EncodeToString(sum[:]),
		"eventSource": "aws:sqs", "eventSourceARN": p.m.QueueARN, "awsRegion": stack.Region,
	}
}
