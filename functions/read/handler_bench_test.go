package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/users"
)

// The read handler's overhead on a realistic REST proxy event (events/get-user.json,
// about 1.6 KB): BenchmarkHandler decodes the event, routes, validates the id,
// reads (from memory), and encodes the response; BenchmarkBaselineDecode only
// decodes the same event with encoding/json. `make bench` prints their ratio.

func benchEvent(b *testing.B) []byte {
	raw, err := os.ReadFile("../../events/get-user.json")
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// benchHandler returns the handler with the event's user in its memory store.
func benchHandler(b *testing.B, raw []byte) *handler {
	h, m := newHandler(b)
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		b.Fatal(err)
	}
	id := users.ID(req.PathParameters["id"])
	m.users[id] = users.User{ID: id, Name: "Ada Lovelace", Email: "ada@example.com", Phone: "5551234567", Age: 36, Version: 3, Owner: "alice"}
	return h
}

func BenchmarkBaselineDecode(b *testing.B) {
	raw := benchEvent(b)
	b.ReportAllocs()
	for b.Loop() {
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandler(b *testing.B) {
	raw := benchEvent(b)
	h := benchHandler(b, raw)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		handleOnce(ctx, b, h, raw)
	}
}

// handleOnce is one full run of the handler on raw: decode, Handle, encode.
func handleOnce(ctx context.Context, b *testing.B, h *handler, raw []byte) {
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		b.Fatal(err)
	}
	resp, err := h.Handle(ctx, req)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("%d %v", resp.StatusCode, err)
	}
	if _, err := json.Marshal(resp); err != nil {
		b.Fatal(err)
	}
}
