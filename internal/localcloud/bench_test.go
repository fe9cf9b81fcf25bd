package localcloud_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// BenchmarkStart measures `make run` from built binaries to ready: emulators
// started, the template deployed, the API listening.
func BenchmarkStart(b *testing.B) {
	bin, err := cloudtest.Build()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c, err := localcloud.Start(context.Background(), localcloud.Options{Root: cloudtest.Root(), BinDir: bin, Log: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.Close()
		b.StartTimer()
	}
}

func percentile(d []time.Duration, p float64) float64 {
	slices.Sort(d)
	return float64(d[int(float64(len(d)-1)*p)].Microseconds()) / 1000
}

// reportWrites reports the p50 and p99 of the writes' three latencies: to
// the 202, to the request's success, to the user's event.
func reportWrites(b *testing.B, accepted, succeeded, evented []time.Duration) {
	b.ReportMetric(percentile(accepted, 0.5), "202-p50-ms")
	b.ReportMetric(percentile(accepted, 0.99), "202-p99-ms")
	b.ReportMetric(percentile(succeeded, 0.5), "succeeded-p50-ms")
	b.ReportMetric(percentile(succeeded, 0.99), "succeeded-p99-ms")
	b.ReportMetric(percentile(evented, 0.5), "event-p50-ms")
	b.ReportMetric(percentile(evented, 0.99), "event-p99-ms")
}

// benchToken is alice's token for the benchmarks: one for all, as a client
// keeps it, so that API Gateway's authorizer cache serves it.
var benchToken = map[*localcloud.Cloud]string{}

// authed sends req as alice, with the tests' API key.
func authed(b *testing.B, c *localcloud.Cloud, req *http.Request) (*http.Response, error) {
	if benchToken[c] == "" {
		benchToken[c] = cloudtest.Token(b, c, "alice", "users.read users.write")
	}
	req.Header.Set("X-Api-Key", cloudtest.TestKey)
	req.Header.Set("Authorization", benchToken[c])
	return http.DefaultClient.Do(req)
}

func get(b *testing.B, c *localcloud.Cloud, url string) (*http.Response, error) {
	req, _ := http.NewRequest("GET", url, nil)
	return authed(b, c, req)
}

func post(b *testing.B, c *localcloud.Cloud, url, body string) (*http.Response, map[string]any) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := authed(b, c, req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}

// BenchmarkGetUser: a warm GET /users/{id} through the local gateway
// (routing, validation, the function, DynamoDB Local). Reports p50 and p99.
func BenchmarkGetUser(b *testing.B) {
	c := cloudtest.Cloud(b)
	resp, m := post(b, c, c.URL+"/users", `{"name":"Bench","email":"`+email()+`"}`)
	if resp.StatusCode != 202 {
		b.Fatalf("POST %d", resp.StatusCode)
	}
	id := m["userId"].(string)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if r, err := get(b, c, c.URL+"/users/"+id); err == nil && r.StatusCode == 200 {
			r.Body.Close()
			break
		}
	}
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		r, err := get(b, c, c.URL+"/users/"+id)
		if err != nil || r.StatusCode != 200 {
			b.Fatalf("GET: %v %v", r, err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
		lat = append(lat, time.Since(start))
	}
	b.ReportMetric(percentile(lat, 0.5), "p50-ms")
	b.ReportMetric(percentile(lat, 0.99), "p99-ms")
}

// BenchmarkWrite: POST /users → 202, → request succeeded, → event visible,
// one write at a time. Reports the p50 and p99 of each.
func BenchmarkWrite(b *testing.B) {
	c := cloudtest.Cloud(b)
	var accepted, succeeded, evented []time.Duration
	for b.Loop() {
		start := time.Now()
		resp, m := post(b, c, c.URL+"/users", `{"name":"Bench","email":"`+email()+`"}`)
		if resp.StatusCode != 202 {
			b.Fatalf("POST %d", resp.StatusCode)
		}
		accepted = append(accepted, time.Since(start))
		loc, id := strings.TrimPrefix(resp.Header.Get("Location"), "/dev"), m["userId"].(string)
		for {
			r, err := get(b, c, c.URL+loc)
			if err != nil {
				b.Fatal(err)
			}
			var st map[string]any
			_ = json.NewDecoder(r.Body).Decode(&st)
			r.Body.Close()
			if st["status"] == "succeeded" {
				succeeded = append(succeeded, time.Since(start))
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		for len(events(c, id)) == 0 {
			time.Sleep(2 * time.Millisecond)
		}
		evented = append(evented, time.Since(start))
	}
	reportWrites(b, accepted, succeeded, evented)
}
