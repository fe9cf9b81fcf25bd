package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usersapi/usersapi/client"
)

// fast retries and polls, so that the tests take milliseconds unless a
// Retry-After says otherwise.
var fast = []client.Option{
	client.WithRetry(client.Retry{Attempts: 5, Budget: 5 * time.Second, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}),
	client.WithPoll(client.Poll{First: time.Millisecond, Max: 5 * time.Millisecond}),
}

// recorded is one request a test server got.
type recorded struct {
	method, path, query string
	header              http.Header
	body                string
}

// server answers each request with the next of answers (the last one again
// when they run out) and records the requests.
type server struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter, r *http.Request)
	got     []recorded
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.got = append(s.got, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
	a := s.answers[min(len(s.got), len(s.answers))-1]
	s.mu.Unlock()
	a(w, r)
}

func (s *server) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.got...)
}

func start(t *testing.T, answers ...func(w http.ResponseWriter, r *http.Request)) (*server, *client.Client) {
	t.Helper()
	s := &server{answers: answers}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	c, err := client.New(ts.URL+"/dev", append([]client.Option{client.WithAPIKey("k"), client.WithTokenSource(client.StaticToken("tok"))}, fast...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func status(code int, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"type":"https://usersapi.dev/problems/%s","title":%q,"status":%d}`, slug(code), http.StatusText(code), code)
	}
}

func slug(code int) string {
	switch code {
	case 409:
		return "conflict"
	case 429:
		return "too-many-requests"
	case 503:
		return "unavailable"
	}
	return "internal"
}

func jsonAnswer(code int, body string, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

const (
	uid      = "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"
	accepted = `{"requestId":"R1","userId":"` + uid + `","status":"pending"}`
)

func userJSON(version int) string {
	return fmt.Sprintf(`{"id":%q,"name":"Ada","email":"ada@example.com","version":%d,"createdAt":"2025-01-01T00:00:00Z","updatedAt":"2025-01-01T00:00:00Z"}`, uid, version)
}

// hangUp closes the connection without an answer: a network error.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestWritesRetryTransientFailuresWithOneKey(t *testing.T) {
	tests := []struct {
		name  string
		first func(http.ResponseWriter, *http.Request)
	}{
		{"429", status(429)},
		{"503", status(503)},
		{"500", status(500)},
		{"502 from the gateway", status(502)},
		{"504 not JSON", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(504) }},
		{"network error", hangUp},
		{"409 while the key's first attempt is accepted", status(409)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := start(t, tt.first, tt.first, jsonAnswer(202, accepted, "Location", "/dev/requests/R1"))
			w, err := c.CreateUser(t.Context(), client.UserInput{Name: "Ada", Email: "ada@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if w.RequestID != "R1" || w.UserID != uid || w.Location != "/dev/requests/R1" {
				t.Errorf("write %+v", w)
			}
			got := s.requests()
			if len(got) != 3 {
				t.Fatalf("%d attempts, want 3", len(got))
			}
			key := got[0].header.Get("Idempotency-Key")
			for _, r := range got {
				if r.header.Get("Idempotency-Key") != key || key == "" || r.body != `{"name":"Ada","email":"ada@example.com"}` {
					t.Errorf("attempt with key %q body %s; want every attempt the same, with a key", r.header.Get("Idempotency-Key"), r.body)
				}
			}
			if w.IdempotencyKey != key {
				t.Errorf("Write.IdempotencyKey %q, sent %q", w.IdempotencyKey, key)
			}
		})
	}
}

func TestEachWriteHasItsOwnKey(t *testing.T) {
	s, c := start(t, jsonAnswer(202, accepted))
	for range 2 {
		if _, err := c.DeleteUser(t.Context(), uid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteUser(t.Context(), uid, client.IdempotencyKey("mine")); err != nil {
		t.Fatal(err)
	}
	got := s.requests()
	if a, b := got[0].header.Get("Idempotency-Key"), got[1].header.Get("Idempotency-Key"); a == b || len(a) < 16 {
		t.Errorf("two writes sent keys %q and %q", a, b)
	}
	if k := got[2].header.Get("Idempotency-Key"); k != "mine" {
		t.Errorf("IdempotencyKey(mine) sent %q", k)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	for _, code := range []int{400, 403, 404, 412, 422} {
		s, c := start(t, status(code))
		_, err := c.ReplaceUser(t.Context(), uid, client.UserInput{Name: "A", Email: "a@example.com"})
		var p *client.Problem
		if !errors.As(err, &p) || p.Status != code {
			t.Errorf("%d: err %v", code, err)
		}
		if n := len(s.requests()); n != 1 {
			t.Errorf("%d: %d attempts, want 1", code, n)
		}
	}
	// 409 is retried only for a write (the key's first attempt in progress).
	s, c := start(t, status(409))
	if _, err := c.GetUser(t.Context(), uid); err == nil || len(s.requests()) != 1 {
		t.Errorf("GET answered 409: %v after %d attempts", err, len(s.requests()))
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	for _, ra := range []string{"1", time.Now().Add(2500 * time.Millisecond).UTC().Format(http.TimeFormat)} {
		s, c := start(t, status(429, "Retry-After", ra), jsonAnswer(200, userJSON(1)))
		begin := time.Now()
		if _, err := c.GetUser(t.Context(), uid); err != nil {
			t.Fatal(err)
		}
		// An HTTP date has a resolution of a second, and the first case took one.
		if d := time.Since(begin); d < 500*time.Millisecond {
			t.Errorf("Retry-After %s: retried after %s", ra, d)
		}
		if n := len(s.requests()); n != 2 {
			t.Errorf("%d attempts", n)
		}
	}
}

func TestRetryBudget(t *testing.T) {
	// A Retry-After beyond the budget: no retry, the problem at once.
	s, c := start(t, status(503, "Retry-After", "60"))
	begin := time.Now()
	_, err := c.GetUser(t.Context(), uid)
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != 503 || time.Since(begin) > time.Second || len(s.requests()) != 1 {
		t.Errorf("err %v after %s and %d attempts", err, time.Since(begin), len(s.requests()))
	}
	// Failures without end: Attempts tries, then the last problem.
	s, c = start(t, status(500))
	_, err = c.GetUser(t.Context(), uid)
	if !errors.As(err, &p) || p.Status != 500 || len(s.requests()) != 5 {
		t.Errorf("err %v after %d attempts, want 5", err, len(s.requests()))
	}
	// A cancelled context stops the retries.
	_, c = start(t, status(503, "Retry-After", "2"))
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	begin = time.Now()
	if _, err := c.GetUser(ctx, uid); err == nil || time.Since(begin) > time.Second {
		t.Errorf("err %v after %s", err, time.Since(begin))
	}
}

func TestProblemDecoding(t *testing.T) {
	_, c := start(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"type":"https://usersapi.dev/problems/invalid","title":"Bad Request","status":400,"detail":"the body is not valid",`+
			`"instance":"abc","errors":[{"field":"age","reason":"must be at least 18"},{"field":"email","reason":"must not be empty"}]}`)
	})
	_, err := c.CreateUser(t.Context(), client.UserInput{Name: "A", Age: 17})
	var p *client.Problem
	if !errors.As(err, &p) {
		t.Fatalf("err %T %v", err, err)
	}
	want := client.Problem{Type: client.ProblemBase + "invalid", Title: "Bad Request", Status: 400, Detail: "the body is not valid", Instance: "abc",
		Errors: []client.FieldError{{Field: "age", Reason: "must be at least 18"}, {Field: "email", Reason: "must not be empty"}}}
	if fmt.Sprint(*p) != fmt.Sprint(want) || p.Kind() != client.KindInvalid {
		t.Errorf("problem %+v", *p)
	}
	if got := err.Error(); got != "usersapi: 400 invalid: the body is not valid (age must be at least 18; email must not be empty)" {
		t.Errorf("Error() = %q", got)
	}

	// An answer that is not problem+json still becomes a *Problem.
	_, c = start(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) })
	_, err = c.GetUser(t.Context(), uid)
	if !errors.As(err, &p) || p.Status != 404 || p.Title != "Not Found" {
		t.Errorf("err %v", err)
	}
}

