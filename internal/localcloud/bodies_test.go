package localcloud_test

import (
	"testing"

	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestBadUTF8IsRefused: bytes that are not UTF-8 reach ingest unchanged, and
// it refuses them (issue 14, finding 7: the local gateway replaced them with
// U+FFFD, and the user was stored as "Alice�").
func TestBadUTF8IsRefused(t *testing.T) {
	c := cloudtest.Cloud(t)
	for _, tt := range []struct {
		name, body, ct string
		want           int
	}{
		{"a broken sequence", "{\"name\":\"Alice\xc3\x28\",\"email\":\"" + email() + "\"}", "application/json", 400},
		{"Latin-1 as JSON", "{\"name\":\"Jos\xe9\",\"email\":\"" + email() + "\"}", "application/json", 400},
		{"Latin-1 declared", "{\"name\":\"Jos\xe9\",\"email\":\"" + email() + "\"}", "application/json; charset=latin1", 415},
	} {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, do(t, c, "POST", "/users", tt.body, "Content-Type", tt.ct), tt.want)
		})
	}
}
