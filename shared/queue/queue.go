// Package queue carries users.Commands over SQS FIFO: it sends each, in the
// envelope of package envelope, in its user's message group.
package queue

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/usersapi/usersapi/shared/queue/envelope"
	"github.com/usersapi/usersapi/shared/users"
)

// SendAPI is the part of the SQS client that a Sender uses.
type SendAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ SendAPI = (*sqs.Client)(nil)

// Sender sends commands to one FIFO queue.
type Sender struct {
	client SendAPI
	url    string
}

// NewSender returns a Sender to the queue at url.
func NewSender(client SendAPI, url string) *Sender { return &Sender{client: client, url: url} }

// Send enqueues cmd in its user's message group, deduplicated on its request
// id. It returns an Unavailable *users.Error when SQS does not take it.
func (s *Sender) Send(ctx context.Context, cmd users.Command) error {
	body, err := envelope.Encode(cmd)
	if err != nil {
		return err
	}
	in := &sqs.SendMessageInput{
		QueueUrl:               aws.String(s.url),
		MessageBody:            aws.String(string(body)),
		MessageGroupId:         aws.String(string(cmd.UserID)),
		MessageDeduplicationId: aws.String(cmd.RequestID),
	}
	if cmd.Trace != "" {
		in.MessageSystemAttributes = map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(cmd.Trace)},
		}
	}
	if _, err := s.client.SendMessage(ctx, in); err != nil {
		return &users.Error{Kind: users.Unavailable, Detail: "the write queue is unavailable; try again", Err: fmt.Errorf("send %s of user %s: %w", cmd.Op, cmd.UserID, err)}
	}
	return nil
}

// NewClient returns an SQS client for cfg; endpoint, when not nil, overrides AWS's.
func NewClient(cfg aws.Config, endpoint *string) *sqs.Client {
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = endpoint })
}
