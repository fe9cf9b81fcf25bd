// Package logbuf holds a log that many goroutines write at once: the local
// cloud's output, which its functions, pollers and gateway share. Writer
// passes whole writes to another writer one at a time, so lines do not
// interleave; Buffer keeps them in memory for a reader that reads while they
// are written (the tests read the cloud's log while it runs).
package logbuf

import (
	"bytes"
	"io"
	"sync"
)

// Writer passes each write to W whole, one at a time.
type Writer struct {
	W  io.Writer
	mu sync.Mutex
}

// Write writes p to W, after any write in progress.
func (l *Writer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.W.Write(p)
}

// Buffer is a bytes.Buffer that is safe for concurrent use. Its zero value is
// empty and ready; a non-nil Tee also gets every write (a test log shown live).
type Buffer struct {
	Tee io.Writer
	mu  sync.Mutex
	b   bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Tee != nil {
		_, _ = s.Tee.Write(p)
	}
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
