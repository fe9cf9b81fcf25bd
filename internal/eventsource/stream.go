package eventsource

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	st "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"

	"github.com/usersapi/usersapi/internal/eventpattern"
	"github.com/usersapi/usersapi/internal/stack"
	"github.com/usersapi/usersapi/internal/traceheader"
)

// StreamMapping is a DynamoDB event source mapping of the template.
type StreamMapping struct {
	Function         string
	StreamARN        string
	StartingPosition string // TRIM_HORIZON or LATEST
	BatchSize        int
	Window           time.Duration
	Bisect           bool
	MaxRetries       int           // -1: until the record expires
	MaxRecordAge     time.Duration // 0: no limit
	OnFailureQueue   string        // URL of the SQS on-failure destination, or ""
	ReportFailures   bool          // FunctionResponseTypes has ReportBatchItemFailures
	Filters          []map[string]any
}

// streamPoller does for a table's stream what Lambda's event source mapping
// does: it reads each shard in order, filters, batches, invokes the function,
// retries from the first failed record, bisects a failing batch, and sends a
// batch that exhausts its retries to the on-failure destination.
type streamPoller struct {
	m       StreamMapping
	streams *dynamodbstreams.Client
	sqs     *sqs.Client
	fn      Function
	log     *slog.Logger
	mu      sync.Mutex
	shards  map[string]bool
	state   string            // the file that keeps done (across runs); "": none
	done    map[string]string // by shard, the last record done: delivered, sent to the on-failure destination or filtered out
}

// Run reads the stream until ctx ends.
func (p *streamPoller) Run(ctx context.Context) {
	p.shards = map[string]bool{}
	p.done = p.loadDone()
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		out, err := p.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.m.StreamARN)})
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("describe stream", "err", err)
			}
		} else {
			for _, sh := range out.StreamDescription.Shards {
				id := aws.ToString(sh.ShardId)
				p.mu.Lock()
				seen := p.shards[id]
				p.shards[id] = true
				p.mu.Unlock()
				if !seen {
					wg.Add(1)
					go func() {
						defer wg.Done()
						p.shard(ctx, id)
					}()
				}
			}
		}
		sleep(ctx, time.Second)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// shard reads one shard to its end.
