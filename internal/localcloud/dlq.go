package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// DeadLetter is a message parked in a dead-letter queue.
type DeadLetter struct {
	Queue        string `json:"queue"`  // the dead-letter queue's logical id
	Source       string `json:"source"` // the queue it came from
	MessageID    string `json:"messageId"`
	GroupID      string `json:"groupId,omitempty"`
	ReceiveCount string `json:"receiveCount"` // receives before it was parked, as SQS counts them
	Body         string `json:"body"`
	// FirstFailure is when the message was first received, as SQS keeps it
	// (ApproximateFirstReceiveTimestamp): the attempt that began its failures.
	FirstFailure time.Time `json:"firstFailure,omitzero"`
}

// deadLetterQueues maps each dead-letter queue of the template (by logical id)
// to the queue whose redrive policy names it.
func (c *Cloud) deadLetterQueues() map[string]string {
	out := map[string]string{}
	for _, src := range c.Stack.IDs("AWS::SQS::Queue") {
		var p struct{ RedrivePolicy map[string]any }
		if c.Stack.Decode(src, &p) != nil || p.RedrivePolicy == nil {
			continue
		}
		if id, dlq := c.Stack.ByAttr("Arn", fmt.Sprint(p.RedrivePolicy["deadLetterTargetArn"])); dlq != nil {
			out[id] = src
		}
	}
	return out
}

// DeadLetters lists the messages in the dead-letter queues, leaving them there.
func (c *Cloud) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	var out []DeadLetter
	type held struct{ url, receipt string }
	var toRelease []held
	err := c.eachDeadLetter(ctx, func(dl DeadLetter, m types.Message, dlqURL, _ string) error {
		out = append(out, dl)
		toRelease = append(toRelease, held{dlqURL, aws.ToString(m.ReceiptHandle)})
		return nil
	})
	// Make them visible again, once all are listed.
	for _, h := range toRelease {
		_, _ = c.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(h.url), ReceiptHandle: aws.String(h.receipt)})
	}
	return out, err
}

// Redrive moves every dead letter back to its source queue, in its message
// group, as the SQS console's DLQ redrive (StartMessageMoveTask) does on AWS;
// neither local SQS emulator moves FIFO messages itself.
func (c *Cloud) Redrive(ctx context.Context) (int, error) {
	n := 0
	err := c.eachDeadLetter(ctx, func(dl DeadLetter, m types.Message, dlqURL, srcURL string) error {
		in := &sqs.SendMessageInput{QueueUrl: aws.String(srcURL), MessageBody: m.Body, MessageAttributes: m.MessageAttributes}
		if dl.GroupID != "" {
			// A new deduplication id: the original one may still be remembered.
			in.MessageGroupId, in.MessageDeduplicationId = aws.String(dl.GroupID), aws.String("redrive-"+dl.MessageID)
		}
		if t := m.Attributes["AWSTraceHeader"]; t != "" {
			in.MessageSystemAttributes = map[string]types.MessageSystemAttributeValue{"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(t)}}
		}
		if _, err := c.SQS.SendMessage(ctx, in); err != nil {
			return err
		}
		n++
		_, err := c.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(dlqURL), ReceiptHandle: m.ReceiptHandle})
		return err
	})
	return n, err
}

// eachDeadLetter receives every message of every dead-letter queue once (each
// stays invisible until fn changes that) and calls fn with it.
func (c *Cloud) eachDeadLetter(ctx context.Context, fn func(DeadLetter, types.Message, string, string) error) error {
	for dlqID, srcID := range c.deadLetterQueues() {
		dlqURL, srcURL := c.Stack.Resources[dlqID].Attr["QueueUrl"], c.Stack.Resources[srcID].Attr["QueueUrl"]
		seen := map[string]bool{}
		for {
			out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10,
				VisibilityTimeout: 30, MessageAttributeNames: []string{"All"},
				MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
			if err != nil {
				return fmt.Errorf("receive from %s: %w", dlqID, err)
			}
			fresh := 0
			for _, m := range out.Messages {
				if seen[aws.ToString(m.MessageId)] {
					continue
				}
				seen[aws.ToString(m.MessageId)] = true
				fresh++
				dl := DeadLetter{Queue: dlqID, Source: srcID, MessageID: aws.ToString(m.MessageId), GroupID: m.Attributes["MessageGroupId"],
					ReceiveCount: m.Attributes["ApproximateReceiveCount"], Body: aws.ToString(m.Body)}
				if ms, err := strconv.ParseInt(m.Attributes["ApproximateFirstReceiveTimestamp"], 10, 64); err == nil {
					dl.FirstFailure = time.UnixMilli(ms).UTC()
				}
				if err := fn(dl, m, dlqURL, srcURL); err != nil {
					return err
				}
			}
			if fresh == 0 {
				break
			}
		}
	}
	return nil
}

// sameOriginJSON refuses a request that a page of another site could have
// made: a form's content type (only application/json is taken, which a
// browser sends across sites only after a preflight that nothing here
// answers), or an Origin or Sec-Fetch-Site that names another site.
func sameOriginJSON(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		site := r.Header.Get("Sec-Fetch-Site")
		origin := r.Header.Get("Origin")
		switch {
		case mt != "application/json":
			http.Error(w, "send Content-Type: application/json", http.StatusUnsupportedMediaType)
		case site != "" && site != "same-origin" && site != "none",
			origin != "" && origin != "http://"+r.Host:
			http.Error(w, "refused: the request comes from another site", http.StatusForbidden)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

func (c *Cloud) handleDLQ(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/redrive") {
		n, err := c.Redrive(r.Context())
		if err != nil {
			http.Error(w, `{"error":`+quote(err.Error())+`}`, http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]int{"redriven": n})
		return
	}
	dls, err := c.DeadLetters(r.Context())
	if err != nil {
		http.Error(w, `{"error":`+quote(err.Error())+`}`, http.StatusBadGateway)
		return
	}
	if dls == nil {
		dls = []DeadLetter{}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"messages": dls})
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
