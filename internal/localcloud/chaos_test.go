package localcloud_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"

	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
	"github.com/usersapi/usersapi/shared/users"
)

// chaosSize is the run's size: small in `make test`, the in `make chaos`
// (USERSAPI_CHAOS=full).
type chaosSize struct{ writes, users, clients, poison, emails, racers int }

func chaosConfig() chaosSize {
	if os.Getenv("USERSAPI_CHAOS") == "full" {
		return chaosSize{writes: 10000, users: 200, clients: 8, poison: 100, emails: 50, racers: 100}
	}
	return chaosSize{writes: 320, users: 24, clients: 8, poison: 4, emails: 5, racers: 20}
}

// patient is do for reads under injected faults: the SDK's retries can run
// out (10 % of DynamoDB calls are throttled), and then the API answers 5xx,
// as it should; a client tries again.
func patient(t *testing.T, c *localcloud.Cloud, method, path string) response {
	t.Helper()
	for try := 0; ; try++ {
		r := do(t, c, method, path, "")
		if r.status < 500 || try == 10 {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// patientSettle polls a request until it is no longer pending.
func patientSettle(t *testing.T, c *localcloud.Cloud, location string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r := patient(t, c, "GET", strings.TrimPrefix(location, "/dev"))
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", location, r.status, r.raw)
		}
		if r.body["status"] != "pending" {
			return r.body
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("request %s still pending after 60s", location)
	return nil
}

// write is one accepted write and what the model expects of it.
type write struct {
	user, requestID, op string
	body                map[string]any
	ifMatch             int
	at, answered        time.Duration // since the run's start: sent, and answered 202
	settledAt           time.Duration // since the run's start: no longer pending
	succeeded           bool
}

// TestChaos drives random writes through the local cloud with the real
// binaries while DynamoDB throttles, workers crash after their writes,
// PutEvents refuses entries, clients send requests twice and poison messages
// sit in the queue; then it checks that no accepted write was lost or applied
// twice, that each user's writes applied in order, that every change has its
// event, that the DLQ holds exactly the poison, and that emails stay unique.
func TestChaos(t *testing.T) {
	size := chaosConfig()
	c := cloudtest.Start(t, "faultinject", localcloud.Options{RetryDelay: 200 * time.Millisecond, ExtraEnv: map[string]string{
		"USERSAPI_FAULTS": "dynamodb.throttle=0.1,dynamodb.crash_after_write=0.05,eventbridge.fail_entry=0.1"}})
	ctx := context.Background()
	start := time.Now()

	// Poison messages, in groups of their own.
	var poison []string
	for range size.poison {
		marker := uuid.NewString()
		poison = append(poison, marker)
		_, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(c.Stack.Resources["WriteQueue"].Attr["QueueUrl"]),
			MessageBody: aws.String(`{"schemaVersion":99,"poison":"` + marker + `"}`), MessageGroupId: aws.String("poison-" + marker), MessageDeduplicationId: aws.String(marker)})
		if err != nil {
			t.Fatal(err)
		}
	}

	// Each client owns some users, so that a user's acceptance order is its client's order.
	var mu sync.Mutex
	var accepted []write
	perUser := map[string][]int{}        // indexes into accepted, in acceptance order
	failedSends := map[string][]string{} // by user ("" for creates): the writes answered 5xx
	var keyedRetries, unanswered atomic.Int32
	var wg sync.WaitGroup
	writesPerClient := size.writes / size.clients
	for client := range size.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(client), 42))
			var mine []string // this client's users, while they live
			live := map[string]bool{}
			versions := map[string]int{}
			// Until writesPerClient writes are accepted; a request that is
			// not (a 5xx once the retries ran out) does not count.
			for n, done := 0, 0; done < writesPerClient && n < 3*writesPerClient; n++ {
				var method, path, ct, op string
				var body map[string]any
				user := ""
				ifMatch := 0
				switch roll := rng.IntN(100); {
				case len(mine) < size.users/size.clients || roll < 5:
					method, path, op = "POST", "/users", "create"
					body = map[string]any{"name": "Chaos", "email": email()}
				default:
					user = mine[rng.IntN(len(mine))]
					path = "/users/" + user
					switch r := rng.IntN(10); {
					case r < 4:
						method, op, ct = "PATCH", "patch", "application/merge-patch+json"
						body = map[string]any{"age": 18 + rng.IntN(100)}
						if rng.IntN(4) == 0 {
							body = map[string]any{"email": email()} // an email change
						}
					case r < 8:
						method, op = "PUT", "replace"
						body = map[string]any{"name": "Replaced " + strconv.Itoa(n), "email": email(), "phone": "0123456789"}
					default:
						method, op = "DELETE", "delete"
					}
					if rng.IntN(5) == 0 && live[user] {
						ifMatch = versions[user] // may be stale: then the write fails, as the model says
					}
				}
				b, _ := json.Marshal(body)
				if body == nil {
					b = nil
				}
				h := []string{}
				if ct != "" {
					h = append(h, "Content-Type", ct)
				}
				if ifMatch > 0 {
					h = append(h, "If-Match", fmt.Sprintf(`"%d"`, ifMatch))
				}
				twice := rng.IntN(50) == 0 // 2 % of requests are sent twice, with a key
				keyed := twice || rng.IntN(10) == 0
				if keyed {
					h = append(h, "Idempotency-Key", uuid.NewString())
				}
				// A client retries a keyed request that got no answer (a 5xx) or
				// whose first attempt is still in progress (409): the key makes
				// that safe. Without a key, a 5xx means it was not accepted.
				send := func() response {
					r := do(t, c, method, path, string(b), h...)
					for deadline := time.Now().Add(45 * time.Second); keyed && (r.status >= 500 || r.status == 409) && time.Now().Before(deadline); {
						keyedRetries.Add(1)
						time.Sleep(200 * time.Millisecond)
						r = do(t, c, method, path, string(b), h...)
					}
					return r
				}
				at := time.Since(start)
				r := send()
				answered := time.Since(start)
				if twice {
					again := send()
					if r.status == 202 && again.raw != r.raw {
						t.Errorf("a request sent twice with a key got %s, then %s", r.raw, again.raw)
					}
					if r.status >= 500 {
						r = again // the first was not accepted; the second may be
					}
				}
				if r.status >= 500 {
					unanswered.Add(1)
					mu.Lock()
					failedSends[user] = append(failedSends[user], fmt.Sprintf("%s %s → %d at %s", method, path, r.status, at.Round(time.Millisecond)))
					mu.Unlock()
				}
				if r.status == 403 && user != "" && !live[user] {
					continue // a deleted user: refused at once, nothing accepted
				}
				if r.status >= 500 {
					continue // a fault ran out the retries: nothing was accepted, the client may retry
				}
				if r.status != 202 {
					t.Errorf("%s %s: %d %s", method, path, r.status, r.raw)
					continue
				}
				done++
				if user == "" {
					user = r.body["userId"].(string)
					mine = append(mine, user)
				}
				w := write{user: user, requestID: r.body["requestId"].(string), op: op, body: body, ifMatch: ifMatch, at: at, answered: answered}
				mu.Lock()
				accepted = append(accepted, w)
				perUser[user] = append(perUser[user], len(accepted)-1)
				mu.Unlock()
				// The client learns the outcome before its next write to this user.
				st := patientSettle(t, c, "/dev/requests/"+w.requestID)
				mu.Lock()
				i := perUser[user][len(perUser[user])-1]
				accepted[i].settledAt = time.Since(start)
				accepted[i].succeeded = st["status"] == "succeeded"
				mu.Unlock()
				if st["status"] == "succeeded" {
					versions[user] = int(st["version"].(float64))
					live[user] = op != "delete"
					if op == "delete" {
						mine = slices.DeleteFunc(mine, func(u string) bool { return u == user })
					}
				}
			}
		}()
	}
	wg.Wait()
	acceptedFor := time.Since(start)

	// Model: replay each user's writes in acceptance order.
	lost, dup, dupUsers, order, missing := 0, 0, 0, 0, 0
	versionsSeen := func() map[string]map[int]int {
		seen := map[string]map[int]int{}
		for _, e := range c.Bus.Events() {
			var d struct {
				UserID  string
				Version int
			}
			_ = json.Unmarshal(e.Detail, &d)
			if seen[d.UserID] == nil {
				seen[d.UserID] = map[int]int{}
			}
			seen[d.UserID][d.Version]++
		}
		return seen
	}
	seenAll := versionsSeen()
	var seenMu sync.Mutex
	hasEvent := func(user string, v int) bool {
		seenMu.Lock()
		defer seenMu.Unlock()
		return seenAll[user][v] > 0
	}
	refresh := func() {
		seen := versionsSeen()
		seenMu.Lock()
		seenAll = seen
		seenMu.Unlock()
	}
	// Users are checked 8 at a time (each read may wait out a throttled
	// DynamoDB call's backoff); each user's writes in order.
	var checkMu sync.Mutex
	check := func(user string, idx []int) {
		l, d, o, m := 0, 0, 0, 0
		defer func() {
			checkMu.Lock()
			lost, dup, order, missing = lost+l, dup+d, order+o, missing+m
			if d > 0 {
				dupUsers++
			}
			checkMu.Unlock()
		}()
		version, exists := 0, false
		var lastVersion float64
		for _, i := range idx {
			w := accepted[i]
			st := patient(t, c, "GET", "/requests/"+w.requestID).body
			switch st["status"] {
			case "pending":
				l++
				continue
			case "succeeded":
				v := st["version"].(float64)
				if v <= lastVersion {
					o++
				}
				lastVersion = v
				if w.op == "create" {
					exists = true
				}
				version++
				if int(v) != version {
					d++
				}
				if w.op == "delete" {
					exists = false
				}
			}
		}
		got := patient(t, c, "GET", "/users/"+user)
		switch {
		case exists && (got.status != 200 || int(got.body["version"].(float64)) != version):
			d++
			t.Errorf("user %s: %d %v, the model says version %d", user, got.status, got.body["version"], version)
		case !exists && got.status != 404:
			d++
			t.Errorf("user %s exists, the model says deleted", user)
		}
		if d > 0 {
			explain(t, c, user, idx, accepted, failedSends)
		}
		// Every version has its event (waiting a little for the last ones).
		for v := 1; v <= version; v++ {
			deadline := time.Now().Add(30 * time.Second)
			for !hasEvent(user, v) && time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond)
				refresh()
			}
			if !hasEvent(user, v) {
				m++
				t.Errorf("user %s: no event for version %d", user, v)
			}
		}
	}
	var checks []func()
	for user, idx := range perUser {
		checks = append(checks, func() { check(user, idx) })
	}
	nAtATime(size.clients, checks)
	dupEvents := 0
	ids := map[string]bool{}
	for _, e := range c.Bus.Events() {
		var d struct{ EventID string }
		_ = json.Unmarshal(e.Detail, &d)
		if ids[d.EventID] {
			dupEvents++
		}
		ids[d.EventID] = true
	}

	// The DLQ holds exactly the poison messages.
	var parked []string
	firstCount := map[string]string{} // receives when first listed; each listing is one more receive
	deadline := time.Now().Add(60 * time.Second)
	for len(parked) < len(poison) && time.Now().Before(deadline) {
		dls, err := c.DeadLetters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		parked = parked[:0]
		for _, dl := range dls {
			parked = append(parked, dl.Body)
			if _, ok := firstCount[dl.MessageID]; !ok {
				firstCount[dl.MessageID] = dl.ReceiveCount
			}
		}
		time.Sleep(time.Second)
	}
	wrongCount := 0
	for id, n := range firstCount {
		// maxReceiveCount is 5; the listing that saw it first may have counted once more.
		if n != "5" && n != "6" {
			wrongCount++
			t.Errorf("dead letter %s was parked after %s receives, want maxReceiveCount (5)", id, n)
		}
	}
	for _, m := range poison {
		if !slices.ContainsFunc(parked, func(b string) bool { return strings.Contains(b, m) }) {
			t.Errorf("poison message %s is not in the DLQ", m)
		}
	}
	if len(parked) != len(poison) {
		t.Errorf("the DLQ holds %d messages, the poison was %d", len(parked), len(poison))
	}

	// Uniqueness under concurrency.
	winners := 0
	var races sync.WaitGroup
	for range size.emails {
		mail := email()
		locs := make([]string, size.racers)
		for i := range size.racers {
			races.Add(1)
			go func() {
				defer races.Done()
				locs[i] = do(t, c, "POST", "/users", `{"name":"Race","email":"`+mail+`"}`).header.Get("Location")
			}()
		}
		races.Wait()
		// The racers learn their outcomes as the clients above do, 8 at a time.
		var won atomic.Int32
		var polls []func()
		for _, loc := range locs {
			polls = append(polls, func() {
				if patientSettle(t, c, loc)["status"] == "succeeded" {
					won.Add(1)
				}
			})
		}
		nAtATime(size.clients, polls)
		if won.Load() != 1 {
			t.Errorf("email %s: %d winners", mail, won.Load())
		}
		winners += int(won.Load())
	}

	orphans := orphanSentinels(t, c)

	// Throughput and latencies, from the send of each accepted write: its 202,
	// its request no longer pending (as its client saw by polling every 50 ms),
	// its change event accepted by the bus.
	firstEvent := map[string]time.Time{}
	for _, e := range c.Bus.Events() {
		var d struct{ RequestID string }
		_ = json.Unmarshal(e.Detail, &d)
		if _, ok := firstEvent[d.RequestID]; !ok {
			firstEvent[d.RequestID] = e.Received
		}
	}
	var answer, settled, event []time.Duration
	applied, lastApplied := 0, time.Duration(0)
	for _, w := range accepted {
		answer = append(answer, w.answered-w.at)
		settled = append(settled, w.settledAt-w.at)
		if w.succeeded {
			applied++
			lastApplied = max(lastApplied, w.settledAt)
			if at, ok := firstEvent[w.requestID]; ok {
				event = append(event, at.Sub(start)-w.at)
			}
		}
	}
	t.Logf(`chaos run: %d writes accepted from %d clients on %d users in %s
  lost accepted writes:      %d
  duplicate effects:         %d (writes whose version or final state is not the model's, on %d users)
  per-user order violations: %d
  change events:             %d (userId, version) without an event; %d duplicates emitted
  DLQ:                       %d of %d poison messages, nothing else; %d parked after other than 5 receives
  uniqueness:                %d emails × %d concurrent creates → %d winners, %d orphan sentinels
  client retries:            %d of keyed requests after a 5xx or 409; %d writes answered 5xx (not accepted)
  throughput:                %.0f accepted writes/s, %.0f applied writes/s (%d applied)
  latency p50 / p99 (ms):    202 %.0f / %.0f · succeeded %.0f / %.0f · event %.0f / %.0f`,
		len(accepted), size.clients, len(perUser), acceptedFor.Round(time.Second),
		lost, dup, dupUsers, order, missing, dupEvents, len(parked), len(poison), wrongCount, size.emails, size.racers, winners, orphans,
		keyedRetries.Load(), unanswered.Load(), float64(len(accepted))/acceptedFor.Seconds(), float64(applied)/lastApplied.Seconds(), applied,
		percentileMs(answer, 0.5), percentileMs(answer, 0.99), percentileMs(settled, 0.5), percentileMs(settled, 0.99),
		percentileMs(event, 0.5), percentileMs(event, 0.99))
	if lost+dup+order+missing+orphans > 0 {
		t.Errorf("lost %d, duplicate effects %d, order violations %d, missing events %d, orphan sentinels %d: all must be 0", lost, dup, order, missing, orphans)
	}
}