func (p *streamPoller) shard(ctx context.Context, shardID string) {
	in := &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(p.m.StreamARN), ShardId: aws.String(shardID),
		ShardIteratorType: st.ShardIteratorType(p.m.StartingPosition),
	}
	p.mu.Lock()
	lastDone := p.done[shardID]
	p.mu.Unlock()
	var it *dynamodbstreams.GetShardIteratorOutput
	var err error
	if lastDone != "" { // a run before this one stopped here
		resume := *in
		resume.ShardIteratorType, resume.SequenceNumber = st.ShardIteratorTypeAfterSequenceNumber, aws.String(lastDone)
		it, err = p.streams.GetShardIterator(ctx, &resume)
	}
	if it == nil || err != nil { // none kept, or trimmed since
		it, err = p.streams.GetShardIterator(ctx, in)
	}
	if err != nil {
		p.log.Warn("shard iterator", "shard", shardID, "err", err)
		return
	}
	iter := it.ShardIterator
	lastSeq := "" // the last record read, to resume after an iterator goes stale
	var pending []st.Record
	var firstSeen time.Time
	for ctx.Err() == nil && (iter != nil || len(pending) > 0) {
		if iter != nil && len(pending) < p.m.BatchSize {
			out, err := p.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)})
			if err != nil {
				var trimmed *st.TrimmedDataAccessException
				var expired *st.ExpiredIteratorException
				if errors.As(err, &trimmed) || errors.As(err, &expired) {
					// DynamoDB Local lets an iterator go stale: take a new one
					// where this one stopped, as Lambda's poller does.
					in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.m.StreamARN), ShardId: aws.String(shardID),
						ShardIteratorType: st.ShardIteratorTypeTrimHorizon}
					if lastSeq != "" {
						in.ShardIteratorType, in.SequenceNumber = st.ShardIteratorTypeAfterSequenceNumber, aws.String(lastSeq)
					}
					if it, err := p.streams.GetShardIterator(ctx, in); err == nil {
						iter = it.ShardIterator
						continue
					}
				}
				if ctx.Err() == nil {
					p.log.Warn("get records", "shard", shardID, "err", err)
				}
				sleep(ctx, time.Second)
				continue
			}
			iter = out.NextShardIterator
			if n := len(out.Records); n > 0 {
				lastSeq = aws.ToString(out.Records[n-1].Dynamodb.SequenceNumber)
			}
			for _, r := range out.Records {
				if p.keep(r) {
					pending = append(pending, r)
				}
			}
			if len(pending) > 0 && firstSeen.IsZero() {
				firstSeen = time.Now()
			}
			if len(pending) == 0 && len(out.Records) > 0 {
				p.markDone(shardID, lastSeq) // filtered out
			}
			if len(out.Records) == 0 && len(pending) == 0 {
				sleep(ctx, 250*time.Millisecond) // Lambda polls a shard four times a second
				continue
			}
		}
		if len(pending) == 0 {
			continue
		}
		if len(pending) < p.m.BatchSize && time.Since(firstSeen) < p.m.Window && iter != nil {
			sleep(ctx, 50*time.Millisecond)
			continue
		}
		n := min(len(pending), p.m.BatchSize)
		p.deliver(ctx, shardID, pending[:n], 0)
		if ctx.Err() != nil {
			return // not done: the next run delivers it again
		}
		p.markDone(shardID, aws.ToString(pending[n-1].Dynamodb.SequenceNumber))
		pending, firstSeen = pending[n:], time.Time{}
		if len(pending) > 0 {
			firstSeen = time.Now()
		}
	}
}

// keep applies the mapping's filter criteria: a record no filter matches is
// dropped, as Lambda drops it.
func (p *streamPoller) keep(r st.Record) bool {
	if len(p.m.Filters) == 0 {
		return true
	}
	var doc map[string]any
	b, _ := json.Marshal(lambdaRecord(r, p.m.StreamARN))
	_ = json.Unmarshal(b, &doc)
	for _, f := range p.m.Filters {
		if eventpattern.Match(f, doc) {
			return true
		}
	}
	return false
}

// deliver invokes the function with batch until every record is done,
// retrying from the first failure; attempts counts the tries so far.
func (p *streamPoller) deliver(ctx context.Context, shardID string, batch []st.Record, attempts int) {
	for len(batch) > 0 && ctx.Err() == nil {
		if p.m.MaxRecordAge > 0 && time.Since(aws.ToTime(batch[0].Dynamodb.ApproximateCreationDateTime)) > p.m.MaxRecordAge {
			p.onFailure(ctx, shardID, batch, attempts, "RecordAgeExceeded", "")
			return
		}
		failedAt, funcErr := p.invoke(ctx, batch)
		if failedAt < 0 && funcErr == "" {
			return
		}
		attempts++
		if funcErr != "" && p.m.Bisect && len(batch) > 1 {
			half := len(batch) / 2
			p.deliver(ctx, shardID, batch[:half], attempts)
			p.deliver(ctx, shardID, batch[half:], attempts)
			return
		}
		if failedAt > 0 {
			batch = batch[failedAt:] // the records before the first failure are done
		}
		if p.m.MaxRetries >= 0 && attempts > p.m.MaxRetries {
			p.onFailure(ctx, shardID, batch, attempts, "RetryAttemptsExhausted", funcErr)
			return
		}
		sleep(ctx, time.Duration(attempts)*100*time.Millisecond)
	}
}

