package dynamo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
)

// TestShardsEven: 10,000 UUIDv7 ids, made as ingest makes them (a millisecond
// clock and random bits, here from a fixed seed so the figures are stable),
// spread over the shards as evenly as chance allows at every count from 1 to
// MaxListShards (chi-squared), and at the default count (2) and at 10 every
// shard within 10% of uniform. Chance alone puts a shard's count 1% (one
// standard deviation) from uniform at 2 shards and 3% at 10; the fixed ids
// land at most 0.6% and 7.3% away.
func TestShardsEven(t *testing.T) {
	const ids = 10000
	rng := rand.New(rand.NewPCG(15, 15))
	made := make([]string, ids)
	ms := int64(1_790_000_000_000)
	for i := range made {
		ms += rng.Int64N(3) // a few ids a millisecond, as under load
		var u uuid.UUID
		for j := range u {
			u[j] = byte(rng.Uint32())
		}
		u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
		u[6] = 0x70 | u[6]&0x0f
		u[8] = 0x80 | u[8]&0x3f
		made[i] = u.String()
	}
	for n := 1; n <= MaxListShards; n++ {
		counts := make([]int, n)
		for _, id := range made {
			counts[shardOf(id, n)]++
		}
		want := float64(ids) / float64(n)
		worst, chi2 := 0.0, 0.0
		for _, c := range counts {
			d := float64(c) - want
			worst = math.Max(worst, math.Abs(d)/want)
			chi2 += d * d / want
		}
		// chi-squared with n-1 degrees of freedom: mean n-1, sd sqrt(2(n-1));
		// 5 sd above the mean is far past chance (p < 1e-5).
		if df := float64(n - 1); chi2 > df+5*math.Sqrt(2*df) {
			t.Errorf("%d shards: chi-squared %.1f with %d degrees of freedom: not uniform (%v)", n, chi2, n-1, counts)
		}
		if n == DefaultListShards || n == 10 {
			t.Logf("%d shards: %v, at most %.1f%% from %.0f", n, counts, 100*worst, want)
			if worst > 0.10 {
				t.Errorf("%d shards: a shard is %.1f%% from uniform, want at most 10%%: %v", n, 100*worst, counts)
			}
		}
	}
}

// TestShardOfIsStable: a user's shard is a function of its id alone, fixed
// for good (its entry is found where its id says): FNV-1a, 32 bits, of the
// id's text, modulo the count (the values are Python's, computed apart).
func TestShardOfIsStable(t *testing.T) {
	for _, tt := range []struct {
		id   string
		n    int
		want int
	}{
		{"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", 1, 0},
		{"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", 7, 6},
		{"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b", 10, 4},
		{"0193a4b2-7c3d-7e4f-8a5b-000000000001", 10, 7},
		{"0193a4b2-7c3d-7e4f-8a5b-000000000002", 100, 60},
	} {
		if got := shardOf(tt.id, tt.n); got != tt.want {
			t.Errorf("shardOf(%s, %d) = %d, want %d", tt.id, tt.n, got, tt.want)
		}
	}
}

func TestParseListShards(t *testing.T) {
	for s, want := range map[string]int{"": DefaultListShards, "1": 1, "10": 10, "32": 32, "100": 100} {
		if n, err := ParseListShards(s); err != nil || n != want {
			t.Errorf("ParseListShards(%q) = %d, %v; want %d", s, n, err, want)
		}
	}
	for _, s := range []string{"0", "101", "-1", "ten", "many", "2.5", " 3"} {
		if _, err := ParseListShards(s); err == nil {
			t.Errorf("ParseListShards(%q) accepted", s)
		}
	}
}
