package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usersapi/usersapi/shared/apigw"
	"github.com/usersapi/usersapi/shared/trace"
	"github.com/usersapi/usersapi/shared/users"
)

func scratchSetup(b *testing.B) (*handler, events.APIGatewayProxyRequest) {
	raw := benchEvent(b)
	h, m := newHandler(b)
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		b.Fatal(err)
	}
	id := users.ID(req.PathParameters["id"])
	m.users[id] = users.User{ID: id, Name: "Ada Lovelace", Email: "ada@example.com", Phone: "5551234567", Age: 36, Version: 3}
	return h, req
}

func BenchmarkZHandleOnly(b *testing.B) {
	h, req := scratchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h.Handle(ctx, req)
	}
}
func BenchmarkZMarshalResp(b *testing.B) {
	h, req := scratchSetup(b)
	resp, _ := h.Handle(context.Background(), req)
	b.ReportAllocs()
	for b.Loop() {
		json.Marshal(resp)
	}
}
func BenchmarkZCapture(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		trace.Capture(ctx, "x", func(context.Context) error { return nil }, "user_id", "abc")
	}
}
func BenchmarkZParseID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		users.ParseID("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b")
	}
}
func BenchmarkZHeader(b *testing.B) {
	_, req := scratchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		apigw.Header(&req, "If-None-Match")
	}
}
func BenchmarkZJSON(b *testing.B) {
	u := users.User{ID: "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", Name: "Ada Lovelace", Email: "ada@example.com", Phone: "5551234567", Age: 36, Version: 3}
	b.ReportAllocs()
	for b.Loop() {
		apigw.JSON(200, u)
	}
}

func BenchmarkZMarshalHeaders(b *testing.B) {
	h, req := scratchSetup(b)
	resp, _ := h.Handle(context.Background(), req)
	b.ReportAllocs()
	for b.Loop() {
		json.Marshal(resp.Headers)
	}
}
func BenchmarkZMarshalBody(b *testing.B) {
	h, req := scratchSetup(b)
	resp, _ := h.Handle(context.Background(), req)
	b.ReportAllocs()
	for b.Loop() {
		json.Marshal(resp.Body)
	}
}