// invoke runs the function on batch. It returns the index of the first
// record reported failed (-1: none) or, when the function itself failed, its error.
func (p *streamPoller) invoke(ctx context.Context, batch []st.Record) (int, string) {
	recs := make([]lambdaStreamRecord, len(batch))
	for i, r := range batch {
		recs[i] = lambdaRecord(r, p.m.StreamARN)
	}
	payload, _ := json.Marshal(map[string]any{"Records": recs})
	upstream := streamUpstream(recs)
	res, err := p.fn.Invoke(ctx, payload, traceheader.Invocation(upstream), upstream)
	if err != nil {
		return 0, err.Error()
	}
	if res.FunctionError != "" {
		return 0, string(res.Payload)
	}
	if !p.m.ReportFailures {
		return -1, ""
	}
	var resp struct {
		BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
	}
	if json.Unmarshal(res.Payload, &resp) != nil {
		return 0, "the function's response is not a batch response"
	}
	first := -1
	for _, f := range resp.BatchItemFailures {
		i := indexOfSequence(batch, f.ItemIdentifier)
		if i < 0 {
			// Lambda treats an identifier it does not know as a failure of the whole batch.
			return 0, ""
		}
		if first < 0 || i < first {
			first = i
		}
	}
	return first, ""
}

func indexOfSequence(batch []st.Record, seq string) int {
	for i, r := range batch {
		if aws.ToString(r.Dynamodb.SequenceNumber) == seq {
			return i
		}
	}
	return -1
}

// onFailure sends AWS's on-failure record for a batch that Lambda gives up on.
func (p *streamPoller) onFailure(ctx context.Context, shardID string, batch []st.Record, attempts int, condition, funcErr string) {
	p.log.Error("stream batch discarded", "function", p.m.Function, "condition", condition, "records", len(batch),
		"first_sequence_number", aws.ToString(batch[0].Dynamodb.SequenceNumber))
	if p.m.OnFailureQueue == "" {
		return
	}
	rc := map[string]any{"statusCode": 200, "executedVersion": "$LATEST"}
	if funcErr != "" {
		rc["functionError"] = "Unhandled"
	}
	rec := map[string]any{
		"requestContext": map[string]any{"requestId": uuid.NewString(), "functionArn": functionARN(p.m.Function),
			"condition": condition, "approximateInvokeCount": attempts},
		"responseContext": rc,
		"version":         "1.0",
		"timestamp":       time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"DDBStreamBatchInfo": map[string]any{
			"shardId": shardID, "streamArn": p.m.StreamARN, "batchSize": len(batch),
			"startSequenceNumber":             aws.ToString(batch[0].Dynamodb.SequenceNumber),
			"endSequenceNumber":               aws.ToString(batch[len(batch)-1].Dynamodb.SequenceNumber),
			"approximateArrivalOfFirstRecord": aws.ToTime(batch[0].Dynamodb.ApproximateCreationDateTime).UTC().Format(time.RFC3339),
			"approximateArrivalOfLastRecord":  aws.ToTime(batch[len(batch)-1].Dynamodb.ApproximateCreationDateTime).UTC().Format(time.RFC3339),
		},
	}
	body, _ := json.Marshal(rec)
	if _, err := p.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(p.m.OnFailureQueue), MessageBody: aws.String(string(body))}); err != nil {
		p.log.Error("on-failure destination", "err", err)
	}
}

// lambdaStreamRecord is a stream record as Lambda hands it to a function.
type lambdaStreamRecord struct {
	EventID        string         `json:"eventID"`
	EventName      string         `json:"eventName"`
	EventVersion   string         `json:"eventVersion"`
	EventSource    string         `json:"eventSource"`
	AWSRegion      string         `json:"awsRegion"`
	Dynamodb       map[string]any `json:"dynamodb"`
	EventSourceARN string         `json:"eventSourceARN"`
	UserIdentity   map[string]any `json:"userIdentity,omitempty"`
}