// nAtATime runs jobs, n at a time, and waits for them all.
func nAtATime(n int, jobs []func()) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, n)
	for _, job := range jobs {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			job()
		}()
	}
	wg.Wait()
}

// explain logs what the requests table holds for a user whose versions
// disagree with the model: each recorded request, whether a client saw it
// accepted, and the user's writes that were answered 5xx.
func explain(t *testing.T, c *localcloud.Cloud, user string, idx []int, accepted []write, failedSends map[string][]string) {
	t.Helper()
	known := map[string]int{}
	for n, i := range idx {
		known[accepted[i].requestID] = n + 1
	}
	var recs []map[string]any
	p := dynamodb.NewScanPaginator(c.DynamoDB, &dynamodb.ScanInput{
		TableName: aws.String(c.Stack.Resources["RequestsTable"].Name), ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("userId = :u"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":u": &ddbtypes.AttributeValueMemberS{Value: user}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Errorf("explain %s: %v", user, err)
			return
		}
		var some []map[string]any
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &some); err != nil {
			t.Errorf("explain %s: %v", user, err)
			return
		}
		recs = append(recs, some...)
	}
	slices.SortFunc(recs, func(a, b map[string]any) int {
		return strings.Compare(fmt.Sprint(a["acceptedAt"]), fmt.Sprint(b["acceptedAt"]))
	})
	var lines []string
	for _, r := range recs {
		id := fmt.Sprint(r["requestId"])
		seen := "NOT SEEN ACCEPTED by its client"
		if n := known[id]; n > 0 {
			seen = fmt.Sprintf("the model's write %d", n)
		}
		lines = append(lines, fmt.Sprintf("  %s %v %v version %v accepted %v: %s", id, r["op"], r["status"], r["version"], r["acceptedAt"], seen))
	}
	t.Errorf("user %s: %d requests recorded, %d accepted by the model:\n%s\n  writes answered 5xx: %v (creates: %d)",
		user, len(recs), len(idx), strings.Join(lines, "\n"), failedSends[user], len(failedSends[""]))
}

