package localcloud

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAPIServerTimesOutSlowBodies: the API's server gives a client a bounded
// time to send a request, body included (issue 14, finding 11: one sending a
// byte every 5 s held a connection for a minute and more).
func TestAPIServerTimesOutSlowBodies(t *testing.T) {
	srv := apiServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			return
		}
		w.WriteHeader(200)
	}))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.ReadTimeout > time.Minute {
		t.Fatalf("timeouts: headers %v, request %v", srv.ReadHeaderTimeout, srv.ReadTimeout)
	}
	srv.ReadTimeout = 300 * time.Millisecond // the rule, at a test's pace
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "POST /dev/users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for time.Since(start) < 3*time.Second {
		if _, err := io.WriteString(conn, " "); err != nil {
			break // closed: the timeout did its work
		}
		buf := make([]byte, 1)
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := conn.Read(buf); err != nil && !strings.Contains(err.Error(), "timeout") {
			break
		}
	}
	if d := time.Since(start); d >= 3*time.Second {
		t.Errorf("a client trickling its body held the connection for %v", d)
	}
}

// TestRedriveRefusesOtherSites: POST /_local/dlq/redrive takes JSON from
// this origin only, so that no page of another site can redrive with a form
// (issue 14, finding 11).
func TestRedriveRefusesOtherSites(t *testing.T) {
	h := sameOriginJSON(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"the CLI", map[string]string{"Content-Type": "application/json"}, 200},
		{"this origin's page", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:3000", "Sec-Fetch-Site": "same-origin"}, 200},
		{"a form", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"a text/plain post", map[string]string{"Content-Type": "text/plain"}, 415},
		{"no content type", nil, 415},
		{"another origin", map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, 403},
		{"another site", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403},
		{"another port", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:8080", "Sec-Fetch-Site": "same-site"}, 403},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("POST", "http://127.0.0.1:3000/_local/dlq/redrive", strings.NewReader("{}"))
		for k, v := range tt.headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, rec.Code, tt.want)
		}
	}
}
