package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/usersapi/usersapi/shared/queue"
	"github.com/usersapi/usersapi/shared/users"
)

var at = time.Date(2026, 11, 23, 10, 0, 0, 123000000, time.UTC)

const uid = users.ID("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b")

type fakeSQS struct {
	in  *sqs.SendMessageInput
	err error
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.in = in
	return &sqs.SendMessageOutput{}, f.err
}

func TestSenderGroupsByUser(t *testing.T) {
	f := &fakeSQS{}
	cmd := users.Command{RequestID: "req-1", Op: users.Delete, UserID: uid, AcceptedAt: at, Trace: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}
	if err := queue.NewSender(f, "https://q.fifo").Send(context.Background(), cmd); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(f.in.MessageGroupId) != string(uid) || aws.ToString(f.in.MessageDeduplicationId) != "req-1" || aws.ToString(f.in.QueueUrl) != "https://q.fifo" {
		t.Errorf("sent %+v", f.in)
	}
	if got := aws.ToString(f.in.MessageSystemAttributes["AWSTraceHeader"].StringValue); got != cmd.Trace {
		t.Errorf("AWSTraceHeader = %q", got)
	}
	f.err = errors.New("connection refused")
	if err := queue.NewSender(f, "u").Send(context.Background(), cmd); !users.IsKind(err, users.Unavailable) {
		t.Fatalf("a failed send gave %v, want Unavailable", err)
	}
}