// orphanSentinels counts the email sentinels of the users table whose user
// is missing, deleted, or has another email now.
func orphanSentinels(t *testing.T, c *localcloud.Cloud) int {
	t.Helper()
	ctx := context.Background()
	table := c.Stack.Resources["UsersTable"].Name
	type item struct {
		PK, UserID, Email string
		Deleted           bool
	}
	byKey := map[string]item{}
	var sentinels []item
	p := dynamodb.NewScanPaginator(c.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range page.Items {
			var it struct {
				PK      string `dynamodbav:"pk"`
				UserID  string `dynamodbav:"userId"`
				Email   string `dynamodbav:"email"`
				Deleted bool   `dynamodbav:"deleted"`
			}
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				t.Fatal(err)
			}
			byKey[it.PK] = item{it.PK, it.UserID, it.Email, it.Deleted}
			if strings.HasPrefix(it.PK, "EMAIL#") {
				sentinels = append(sentinels, byKey[it.PK])
			}
		}
	}
	if len(sentinels) == 0 {
		t.Fatal("no email sentinel in the users table: the scan looked in the wrong place")
	}
	orphans := 0
	for _, s := range sentinels {
		u, ok := byKey["USER#"+s.UserID]
		if !ok || u.Deleted || "EMAIL#"+users.EmailKey(u.Email) != s.PK {
			orphans++
			t.Errorf("orphan sentinel %s → user %s (%+v)", s.PK, s.UserID, u)
		}
	}
	return orphans
}

func percentileMs(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*p)].Microseconds()) / 1000
}
