package client

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Client calls one stage of the API. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	apiKey string
	token  TokenSource
	http   *http.Client
	retry  Retry
	poll   Poll
}

// TokenSource returns the bearer token for a request (without "Bearer "),
// such as a cached client-credentials token from the stack's user pool.
type TokenSource func(ctx context.Context) (string, error)

// StaticToken returns a TokenSource that always returns token.
func StaticToken(token string) TokenSource {
	return func(context.Context) (string, error) { return token, nil }
}

// Retry bounds the retries of one call: at most Attempts tries in all, none
// started more than Budget after the first. The wait before a retry is the
// server's Retry-After when it sent one (a retry it asks for beyond the
// budget is not made), otherwise a random duration up to BaseDelay doubled
// for each try so far, at most MaxDelay ("full jitter").
type Retry struct {
	Attempts  int
	Budget    time.Duration
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// DefaultRetry is the Retry a Client has unless WithRetry sets another.
var DefaultRetry = Retry{Attempts: 6, Budget: 30 * time.Second, BaseDelay: 100 * time.Millisecond, MaxDelay: 5 * time.Second}

// Poll sets how Write.Wait polls a pending request: after a random duration
// up to First, doubled after each poll, at most Max; or after the server's
// Retry-After when it sends one.
type Poll struct {
	First time.Duration
	Max   time.Duration
}

// DefaultPoll is the Poll a Client has unless WithPoll sets another.
var DefaultPoll = Poll{First: 50 * time.Millisecond, Max: 2 * time.Second}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sends key as the x-api-key header of every request.
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = key } }

// WithTokenSource sends a bearer token from src in every request's
// Authorization header; src is called for every attempt.
func WithTokenSource(src TokenSource) Option { return func(c *Client) { c.token = src } }

// WithHTTPClient makes requests with hc instead of http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithRetry sets the retries of every call.
func WithRetry(r Retry) Option { return func(c *Client) { c.retry = r } }

// WithPoll sets how Write.Wait polls.
func WithPoll(p Poll) Option { return func(c *Client) { c.poll = p } }

// New returns a Client of the stage at baseURL, such as
// "https://0123456789.execute-api.us-east-1.amazonaws.com/dev" or, under
// make run, "http://127.0.0.1:3000/dev".
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("usersapi: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("usersapi: base URL %q: want http(s)://host/stage", baseURL)
	}
	c := &Client{base: u, http: http.DefaultClient, retry: DefaultRetry, poll: DefaultPoll}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// request is one call, which do may send several times.
type request struct {
	method  string
	path    string // under the base URL, with its query
	body    []byte
	ctype   string
	header  http.Header
	retry   bool // a write with an Idempotency-Key, or a safe method
	idemKey bool // a 409 conflict (the key's first attempt still going on) is retried too
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// retryable marks an attempt's failure that a retry may cure.
type retryable struct {
	err   error
	after time.Duration // the server's Retry-After, or 0
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// do sends req, with retries, and returns the first answer that is not to be
// retried. An answer of 400 or more is returned as a *Problem error, except
// those listed in pass.
func (c *Client) do(ctx context.Context, req request, pass ...int) (response, error) {
	start := time.Now()
	var last error
	for try := 0; ; try++ {
		resp, err := c.once(ctx, req)
		if err == nil && (resp.status < 400 || slices.Contains(pass, resp.status)) {
			return resp, nil
		}
		if err == nil {
			err = problemOf(resp)
			if resp.status == http.StatusTooManyRequests || resp.status >= 500 ||
				(resp.status == http.StatusConflict && req.idemKey && problemKind(err) == KindConflict) {
				err = &retryable{err: err, after: retryAfter(resp.header)}
			}
		}
		var r *retryable
		if !errors.As(err, &r) || !req.retry || ctx.Err() != nil {
			return resp, unwrapRetryable(err)
		}
		last = r.err
		if try+1 >= c.retry.Attempts {
			return resp, last
		}
		wait := r.after
		if wait == 0 {
			wait = jitter(c.retry.BaseDelay<<try, c.retry.MaxDelay)
		}
		if time.Since(start)+wait > c.retry.Budget {
			return resp, last
		}
		if err := sleep(ctx, wait); err != nil {
			return resp, last
		}
	}
}

func unwrapRetryable(err error) error {
	var r *retryable
	if errors.As(err, &r) {
		return r.err
	}
	return err
}

// once sends req once; a failure to get an answer is retryable.
func (c *Client) once(ctx context.Context, req request) (response, error) {
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, c.base.String()+req.path, body)
	if err != nil {
		return response{}, fmt.Errorf("usersapi: %w", err)
	}
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	if req.ctype != "" {
		hr.Header.Set("Content-Type", req.ctype)
	}
	if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", "application/json, application/problem+json")
	}
	if c.apiKey != "" {
		hr.Header.Set("X-Api-Key", c.apiKey)
	}
	if c.token != nil {
		tok, err := c.token(ctx)
		if err != nil {
			return response{}, fmt.Errorf("usersapi: token: %w", err)
		}
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return response{}, fmt.Errorf("usersapi: %s %s: %w", req.method, req.path, ctx.Err())
		}
		return response{}, &retryable{err: fmt.Errorf("usersapi: %s %s: %w", req.method, req.path, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, &retryable{err: fmt.Errorf("usersapi: %s %s: reading the answer: %w", req.method, req.path, err)}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// problemOf returns the *Problem of an answer of 400 or more: its
// problem+json body, or one made from its status when it has none.
func problemOf(resp response) error {
	p := &Problem{}
	mt, _, _ := mime.ParseMediaType(resp.header.Get("Content-Type"))
	if (mt == "application/problem+json" || mt == "application/json") && json.Unmarshal(resp.body, p) == nil && p.Type != "" {
		if p.Status == 0 {
			p.Status = resp.status
		}
		return p
	}
	p = &Problem{Type: "about:blank", Title: http.StatusText(resp.status), Status: resp.status}
	if len(resp.body) > 0 && len(resp.body) <= 512 {
		p.Detail = string(resp.body)
	}
	return p
}

func problemKind(err error) string {
	var p *Problem
	if errors.As(err, &p) {
		return p.Kind()
	}
	return ""
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// jitter returns a random duration in [0, min(d, limit)], at least a millisecond.
func jitter(d, limit time.Duration) time.Duration {
	if d <= 0 || d > limit {
		d = limit
	}
	return max(time.Millisecond, rand.N(d+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// newKey returns a new Idempotency-Key: 26 random base32 characters.
func newKey() string { return cryptorand.Text() }

// decode unmarshals an answer's JSON body into v.
func decode(resp response, v any) error {
	if err := json.Unmarshal(resp.body, v); err != nil {
		return fmt.Errorf("usersapi: decoding a %d answer: %w", resp.status, err)
	}
	return nil
}
