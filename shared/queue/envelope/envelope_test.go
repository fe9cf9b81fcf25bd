package envelope_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/usersapi/usersapi/shared/queue/envelope"
	"github.com/usersapi/usersapi/shared/users"
)

func ptr[T any](v T) *T { return &v }

var at = time.Date(2026, 11, 23, 10, 0, 0, 123000000, time.UTC)

const uid = users.ID("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b")

func TestRoundTrip(t *testing.T) {
	cmds := []users.Command{
		{RequestID: "r1", Op: users.Create, UserID: uid, AcceptedAt: at, Owner: "alice", Trace: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
			Input: users.Input{Name: "Ada", Email: "ada@example.com", Phone: "5551234567", Age: 36}},
		{RequestID: "r2", Op: users.Replace, UserID: uid, AcceptedAt: at, IfMatch: 3, Input: users.Input{Name: "Ada", Email: "ada@example.com"}},
		{RequestID: "r3", Op: users.PatchOp, UserID: uid, AcceptedAt: at, Patch: users.Patch{Name: ptr("A"), Phone: ptr(""), Age: ptr(40)}},
		{RequestID: "r4", Op: users.PatchOp, UserID: uid, AcceptedAt: at, Patch: users.Patch{Age: ptr(0), Email: ptr("x@example.org")}},
		{RequestID: "r5", Op: users.PatchOp, UserID: uid, AcceptedAt: at},
		{RequestID: "r6", Op: users.Delete, UserID: uid, AcceptedAt: at, IfMatch: 7},
	}
	for _, cmd := range cmds {
		t.Run(cmd.RequestID, func(t *testing.T) {
			b, err := envelope.Encode(cmd)
			if err != nil {
				t.Fatal(err)
			}
			got, err := envelope.Decode(b)
			if err != nil {
				t.Fatalf("Decode(%s): %v", b, err)
			}
			if !reflect.DeepEqual(got, cmd) {
				t.Fatalf("round trip\n got %+v\nwant %+v", got, cmd)
			}
		})
	}
}

func TestDecodePoison(t *testing.T) {
	bodies := map[string]string{
		"not JSON":          `hello`,
		"empty":             ``,
		"future version":    `{"schemaVersion":99,"requestId":"r","op":"create","userId":"` + string(uid) + `","payload":{"name":"A","email":"a@example.com"},"acceptedAt":"2026-11-23T10:00:00Z"}`,
		"unknown op":        `{"schemaVersion":1,"requestId":"r","op":"upsert","userId":"` + string(uid) + `","acceptedAt":"2026-11-23T10:00:00Z"}`,
		"bad user id":       `{"schemaVersion":1,"requestId":"r","op":"delete","userId":"x","acceptedAt":"2026-11-23T10:00:00Z"}`,
		"no request id":     `{"schemaVersion":1,"op":"delete","userId":"` + string(uid) + `","acceptedAt":"2026-11-23T10:00:00Z"}`,
		"invalid payload":   `{"schemaVersion":1,"requestId":"r","op":"create","userId":"` + string(uid) + `","payload":{"name":"","email":"a@example.com"},"acceptedAt":"2026-11-23T10:00:00Z"}`,
		"unknown field":     `{"schemaVersion":1,"requestId":"r","op":"create","userId":"` + string(uid) + `","payload":{"name":"A","email":"a@example.com","admin":true},"acceptedAt":"2026-11-23T10:00:00Z"}`,
		"null name patch":   `{"schemaVersion":1,"requestId":"r","op":"patch","userId":"` + string(uid) + `","payload":{"name":null},"acceptedAt":"2026-11-23T10:00:00Z"}`,
		"delete w/ payload": `{"schemaVersion":1,"requestId":"r","op":"delete","userId":"` + string(uid) + `","payload":{"name":"A"},"acceptedAt":"2026-11-23T10:00:00Z"}`,
		"trailing data":     `{"schemaVersion":1,"requestId":"r","op":"delete","userId":"` + string(uid) + `","acceptedAt":"2026-11-23T10:00:00Z"} {}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			if _, err := envelope.Decode([]byte(body)); !users.IsKind(err, users.Invalid) {
				t.Fatalf("Decode = %v, want an Invalid error", err)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	body, err := envelope.Encode(users.Command{RequestID: "r1", Op: users.Create, UserID: uid, AcceptedAt: at, Input: users.Input{Name: "Ada", Email: "ada@example.com", Phone: "5551234567", Age: 36}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := envelope.Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecode: whatever sits in the queue, Decode never panics, and what it
// accepts survives a round trip unchanged.
func FuzzDecode(f *testing.F) {
	body, _ := envelope.Encode(users.Command{RequestID: "r1", Op: users.Create, UserID: uid, AcceptedAt: at, Input: users.Input{Name: "Ada", Email: "ada@example.com"}})
	f.Add(body)
	f.Add([]byte(`{"schemaVersion":1,"requestId":"r","op":"patch","userId":"` + string(uid) + `","payload":{"age":null},"acceptedAt":"2026-11-23T10:00:00Z"}`))
	f.Add([]byte(`{"schemaVersion":99}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cmd, err := envelope.Decode(b)
		if err != nil {
			return
		}
		again, err := envelope.Encode(cmd)
		if err != nil {
			t.Fatalf("decoded %+v, which does not encode: %v", cmd, err)
		}
		back, err := envelope.Decode(again)
		if err != nil || !reflect.DeepEqual(back, cmd) {
			t.Fatalf("round trip of %s: %+v, %v; want %+v", again, back, err, cmd)
		}
	})
}

// TestEncodeForSQS: a body holds only what SQS accepts in a message
// (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF), whatever the
// command carries, and decodes to the very command (issue 14, finding 1).
func TestEncodeForSQS(t *testing.T) {
	cmd := users.Command{RequestID: "r\uffff1", Op: users.Create, UserID: uid, AcceptedAt: at, Owner: "al\ufffeice\u0000\x7f\u0085",
		Trace: "Root=\uffff", Input: users.Input{Name: "Ada 😀", Email: "ada@example.com"}}
	b, err := envelope.Encode(cmd)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range string(b) {
		if !(r == 0x9 || r == 0xa || r == 0xd || r >= 0x20 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff) {
			t.Fatalf("body holds %U at %d, which SQS refuses: %s", r, i, b)
		}
	}
	got, err := envelope.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cmd) {
		t.Errorf("decoded %+v, want %+v", got, cmd)
	}
}