func TestHeaders(t *testing.T) {
	s, c := start(t, jsonAnswer(202, accepted))
	u := client.User{ID: uid, Version: 3}
	if _, err := c.PatchUser(t.Context(), uid, client.UserPatch{Phone: client.String(""), Age: client.Int(40)}, client.IfUnmodified(u), client.PreferWait(5)); err != nil {
		t.Fatal(err)
	}
	r := s.requests()[0]
	for h, want := range map[string]string{"If-Match": `"3"`, "X-Api-Key": "k", "Authorization": "Bearer tok",
		"Content-Type": "application/merge-patch+json", "Prefer": "wait=5"} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if r.method != "PATCH" || r.path != "/dev/users/"+uid || r.body != `{"age":40,"phone":null}` {
		t.Errorf("%s %s %s", r.method, r.path, r.body)
	}
}

func TestListUsersPages(t *testing.T) {
	page := func(cursor string, ids ...int) string {
		var items []string
		for _, v := range ids {
			items = append(items, userJSON(v))
		}
		next := ""
		if cursor != "" {
			next = `,"nextCursor":"` + cursor + `"`
		}
		return `{"items":[` + strings.Join(items, ",") + `]` + next + `}`
	}
	pages := map[string]string{"": page("c1", 1, 2), "c1": page("c2", 3, 4), "c2": page("", 5)}
	s, c := start(t, func(w http.ResponseWriter, r *http.Request) {
		jsonAnswer(200, pages[r.URL.Query().Get("cursor")])(w, r)
	})
	var got []int64
	for u, err := range c.ListUsers(t.Context(), 2) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u.Version)
	}
	if fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Errorf("listed %v", got)
	}
	reqs := s.requests()
	if len(reqs) != 3 || reqs[0].query != "limit=2" || reqs[1].query != "cursor=c1&limit=2" {
		t.Errorf("requests %+v", reqs)
	}
	// Breaking out of the loop reads no further page.
	n := len(s.requests())
	for _, err := range c.ListUsers(t.Context(), 2) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if len(s.requests()) != n+1 {
		t.Errorf("a loop broken after one user read %d pages", len(s.requests())-n)
	}
	// A failed page ends the sequence with its error.
	_, c = start(t, jsonAnswer(200, page("c1", 1)), status(403))
	var errs []error
	count := 0
	for _, err := range c.ListUsers(t.Context(), 0) {
		count++
		if err != nil {
			errs = append(errs, err)
		}
	}
	var p *client.Problem
	if count != 2 || len(errs) != 1 || !errors.As(errs[0], &p) || p.Status != 403 {
		t.Errorf("%d values, errors %v", count, errs)
	}
}

