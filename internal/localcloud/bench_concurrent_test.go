package localcloud_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// writeClients is how many clients BenchmarkWriteConcurrent runs at once.
const writeClients = 8

// BenchmarkWriteConcurrent is BenchmarkWrite with 8 clients at once, each
// doing its share of the b.N writes one after another: POST /users → 202,
// → request succeeded (polled every 5 ms), → change event on the bus. It
// reports the p50 and p99 of each and the writes per second that reached
// the bus.
//
// Event arrival is taken from a bus subscription rather than by polling
// events(c, id), which decodes every event so far on each call: eight
// clients doing that would load the machine more than the pipeline does.
// events(c, id) is still the fallback should the subscription drop one.
func BenchmarkWriteConcurrent(b *testing.B) {
	c := cloudtest.Cloud(b)
	auth := cloudtest.Token(b, c, "alice", "users.read users.write")
	seen := watchEvents(c)
	defer seen.stop()

	var (
		next                         atomic.Int64
		mu                           sync.Mutex
		accepted, succeeded, evented []time.Duration
		wg                           sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	for range writeClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				a, s, e, err := writeOnce(c, seen, auth)
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				accepted, succeeded, evented = append(accepted, a), append(succeeded, s), append(evented, e)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if b.Failed() || len(evented) == 0 {
		return
	}
	reportWrites(b, accepted, succeeded, evented)
	b.ReportMetric(float64(len(evented))/elapsed.Seconds(), "writes/s")
}

// writeOnce creates a user and returns how long it took to the 202, to the
// request's success and to its change event.
func writeOnce(c *localcloud.Cloud, seen *eventTimes, auth string) (accepted, succeeded, evented time.Duration, err error) {
	start := time.Now()
	req, _ := http.NewRequest("POST", c.URL+"/users", strings.NewReader(`{"name":"Bench","email":"`+email()+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, body, err := send(req, auth)
	if err != nil {
		return 0, 0, 0, err
	}
	if resp.StatusCode != http.StatusAccepted {
		return 0, 0, 0, fmt.Errorf("POST /users: %d %v", resp.StatusCode, body)
	}
	accepted = time.Since(start)
	loc := strings.TrimPrefix(resp.Header.Get("Location"), "/dev")
	id, _ := body["userId"].(string)
	deadline := start.Add(30 * time.Second)
	for {
		req, _ := http.NewRequest("GET", c.URL+loc, nil)
		_, st, err := send(req, auth)
		if err != nil {
			return 0, 0, 0, err
		}
		if st["status"] == "succeeded" {
			succeeded = time.Since(start)
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, 0, fmt.Errorf("request %s: %v after 30 s", loc, st["status"])
		}
		time.Sleep(5 * time.Millisecond)
	}
	for polls := 1; ; polls++ {
		if at, ok := seen.at(id); ok {
			return accepted, succeeded, at.Sub(start), nil
		}
		if polls%100 == 0 && len(events(c, id)) > 0 {
			return accepted, succeeded, time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, 0, 0, fmt.Errorf("no event for user %s after 30 s", id)
		}
		time.Sleep(time.Millisecond)
	}
}

// send sends req as alice with the tests' API key and decodes the JSON body.
func send(req *http.Request, auth string) (*http.Response, map[string]any, error) {
	req.Header.Set("X-Api-Key", cloudtest.TestKey)
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp, m, nil
}

// eventTimes records when the first change event of each user reached the bus.
type eventTimes struct {
	mu    sync.Mutex
	first map[string]time.Time
	stop  func()
}

func watchEvents(c *localcloud.Cloud) *eventTimes {
	ch, unsubscribe := c.Bus.Subscribe()
	t := &eventTimes{first: map[string]time.Time{}}
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case <-quit:
				return
			case ev := <-ch:
				now := time.Now()
				var d struct {
					UserID string `json:"userId"`
				}
				if json.Unmarshal(ev.Detail, &d) != nil || d.UserID == "" {
					continue
				}
				t.mu.Lock()
				if _, ok := t.first[d.UserID]; !ok {
					t.first[d.UserID] = now
				}
				t.mu.Unlock()
			}
		}
	}()
	t.stop = func() {
		unsubscribe()
		close(quit)
	}
	return t
}

func (t *eventTimes) at(user string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.first[user]
	return at, ok
}