func lambdaRecord(r st.Record, streamARN string) lambdaStreamRecord {
	d := r.Dynamodb
	ddb := map[string]any{
		"ApproximateCreationDateTime": aws.ToTime(d.ApproximateCreationDateTime).Unix(),
		"Keys":                        imageJSON(d.Keys),
		"SequenceNumber":              aws.ToString(d.SequenceNumber),
		"SizeBytes":                   aws.ToInt64(d.SizeBytes),
		"StreamViewType":              string(d.StreamViewType),
	}
	if d.NewImage != nil {
		ddb["NewImage"] = imageJSON(d.NewImage)
	}
	if d.OldImage != nil {
		ddb["OldImage"] = imageJSON(d.OldImage)
	}
	out := lambdaStreamRecord{EventID: aws.ToString(r.EventID), EventName: string(r.EventName), EventVersion: "1.1",
		EventSource: "aws:dynamodb", AWSRegion: stack.Region, Dynamodb: ddb, EventSourceARN: streamARN}
	if r.UserIdentity != nil {
		out.UserIdentity = map[string]any{"type": aws.ToString(r.UserIdentity.Type), "principalId": aws.ToString(r.UserIdentity.PrincipalId)}
	}
	return out
}

// imageJSON writes attribute values in DynamoDB's JSON, as stream events carry them.
func imageJSON(img map[string]st.AttributeValue) map[string]any {
	m := make(map[string]any, len(img))
	for k, v := range img {
		m[k] = attrJSON(v)
	}
	return m
}

func attrJSON(v st.AttributeValue) any {
	switch t := v.(type) {
	case *st.AttributeValueMemberS:
		return map[string]any{"S": t.Value}
	case *st.AttributeValueMemberN:
		return map[string]any{"N": t.Value}
	case *st.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": t.Value}
	case *st.AttributeValueMemberNULL:
		return map[string]any{"NULL": t.Value}
	case *st.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(t.Value)}
	case *st.AttributeValueMemberSS:
		return map[string]any{"SS": t.Value}
	case *st.AttributeValueMemberNS:
		return map[string]any{"NS": t.Value}
	case *st.AttributeValueMemberBS:
		var bs []string
		for _, b := range t.Value {
			bs = append(bs, base64.StdEncoding.EncodeToString(b))
		}
		return map[string]any{"BS": bs}
	case *st.AttributeValueMemberL:
		var l []any
		for _, e := range t.Value {
			l = append(l, attrJSON(e))
		}
		return map[string]any{"L": l}
	case *st.AttributeValueMemberM:
		return map[string]any{"M": imageJSON(t.Value)}
	}
	return nil
}

// streamUpstream returns the trace header that the first of recs with one
// carries in its new image's trace attribute (the worker writes the
// request's trace there), or "". Lambda does not carry a trace across a
// stream; locally the stream function's segment joins the trace of the
// request that made the change, so that one trace shows a request end to end.
func streamUpstream(recs []lambdaStreamRecord) string {
	for _, r := range recs {
		img, _ := r.Dynamodb["NewImage"].(map[string]any)
		attr, _ := img["trace"].(map[string]any)
		if s, _ := attr["S"].(string); s != "" {
			return s
		}
	}
	return ""
}

func functionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", stack.Region, stack.Account, name)
}

// loadDone reads the place kept in each shard by a run before this one.
func (p *streamPoller) loadDone() map[string]string {
	done := map[string]string{}
	if p.state == "" {
		return done
	}
	b, err := os.ReadFile(p.state)
	if err == nil {
		err = json.Unmarshal(b, &done)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		p.log.Warn("stream mapping: place kept from the last run unreadable; starting at its StartingPosition", "file", p.state, "err", err)
	}
	return done
}

// markDone notes seq as the last record of shardID done, and keeps it for
// the next run when the mapping has a state file.
func (p *streamPoller) markDone(shardID, seq string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[shardID] = seq
	if p.state == "" {
		return
	}
	b, _ := json.Marshal(p.done)
	tmp := p.state + ".tmp"
	err := os.MkdirAll(filepath.Dir(p.state), 0o755)
	if err == nil {
		err = os.WriteFile(tmp, b, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, p.state)
	}
	if err != nil {
		p.log.Warn("stream mapping: keeping its place", "file", p.state, "err", err)
	}
}
