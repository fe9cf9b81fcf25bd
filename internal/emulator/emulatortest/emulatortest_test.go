//go:build unix

package emulatortest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/usersapi/usersapi/internal/emulator"
)

func TestMain(m *testing.M) { Main(m) }

func TestDynamoDBShared(t *testing.T) {
	first := DynamoDB(t)
	if second := DynamoDB(t); second != first {
		t.Fatalf("second call started another server: %s, then %s", first, second)
	}
	if _, err := DynamoDBClient(t).ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
}

func TestSQSShared(t *testing.T) {
	first := SQS(t)
	if second := SQS(t); second != first {
		t.Fatalf("second call started another server: %s, then %s", first, second)
	}
	if _, err := SQSClient(t).ListQueues(context.Background(), &sqs.ListQueuesInput{}); err != nil {
		t.Fatalf("ListQueues: %v", err)
	}
}

func TestAWSConfig(t *testing.T) {
	cfg := AWSConfig("http://127.0.0.1:1")
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-1" || *cfg.BaseEndpoint != "http://127.0.0.1:1" || creds.AccessKeyID != "local" || creds.SecretAccessKey != "local" {
		t.Errorf("AWSConfig = region %q endpoint %q key %q", cfg.Region, *cfg.BaseEndpoint, creds.AccessKeyID)
	}
	if !NewDynamoDBClient("http://127.0.0.1:1").Options().DisableValidateResponseChecksum {
		t.Error("DynamoDB client validates the CRC32 checksum that DynamoDB Local omits on errors")
	}
}

// recorder is a testing.TB that records Fatalf and Skipf instead of acting.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestUnavailable(t *testing.T) {
	missing := func(context.Context, emulator.Options) (*emulator.Server, error) {
		return nil, fmt.Errorf("Fake %w in /x/.tools: run `make tools`", emulator.ErrNotInstalled)
	}
	for _, ci := range []string{"true", ""} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			s := &shared{name: "Fake", start: missing}
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.endpoint(r)
			}()
			<-done
			switch {
			case ci == "true" && (r.fatal == "" || r.skip != ""):
				t.Errorf("with CI=true: fatal %q, skip %q; want a failure", r.fatal, r.skip)
			case ci != "true" && (r.skip == "" || r.fatal != ""):
				t.Errorf("without CI: fatal %q, skip %q; want a skip", r.fatal, r.skip)
			}
			if msg := r.fatal + r.skip; !strings.Contains(msg, "make tools") {
				t.Errorf("message %q does not say to run make tools", msg)
			}
		})
	}
}

// TestNoOrphanWithoutMain runs a test binary whose test uses SQS without
// Main stopping it, then checks that ElasticMQ did not outlive the binary.
func TestNoOrphanWithoutMain(t *testing.T) {
	if os.Getenv("EMULATORTEST_HELPER") != "" {
		t.Skip("in the helper process")
	}
	if runtime.GOOS != "linux" {
		t.Skip("without Main, only Linux's parent-death signal stops the server")
	}
	SQS(t) // skips or fails here like any user when ElasticMQ cannot start
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNoMain$", "-test.count=1")
	cmd.Env = append(os.Environ(), "EMULATORTEST_HELPER=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	var pgid int
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "PGID="); ok {
			pgid, _ = strconv.Atoi(v)
		}
	}
	if pgid == 0 {
		t.Fatalf("helper printed no PGID:\n%s", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			t.Fatalf("ElasticMQ (process group %d) outlived the test binary", pgid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHelperNoMain is the helper of TestNoOrphanWithoutMain. It leaves the
// shared server running and exits the binary without Main's Stop.
func TestHelperNoMain(t *testing.T) {
	if os.Getenv("EMULATORTEST_HELPER") == "" {
		t.Skip("helper process for TestNoOrphanWithoutMain")
	}
	SQS(t)
	fmt.Printf("PGID=%d\n", sqsQueue.srv.PID())
	os.Exit(0)
}
