package logbuf_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/usersapi/usersapi/internal/logbuf"
)

// TestConcurrentWrites: lines written at once by many goroutines arrive
// whole, through a Writer and in a Buffer (run with -race).
func TestConcurrentWrites(t *testing.T) {
	var b, tee logbuf.Buffer
	b.Tee = &tee
	w := &logbuf.Writer{W: &b}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			_, _ = w.Write([]byte(strings.Repeat(string(rune('a'+i%26)), 100) + "\n"))
			_ = b.String()
		})
	}
	wg.Wait()
	for _, got := range []string{b.String(), tee.String()} {
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if len(lines) != 50 {
			t.Fatalf("%d lines, want 50", len(lines))
		}
		for _, l := range lines {
			if len(l) != 100 || strings.Count(l, l[:1]) != 100 {
				t.Fatalf("a line interleaved: %q", l)
			}
		}
	}
}
