package benchdata

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/runtimeapi"
	"github.com/usersapi/usersapi/internal/stack"
)

// binaries are the programs whose init is measured: hello (the yardstick)
// and every function, by its logical id in template.yaml, each with an
// invocation that needs no AWS service.
var binaries = []struct {
	name, pkg, id, payload string
}{
	{"hello", "./internal/benchdata/hello", "", `{"name":"bench"}`},
	{"read", "./functions/read", "ReadFunction", `{"httpMethod":"OPTIONS","resource":"/nowhere","path":"/nowhere"}`},
	{"ingest", "./functions/ingest", "IngestFunction", `{"httpMethod":"OPTIONS","resource":"/nowhere","path":"/nowhere"}`},
	{"worker", "./functions/worker", "WorkerFunction", `{"Records":[]}`},
	{"stream", "./functions/stream", "StreamFunction", `{"Records":[]}`},
	{"authorizer", "./functions/authorizer", "AuthorizerFunction",
		`{"type":"REQUEST","methodArn":"arn:aws:execute-api:us-east-1:000000000000:api/dev/GET/users","headers":{}}`},
}

// signingKey stands in for the template's secret, as the local cloud's does.
const signingKey = "usersapi-bench-signing-key-of-at-least-32-bytes"

// BenchmarkInit measures each function's init, as Lambda reports it on a cold
// start (Init Duration: process start to the first /next call of the Runtime
// API), against the hello-world function built the same way. One b.Loop
// iteration is a round that cold-starts every binary once, so the machine's
// load falls on all of them alike. Metrics: <name>-init-ms, the mean, and
// <name>-x, the median over the rounds of its init divided by hello's.
//
// The binaries are built for this machine with the Makefile's GOFLAGS_LAMBDA;
// USERSAPI_BENCH_BIN names a directory of prebuilt ones (<name> per binary)
// instead, to compare another build of the same code.
func BenchmarkInit(b *testing.B) {
	dir := os.Getenv("USERSAPI_BENCH_BIN")
	if dir == "" {
		dir = buildAll(b)
	}
	envs := environments(b)
	inits := make([][]time.Duration, len(binaries))
	ctx := context.Background()
	for b.Loop() {
		for i, bin := range binaries {
			log := &bytes.Buffer{}
			p := runtimeapi.NewPool(runtimeapi.Function{Name: bin.name, Binary: filepath.Join(dir, bin.name), Env: envs[i],
				Timeout: 5 * time.Second, MemoryMB: 256, Log: log, Region: stack.Region, Account: stack.Account})
			r, err := p.Invoke(ctx, []byte(bin.payload), "")
			p.Close()
			if err != nil {
				b.Fatalf("%s: %v\n%s", bin.name, err, log)
			}
			if r.InitDuration == 0 {
				b.Fatalf("%s: a cold start reported no init duration", bin.name)
			}
			inits[i] = append(inits[i], r.InitDuration)
		}
	}
	for i, bin := range binaries {
		b.ReportMetric(float64(mean(inits[i]).Microseconds())/1000, bin.name+"-init-ms")
		if i == 0 {
			continue
		}
		// Each round's ratio to hello's init in the same round, then their
		// median: a burst of load on the machine spoils one round, not the figure.
		ratios := make([]float64, len(inits[i]))
		for r := range ratios {
			ratios[r] = float64(inits[i][r]) / float64(inits[0][r])
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], bin.name+"-x")
	}
}

// buildAll builds every binary into a temporary directory as `make build`
// does (-tags lambda.norpc -trimpath -ldflags='-s -w' -buildvcs=false,
// CGO_ENABLED=0), in one go build.
func buildAll(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-buildvcs=false", "-o", dir + string(filepath.Separator)}
	for _, bin := range binaries {
		args = append(args, bin.pkg)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go %v: %v\n%s", args, err, out)
	}
	for _, bin := range binaries {
		if _, err := os.Stat(filepath.Join(dir, bin.name)); err != nil {
			b.Fatalf("go build made no %s: %v", bin.name, err)
		}
	}
	return dir
}

// environments returns each binary's environment: the function's variables in
// template.yaml, resolved as the local cloud resolves them, with a development
// signing key and a loopback key set URL, and static credentials.
func environments(b *testing.B) []map[string]string {
	b.Helper()
	s, err := stack.Load(filepath.Join("..", "..", "template.yaml"), nil)
	if err != nil {
		b.Fatal(err)
	}
	fns, err := s.Functions()
	if err != nil {
		b.Fatal(err)
	}
	envs := make([]map[string]string, len(binaries))
	for i, bin := range binaries {
		env := map[string]string{"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}
		if bin.id != "" {
			fn, ok := fns[bin.id]
			if !ok {
				b.Fatalf("template.yaml has no %s", bin.id)
			}
			for k, v := range fn.Environment {
				env[k] = v
			}
			if _, ok := env["SIGNING_KEY"]; ok {
				env["SIGNING_KEY"] = signingKey
			}
			if _, ok := env["JWKS_URL"]; ok {
				env["JWKS_URL"], env["ISSUER"], env["AUDIENCE"] = "http://127.0.0.1:1/.well-known/jwks.json", "http://127.0.0.1:1", "usersapi"
				delete(env, "CLIENT_ID")
			}
		}
		envs[i] = env
	}
	return envs
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}
