// Package cloudtest starts one local cloud per test binary, with the
// functions built from this checkout, for end-to-end tests.
package cloudtest

import (
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/usersapi/usersapi/internal/apigateway"
	"github.com/usersapi/usersapi/internal/emulator"
	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/logbuf"
)

var (
	once  sync.Once
	cloud *localcloud.Cloud
	err   error
	// Log keeps everything the cloud and its functions printed, for failures.
	Log = newLog()
)

// Root returns the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Cloud returns the shared local cloud, starting it on first use. A cloud
// that cannot start fails the test under CI=true and skips it elsewhere.
func Cloud(tb testing.TB) *localcloud.Cloud {
	tb.Helper()
	once.Do(func() {
		var bin string
		if bin, err = Build(); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cloud, err = localcloud.Start(ctx, localcloud.Options{Root: Root(), BinDir: bin, Log: Log, RetryDelay: 200 * time.Millisecond,
				ExtraAPIKeys: []*apigateway.APIKey{testKey()}, Parameters: testParameters(nil)})
		}
	})
	if err != nil {
		if os.Getenv("CI") != "true" && (errors.Is(err, emulator.ErrNotInstalled) || errors.Is(err, emulator.ErrNoJava)) {
			tb.Skipf("local cloud: %v (run `make tools`)", err)
		}
		tb.Fatalf("local cloud: %v\n%s", err, Log.String())
	}
	return cloud
}

// Close stops the shared cloud, if one started; TestMain calls it.
func Close() {
	if cloud != nil {
		cloud.Close()
	}
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// Build builds every function for this machine with -tags lambda.norpc into
// a temporary bin directory, once per test binary, and returns it.
func Build() (string, error) { return BuildTagged("") }

// BuildTagged is Build with more build tags ("faultinject" compiles in the
// fault injectors of shared/faults).
func BuildTagged(tags string) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	if dir, ok := built[tags]; ok {
		return dir, nil
	}
	dir, err := os.MkdirTemp("", "usersapi-bin-")
	if err != nil {
		return "", err
	}
	all := "lambda.norpc"
	if tags != "" {
		all += "," + tags
	}
	for _, fn := range []string{"read", "ingest", "worker", "stream", "authorizer", "docs"} {
		cmd := exec.Command("go", "build", "-tags", all, "-o", filepath.Join(dir, fn, "bootstrap"), "./functions/"+fn)
		cmd.Dir = Root()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", errors.New("build " + fn + ": " + err.Error() + "\n" + string(out))
		}
	}
	built[tags] = dir
	return dir, nil
}

// Start starts a cloud of its own for a test, with opt's settings (Root,
// Log and the binaries default to the shared ones), stopped at the test's end.
func Start(tb testing.TB, tags string, opt localcloud.Options) *localcloud.Cloud {
	tb.Helper()
	bin, err := BuildTagged(tags)
	if err != nil {
		tb.Fatal(err)
	}
	if opt.Root == "" {
		opt.Root = Root()
	}
	if opt.BinDir == "" {
		opt.BinDir = bin
	}
	if opt.Log == nil {
		opt.Log = Log
	}
	opt.ExtraAPIKeys = append(slices.Clone(opt.ExtraAPIKeys), testKey())
	opt.Parameters = testParameters(opt.Parameters)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localcloud.Start(ctx, opt)
	if err != nil {
		if os.Getenv("CI") != "true" && (errors.Is(err, emulator.ErrNotInstalled) || errors.Is(err, emulator.ErrNoJava)) {
			tb.Skipf("local cloud: %v (run `make tools`)", err)
		}
		tb.Fatalf("local cloud: %v\n%s", err, Log.String())
	}
	tb.Cleanup(c.Close)
	return c
}

// TestKey is an API key on no usage plan, which the tests' clouds accept
// besides the template's: the throttling of the usage plans has tests of its own.
const TestKey = "test-key-without-a-usage-plan"

func testKey() *apigateway.APIKey { return &apigateway.APIKey{Name: "TestKey", Value: TestKey} }

// testParameters raises the web ACL's rate limit per address to its maximum,
// unless params set it: every test request comes from 127.0.0.1, and the
// rate-based rule has tests of its own (internal/waf).
func testParameters(params map[string]any) map[string]any {
	out := maps.Clone(params)
	if out == nil {
		out = map[string]any{}
	}
	if _, ok := out["WafRateLimit"]; !ok {
		out["WafRateLimit"] = 2000000000
	}
	return out
}

// Token returns "Bearer <a token>" for sub with scopes, from c's issuer.
func Token(tb testing.TB, c *localcloud.Cloud, sub, scopes string) string {
	tb.Helper()
	tok, err := c.Issuer.Token(sub, scopes, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return "Bearer " + tok
}

// newLog is the shared cloud's log; USERSAPI_TEST_LOG=1 shows it live too.
func newLog() *logbuf.Buffer {
	if os.Getenv("USERSAPI_TEST_LOG") != "" {
		return &logbuf.Buffer{Tee: os.Stderr}
	}
	return &logbuf.Buffer{}
}