func TestWait(t *testing.T) {
	pending := `{"requestId":"R1","userId":"` + uid + `","operation":"create","status":"pending","acceptedAt":"2025-01-01T00:00:00Z"}`
	succeeded := `{"requestId":"R1","userId":"` + uid + `","operation":"create","status":"succeeded","version":2,"acceptedAt":"2025-01-01T00:00:00Z","completedAt":"2025-01-01T00:00:01Z"}`
	failed := `{"requestId":"R1","userId":"` + uid + `","operation":"replace","status":"failed","acceptedAt":"2025-01-01T00:00:00Z","completedAt":"2025-01-01T00:00:01Z",` +
		`"error":{"type":"https://usersapi.dev/problems/precondition-failed","title":"Precondition Failed","status":412,"detail":"the user has another version"}}`

	t.Run("succeeded", func(t *testing.T) {
		s, c := start(t, jsonAnswer(202, accepted), jsonAnswer(200, pending, "Retry-After", "1"), jsonAnswer(200, pending), status(503),
			jsonAnswer(200, succeeded), jsonAnswer(200, userJSON(1)), jsonAnswer(200, userJSON(2)))
		w, err := c.CreateUser(t.Context(), client.UserInput{Name: "Ada", Email: "ada@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		u, err := w.Wait(t.Context())
		if err != nil || u.Version != 2 || u.ETag() != `"2"` {
			t.Fatalf("Wait = %+v, %v", u, err)
		}
		if time.Since(begin) < time.Second {
			t.Errorf("the first poll's Retry-After: 1 was not honoured (%s)", time.Since(begin))
		}
		var paths []string
		for _, r := range s.requests() {
			paths = append(paths, r.method+" "+r.path)
		}
		want := "POST /dev/users,GET /dev/requests/R1,GET /dev/requests/R1,GET /dev/requests/R1,GET /dev/requests/R1,GET /dev/users/" + uid + ",GET /dev/users/" + uid
		if strings.Join(paths, ",") != want {
			t.Errorf("requests\n%s\nwant\n%s", strings.Join(paths, ","), want)
		}
		if u2, err := w.Wait(t.Context()); err != nil || u2 != u {
			t.Errorf("a second Wait: %v %v", u2, err)
		}
	})
	t.Run("failed", func(t *testing.T) {
		_, c := start(t, jsonAnswer(202, accepted), jsonAnswer(200, failed))
		w, err := c.ReplaceUser(t.Context(), uid, client.UserInput{Name: "Ada", Email: "ada@example.com"}, client.IfMatch(`"1"`))
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.Wait(t.Context())
		var p *client.Problem
		if !errors.As(err, &p) || p.Kind() != client.KindPreconditionFailed || p.Status != 412 {
			t.Fatalf("Wait: %v", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		s, c := start(t, jsonAnswer(202, accepted), jsonAnswer(200, strings.Replace(succeeded, "create", "delete", 1)))
		w, err := c.DeleteUser(t.Context(), uid)
		if err != nil {
			t.Fatal(err)
		}
		if u, err := w.Wait(t.Context()); err != nil || u != (client.User{}) || len(s.requests()) != 2 {
			t.Fatalf("Wait = %+v, %v after %d requests", u, err, len(s.requests()))
		}
	})
	t.Run("answered once applied", func(t *testing.T) {
		s, c := start(t, jsonAnswer(201, userJSON(1), "ETag", `"1"`))
		w, err := c.CreateUser(t.Context(), client.UserInput{Name: "Ada", Email: "ada@example.com"}, client.PreferWait(10))
		if err != nil {
			t.Fatal(err)
		}
		if u, err := w.Wait(t.Context()); err != nil || u.Version != 1 || len(s.requests()) != 1 {
			t.Fatalf("Wait = %+v, %v after %d requests", u, err, len(s.requests()))
		}
	})
	t.Run("context done", func(t *testing.T) {
		_, c := start(t, jsonAnswer(202, accepted), jsonAnswer(200, pending))
		w, err := c.CreateUser(t.Context(), client.UserInput{Name: "Ada", Email: "ada@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if _, err := w.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait: %v", err)
		}
	})
}

func TestRefreshUser(t *testing.T) {
	s, c := start(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"1"` {
			w.Header().Set("ETag", `"1"`)
			w.WriteHeader(304)
			return
		}
		jsonAnswer(200, userJSON(2), "ETag", `"2"`)(w, r)
	})
	u := client.User{ID: uid, Version: 1, Name: "cached"}
	if got, changed, err := c.RefreshUser(t.Context(), u); err != nil || changed || got != u {
		t.Errorf("304: %+v %v %v", got, changed, err)
	}
	u.Version = 5
	if got, changed, err := c.RefreshUser(t.Context(), u); err != nil || !changed || got.Version != 2 {
		t.Errorf("200: %+v %v %v", got, changed, err)
	}
	if n := len(s.requests()); n != 2 {
		t.Errorf("%d requests", n)
	}
}

func TestUserPatchJSON(t *testing.T) {
	tests := []struct {
		patch client.UserPatch
		want  string
	}{
		{client.UserPatch{}, `{}`},
		{client.UserPatch{Name: client.String("A"), Email: client.String("a@example.com")}, `{"email":"a@example.com","name":"A"}`},
		{client.UserPatch{Phone: client.String("0123456789"), Age: client.Int(0)}, `{"age":null,"phone":"0123456789"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.patch)
		if err != nil || string(b) != tt.want {
			t.Errorf("%+v: %s %v, want %s", tt.patch, b, err, tt.want)
		}
	}
}

func TestNewRefusesABadURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:3000/dev", "ftp://x/dev", "http://"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
}
