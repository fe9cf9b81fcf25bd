package main

import (
	"testing"

	"github.com/usersapi/usersapi/shared/apigw/apigwtest"
)

// TestUserIDFormChecksPage: GET /users?userId= checks limit and cursor as
// the list does (issue 14, finding 4): ?userId=X&limit=-5&cursor=xyz was 200.
func TestUserIDFormChecksPage(t *testing.T) {
	h, _ := newHandler(t)
	tests := []struct {
		name   string
		query  map[string]string
		status int
		fields []string
	}{
		{"limit and cursor", map[string]string{"userId": string(known), "limit": "-5", "cursor": "xyz"}, 400, []string{"limit", "cursor"}},
		{"limit 0", map[string]string{"userId": string(known), "limit": "0"}, 400, []string{"limit"}},
		{"limit 101", map[string]string{"userId": string(known), "limit": "101"}, 400, []string{"limit"}},
		{"cursor", map[string]string{"userId": string(known), "cursor": "xyz"}, 400, []string{"cursor"}},
		{"a valid limit", map[string]string{"userId": string(known), "limit": "5"}, 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := apigwtest.Call(t, h.Handle, request("GET", "/users", "/users", nil, tt.query, nil))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.status != 400 {
				return
			}
			p := apigwtest.Problem(t, resp)
			var got []string
			for _, f := range p.Errors {
				got = append(got, f.Field)
			}
			if len(got) != len(tt.fields) {
				t.Fatalf("errors %+v, want %v", p.Errors, tt.fields)
			}
			for i := range got {
				if got[i] != tt.fields[i] {
					t.Fatalf("errors %+v, want %v", p.Errors, tt.fields)
				}
			}
		})
	}
}
