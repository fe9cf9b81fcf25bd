package eventsource

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	st "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/usersapi/usersapi/internal/runtimeapi"
	"github.com/usersapi/usersapi/internal/stack"
	"github.com/usersapi/usersapi/internal/traceheader"
)

func template(t *testing.T) *stack.Stack {
	t.Helper()
	s, err := stack.Load("../../template.yaml", map[string]any{"Stage": "dev"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNew reads the template's mappings, and mappings written out in full.
func TestNew(t *testing.T) {
	s := template(t)
	fns, err := s.Functions()
	if err != nil {
		t.Fatal(err)
	}
	// What Deploy learns from the emulators.
	for _, id := range s.IDs("AWS::SQS::Queue") {
		s.Resources[id].Attr["QueueUrl"] = "http://sqs.local/000000000000/" + s.Resources[id].Name
	}
	env := Env{Log: slog.New(slog.DiscardHandler), RetryDelay: time.Second}
	for id, fn := range fns {
		for name, ev := range fn.Events {
			p, err := New(s, id, name, ev, nil, env)
			if err != nil {
				t.Fatalf("%s.%s: %v", id, name, err)
			}
			switch ev.Type {
			case "SQS":
				q, ok := p.(*queuePoller)
				if !ok || q.m.QueueURL == "" || q.m.QueueARN != ev.Properties["Queue"] || q.m.RetryDelay != time.Second || q.m.Pollers < 1 {
					t.Errorf("%s.%s: %#v", id, name, p)
				}
			case "DynamoDB":
				if sp, ok := p.(*streamPoller); !ok || len(sp.m.Filters) == 0 || sp.m.OnFailureQueue == "" {
					t.Errorf("%s.%s: %#v", id, name, p)
				}
			default:
				if p != nil {
					t.Errorf("%s.%s (%s) is emulated: %#v", id, name, ev.Type, p)
				}
			}
		}
	}

	queue, failures := s.Resources["WriteQueue"], s.Resources["StreamFailureQueue"]
	p, err := New(s, "F", "Q", stack.Event{Type: "SQS", Properties: map[string]any{
		"Queue": queue.Attr["Arn"], "BatchSize": 3.0, "MaximumBatchingWindowInSeconds": 2.0,
		"FunctionResponseTypes": []any{"ReportBatchItemFailures"}, "ScalingConfig": map[string]any{"MaximumConcurrency": 50.0},
	}}, nil, env)
	want := QueueMapping{Function: "F", QueueURL: queue.Attr["QueueUrl"], QueueARN: queue.Attr["Arn"], BatchSize: 3,
		Window: 2 * time.Second, ReportFailures: true, Pollers: 4, RetryDelay: time.Second}
	if q, ok := p.(*queuePoller); err != nil || !ok || q.m != want {
		t.Errorf("SQS mapping %#v, %v; want %+v", p, err, want)
	}

	p, err = New(s, "F", "S", stack.Event{Type: "DynamoDB", Properties: map[string]any{
		"Stream": "arn:stream", "BatchSize": 7.0, "BisectBatchOnFunctionError": true, "MaximumRetryAttempts": 2.0,
		"MaximumRecordAgeInSeconds": 60.0,
		"DestinationConfig":         map[string]any{"OnFailure": map[string]any{"Destination": failures.Attr["Arn"]}},
		"FilterCriteria":            map[string]any{"Filters": []any{map[string]any{"Pattern": `{"eventName":["INSERT"]}`}}},
	}}, nil, env)
	sp, ok := p.(*streamPoller)
	if err != nil || !ok {
		t.Fatalf("stream mapping %#v, %v", p, err)
	}
	if m := sp.m; m.StartingPosition != "LATEST" || m.BatchSize != 7 || !m.Bisect || m.MaxRetries != 2 || m.MaxRecordAge != time.Minute ||
		m.OnFailureQueue != failures.Attr["QueueUrl"] || m.ReportFailures || len(m.Filters) != 1 || m.Filters[0]["eventName"] == nil {
		t.Errorf("stream mapping %+v", m)
	}

	if _, err := New(s, "F", "Q", stack.Event{Type: "SQS", Properties: map[string]any{"Queue": "arn:aws:sqs:nowhere"}}, nil, env); err == nil {
		t.Error("a queue not in the template: no error")
	}
	if _, err := New(s, "F", "S", stack.Event{Type: "DynamoDB", Properties: map[string]any{
		"FilterCriteria": map[string]any{"Filters": []any{map[string]any{"Pattern": `{not json`}}}}}, nil, env); err == nil {
		t.Error("a filter that is not JSON: no error")
	}
	if p, err := New(s, "F", "K", stack.Event{Type: "Kinesis"}, nil, env); p != nil || err != nil {
		t.Errorf("Kinesis: %#v, %v", p, err)
	}
}

// function answers each invocation with answer's result, and keeps the
// payloads and trace headers it was invoked with.
type function struct {
	mu       sync.Mutex
	payloads []map[string]any
	traces   [][2]string // trace, upstream
	answer   func(payload map[string]any) (runtimeapi.Result, error)
}

func (f *function) Invoke(_ context.Context, payload []byte, trace, upstream string) (runtimeapi.Result, error) {
	var p map[string]any
	_ = json.Unmarshal(payload, &p)
	f.mu.Lock()
	f.payloads = append(f.payloads, p)
	f.traces = append(f.traces, [2]string{trace, upstream})
	f.mu.Unlock()
	return f.answer(p)
}

func result(v any) (runtimeapi.Result, error) {
	b, _ := json.Marshal(v)
	return runtimeapi.Result{Payload: b}, nil
}

func failures(ids ...string) map[string]any {
	var fs []map[string]string
	for _, id := range ids {
		fs = append(fs, map[string]string{"itemIdentifier": id})
	}
	return map[string]any{"batchItemFailures": fs}
}

// TestQueueFailures checks which messages of a batch are received again.
func TestQueueFailures(t *testing.T) {
	up := "Root=" + traceheader.NewTraceID() + ";Parent=53995c3f42cd8ad8;Sampled=1"
	msgs := []types.Message{
		{MessageId: aws.String("m1"), ReceiptHandle: aws.String("r1"), Body: aws.String("one")},
		{MessageId: aws.String("m2"), ReceiptHandle: aws.String("r2"), Body: aws.String("two"), Attributes: map[string]string{"AWSTraceHeader": up}},
	}
	tests := []struct {
		name   string
		report bool
		answer func(map[string]any) (runtimeapi.Result, error)
		want   []string
	}{
		{"success", true, func(map[string]any) (runtimeapi.Result, error) { return result(failures()) }, nil},
		{"one reported", true, func(map[string]any) (runtimeapi.Result, error) { return result(failures("m2")) }, []string{"m2"}},
		{"an unknown id fails all", true, func(map[string]any) (runtimeapi.Result, error) { return result(failures("m9")) }, []string{"m1", "m2"}},
		{"an empty id fails all", true, func(map[string]any) (runtimeapi.Result, error) { return result(failures("")) }, []string{"m1", "m2"}},
		{"not a batch response", true, func(map[string]any) (runtimeapi.Result, error) { return runtimeapi.Result{Payload: []byte(`[`)}, nil }, []string{"m1", "m2"}},
		{"reports ignored", false, func(map[string]any) (runtimeapi.Result, error) { return result(failures("m2")) }, nil},
		{"function error", false, func(map[string]any) (runtimeapi.Result, error) {
			return runtimeapi.Result{FunctionError: "Unhandled", Payload: []byte(`{}`)}, nil
		}, []string{"m1", "m2"}},
		{"invocation error", true, func(map[string]any) (runtimeapi.Result, error) { return runtimeapi.Result{}, errors.New("no instance") }, []string{"m1", "m2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := &function{answer: tt.answer}
			p := &queuePoller{m: QueueMapping{QueueARN: "arn:aws:sqs:us-east-1:000000000000:q", ReportFailures: tt.report}, fn: fn}
			var got []string
			for id := range p.invoke(context.Background(), msgs) {
				got = append(got, id)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("failed %v, want %v", got, tt.want)
			}
			recs, _ := fn.payloads[0]["Records"].([]any)
			r, _ := recs[0].(map[string]any)
			if len(recs) != 2 || r["messageId"] != "m1" || r["eventSource"] != "aws:sqs" || r["eventSourceARN"] != p.m.QueueARN ||
				r["md5OfBody"] != "f97c5d29941bfb1b2fdab0874906ab82" || r["awsRegion"] != stack.Region {
				t.Errorf("records %v", recs)
			}
			if tr := fn.traces[0]; tr[1] != up || traceheader.Root(tr[0]) != traceheader.Root(up) {
				t.Errorf("trace %q, upstream %q: want the first message's trace", tr[0], tr[1])
			}
		})
	}
}

func record(seq string, trace string) st.Record {
	img := map[string]st.AttributeValue{"pk": &st.AttributeValueMemberS{Value: "USER#" + seq}}
	if trace != "" {
		img["trace"] = &st.AttributeValueMemberS{Value: trace}
	}
	return st.Record{EventID: aws.String("e" + seq), EventName: st.OperationTypeInsert, Dynamodb: &st.StreamRecord{
		SequenceNumber: aws.String(seq), Keys: map[string]st.AttributeValue{"pk": img["pk"]}, NewImage: img,
		ApproximateCreationDateTime: aws.Time(time.Now()), SizeBytes: aws.Int64(10), StreamViewType: st.StreamViewTypeNewImage,
	}}
}

func sequences(payload map[string]any) []string {
	var out []string
	recs, _ := payload["Records"].([]any)
	for _, r := range recs {
		out = append(out, r.(map[string]any)["dynamodb"].(map[string]any)["SequenceNumber"].(string))
	}
	return out
}

// TestStreamRetries checks what Lambda retries of a failing stream batch: a
// function error bisects the batch until the poison record is alone, and a
// reported failure retries from the first failed record.
func TestStreamRetries(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	batch := []st.Record{record("1", ""), record("2", ""), record("3", ""), record("4", "")}

	bisect := &function{answer: func(p map[string]any) (runtimeapi.Result, error) {
		if slices.Contains(sequences(p), "3") {
			return runtimeapi.Result{FunctionError: "Unhandled", Payload: []byte(`{}`)}, nil
		}
		return result(failures())
	}}
	p := &streamPoller{m: StreamMapping{Function: "F", StreamARN: "arn:stream", Bisect: true, MaxRetries: 1}, fn: bisect, log: log}
	p.deliver(context.Background(), "shard-1", batch, 0)
	var got []string
	for _, pl := range bisect.payloads {
		got = append(got, strings.Join(sequences(pl), ","))
	}
	if want := []string{"1,2,3,4", "1,2", "3,4", "3", "4"}; !slices.Equal(got, want) {
		t.Errorf("bisected batches %v, want %v", got, want)
	}

	calls := 0
	partial := &function{answer: func(p map[string]any) (runtimeapi.Result, error) {
		calls++
		if calls == 1 {
			return result(failures("2", "3"))
		}
		return result(failures())
	}}
	p = &streamPoller{m: StreamMapping{Function: "F", StreamARN: "arn:stream", ReportFailures: true, MaxRetries: -1}, fn: partial, log: log}
	p.deliver(context.Background(), "shard-1", batch, 0)
	got = nil
	for _, pl := range partial.payloads {
		got = append(got, strings.Join(sequences(pl), ","))
	}
	if want := []string{"1,2,3,4", "2,3,4"}; !slices.Equal(got, want) {
		t.Errorf("retried batches %v, want %v", got, want)
	}
}

// TestStreamRecord checks the records as Lambda hands them over, and the
// trace that joins the stream function to the request that wrote the item.
func TestStreamRecord(t *testing.T) {
	r := record("7", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	r.Dynamodb.NewImage["tags"] = &st.AttributeValueMemberL{Value: []st.AttributeValue{
		&st.AttributeValueMemberN{Value: "1"}, &st.AttributeValueMemberB{Value: []byte("hi")},
		&st.AttributeValueMemberM{Value: map[string]st.AttributeValue{"ok": &st.AttributeValueMemberBOOL{Value: true}}},
	}}
	lr := lambdaRecord(r, "arn:stream")
	b, _ := json.Marshal(lr)
	for _, want := range []string{`"eventID":"e7"`, `"eventName":"INSERT"`, `"eventSource":"aws:dynamodb"`, `"eventSourceARN":"arn:stream"`,
		`"SequenceNumber":"7"`, `"Keys":{"pk":{"S":"USER#7"}}`, `"tags":{"L":[{"N":"1"},{"B":"aGk="},{"M":{"ok":{"BOOL":true}}}]}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("no %s in %s", want, b)
		}
	}
	if got := streamUpstream([]lambdaStreamRecord{lambdaRecord(record("1", ""), ""), lr}); got != "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1" {
		t.Errorf("upstream %q", got)
	}
	p := &streamPoller{m: StreamMapping{Filters: []map[string]any{{"eventName": []any{"MODIFY"}}}}}
	if p.keep(r) {
		t.Error("a filtered-out record is kept")
	}
	p.m.Filters = append(p.m.Filters, map[string]any{"dynamodb": map[string]any{"Keys": map[string]any{"pk": map[string]any{"S": []any{map[string]any{"prefix": "USER#"}}}}}})
	if !p.keep(r) {
		t.Error("a record that a filter matches is dropped")
	}
}
