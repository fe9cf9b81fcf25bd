package eventbridge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/usersapi/usersapi/internal/stack"
)

// client returns an SDK client of the bus, as the stream function has one.
func client(t *testing.T, b *Bus) *eventbridge.Client {
	t.Helper()
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return eventbridge.New(eventbridge.Options{Region: stack.Region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

func TestPutEvents(t *testing.T) {
	rules := []Rule{
		{Name: "UserEvents", Bus: "users", Pattern: map[string]any{"source": []any{"usersapi"}, "detail-type": []any{"UserCreated", "UserDeleted"}}},
		{Name: "Everything", Bus: "users", Pattern: map[string]any{}},
		{Name: "OnDefault", Bus: "default", Pattern: map[string]any{}},
	}
	b := NewBus(rules)
	live, stop := b.Subscribe()
	defer stop()
	out, err := client(t, b).PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("usersapi"), DetailType: aws.String("UserCreated"), Detail: aws.String(`{"id":"u1"}`),
			EventBusName: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/users"), TraceHeader: aws.String("Root=1-2-3")},
		{Source: aws.String("usersapi"), DetailType: aws.String("UserUpdated"), Detail: aws.String(`{"id":"u1"}`), EventBusName: aws.String("users")},
		{Source: aws.String("usersapi"), DetailType: aws.String("UserDeleted"), Detail: aws.String(`not json`), EventBusName: aws.String("users")},
		{Source: aws.String("other"), DetailType: aws.String("Ping"), Detail: aws.String(`{}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 1 || aws.ToString(out.Entries[2].ErrorCode) != "MalformedDetail" || aws.ToString(out.Entries[0].EventId) == "" {
		t.Fatalf("PutEvents: %d failed, entries %+v", out.FailedEntryCount, out.Entries)
	}

	evs := b.Events()
	if len(evs) != 3 {
		t.Fatalf("%d events kept, want 3", len(evs))
	}
	wantRules := [][]string{{"UserEvents", "Everything"}, {"Everything"}, {"OnDefault"}}
	wantBus := []string{"users", "users", "default"}
	entry := []int{0, 1, 3} // the entry each event was put as
	for i, e := range evs {
		if !slices.Equal(e.Rules, wantRules[i]) || e.Bus != wantBus[i] {
			t.Errorf("event %d (%s) on %s matched %v, want %v on %s", i, e.DetailType, e.Bus, e.Rules, wantRules[i], wantBus[i])
		}
		if e.ID != aws.ToString(out.Entries[entry[i]].EventId) || e.Account != stack.Account || e.Region != stack.Region ||
			e.Version != "0" || e.Resources == nil || e.Time.IsZero() || time.Since(e.Received) > time.Minute {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	if evs[0].Trace != "Root=1-2-3" || string(evs[0].Detail) != `{"id":"u1"}` {
		t.Errorf("first event %+v", evs[0])
	}
	for i := range 3 {
		select {
		case e := <-live:
			if e.ID != evs[i].ID {
				t.Errorf("subscriber got %s, want %s", e.ID, evs[i].ID)
			}
		case <-time.After(time.Second):
			t.Fatal("the subscriber got nothing")
		}
	}
}

func TestPutEventsRefuses(t *testing.T) {
	b := NewBus(nil)
	entries := make([]types.PutEventsRequestEntry, 11)
	for i := range entries {
		entries[i] = types.PutEventsRequestEntry{Source: aws.String("usersapi"), DetailType: aws.String("UserCreated"), Detail: aws.String("{}")}
	}
	_, err := client(t, b).PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
		t.Errorf("11 entries: %v", err)
	}
	for target, want := range map[string]string{
		"AWSEvents.ListRules": "UnknownOperationException",
		"AWSEvents.PutEvents": "ValidationException", // not JSON
	} {
		req := httptest.NewRequest("POST", "/", strings.NewReader("{"))
		req.Header.Set("X-Amz-Target", target)
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || rec.Header().Get("X-Amzn-ErrorType") != want {
			t.Errorf("%s: %d %v", target, rec.Code, rec.Header())
		}
	}
	if len(b.Events()) != 0 {
		t.Errorf("events kept: %+v", b.Events())
	}
}

func TestRules(t *testing.T) {
	s, err := stack.Load("../../template.yaml", map[string]any{"Stage": "dev"})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := Rules(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != len(s.IDs("AWS::Events::Rule")) || len(rules) == 0 {
		t.Fatalf("rules %+v", rules)
	}
	for _, r := range rules {
		if r.Bus != s.Resources["UsersBus"].Ref || len(r.Targets) == 0 || r.Pattern["source"] == nil {
			t.Errorf("rule %+v", r)
		}
	}
}
