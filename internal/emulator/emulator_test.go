//go:build unix

package emulator_test

import (
	"bufio"
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/usersapi/usersapi/internal/emulator"
	"github.com/usersapi/usersapi/internal/emulator/emulatortest"
)

// start starts an emulator for one test and stops it at the test's end,
// checking that no process of its group is left. Like emulatortest, it skips
// when the emulator cannot start, or fails when CI=true.
func start(t *testing.T, fn func(context.Context, emulator.Options) (*emulator.Server, error), opt emulator.Options) *emulator.Server {
	t.Helper()
	srv, err := fn(context.Background(), opt)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("skipping: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if alive(srv.PID()) {
			t.Errorf("process group %d still has processes after Stop", srv.PID())
		}
	})
	return srv
}

// alive reports whether any process is in process group pgid.
func alive(pgid int) bool {
	return !errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
}

func TestStartDynamoDB(t *testing.T) {
	t.Parallel()
	srv := start(t, emulator.StartDynamoDB, emulator.Options{})
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q, want http://127.0.0.1:<port>", srv.Endpoint)
	}
	db := emulatortest.NewDynamoDBClient(srv.Endpoint)
	if _, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	// An error response has no CRC32 header: the client must not choke on it.
	_, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("missing")})
	var nf *ddbtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("DescribeTable(missing) = %v, want ResourceNotFoundException", err)
	}
}

func TestStartSQS(t *testing.T) {
	t.Parallel()
	srv := start(t, emulator.StartSQS, emulator.Options{})
	q := emulatortest.NewSQSClient(srv.Endpoint)
	ctx := context.Background()
	if _, err := q.ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
		t.Fatalf("ListQueues: %v", err)
	}
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String("probe.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"},
	})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	if want := srv.Endpoint + "/" + emulator.AccountID + "/probe.fifo"; aws.ToString(out.QueueUrl) != want {
		t.Errorf("QueueUrl = %q, want %q", aws.ToString(out.QueueUrl), want)
	}
}

func TestStopIsIdempotent(t *testing.T) {
	t.Parallel()
	srv := start(t, emulator.StartSQS, emulator.Options{})
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-srv.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if alive(srv.PID()) {
		t.Fatalf("process group %d alive after Stop", srv.PID())
	}
	// The cleanup calls Stop a second time.
}

func TestSQSDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	srv := start(t, emulator.StartSQS, emulator.Options{DataDir: dir})
	q := emulatortest.NewSQSClient(srv.Endpoint)
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("kept")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String("still here")}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}

	srv = start(t, emulator.StartSQS, emulator.Options{DataDir: dir})
	q = emulatortest.NewSQSClient(srv.Endpoint)
	url, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("kept")})
	if err != nil {
		t.Fatalf("queue not kept: %v", err)
	}
	msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url.QueueUrl, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs.Messages) != 1 || aws.ToString(msgs.Messages[0].Body) != "still here" {
		t.Fatalf("messages after restart = %+v, want the one sent", msgs.Messages)
	}
}

func TestDynamoDBDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	srv := start(t, emulator.StartDynamoDB, emulator.Options{DataDir: dir})
	db := emulatortest.NewDynamoDBClient(srv.Endpoint)
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("kept"),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}

	srv = start(t, emulator.StartDynamoDB, emulator.Options{DataDir: dir})
	db = emulatortest.NewDynamoDBClient(srv.Endpoint)
	out, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TableNames) != 1 || out.TableNames[0] != "kept" {
		t.Fatalf("tables after restart = %v, want [kept]", out.TableNames)
	}
}

func TestNotInstalled(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	for name, fn := range map[string]func(context.Context, emulator.Options) (*emulator.Server, error){
		"DynamoDB Local": emulator.StartDynamoDB,
		"ElasticMQ":      emulator.StartSQS,
	} {
		_, err := fn(context.Background(), emulator.Options{ToolsDir: empty})
		if errors.Is(err, emulator.ErrNoJava) {
			t.Skip(err)
		}
		if !errors.Is(err, emulator.ErrNotInstalled) {
			t.Errorf("%s with empty tools dir: %v, want ErrNotInstalled", name, err)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, name+" not installed") || !strings.Contains(msg, "run `make tools`") {
			t.Errorf("message %q does not say what is missing and to run `make tools`", msg)
		}
	}
}

func TestNoJava(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("JAVA_HOME", "")
	_, err := emulator.StartSQS(context.Background(), emulator.Options{})
	if !errors.Is(err, emulator.ErrNoJava) {
		t.Fatalf("StartSQS without java: %v, want ErrNoJava", err)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "apt-get install openjdk-17-jre-headless") {
		t.Errorf("message %q: want one line naming the package to install", msg)
	}
}

// TestNoOrphanWhenParentDies starts an emulator in a child process that then
// exits without calling Stop, as a test binary does when it panics or is
// killed, and checks that the emulator dies with it.
func TestNoOrphanWhenParentDies(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux only")
	}
	t.Parallel()
	for _, kind := range []string{"dynamodb", "sqs"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			pgid := runCrashingChild(t, "TestHelperCrash", kind)
			deadline := time.Now().Add(10 * time.Second)
			for alive(pgid) {
				if time.Now().After(deadline) {
					_ = syscall.Kill(-pgid, syscall.SIGKILL)
					t.Fatalf("emulator process group %d outlived its parent", pgid)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// runCrashingChild runs test in a child copy of this test binary with
// EMULATOR_HELPER=kind and returns the process group id the child prints
// before it exits.
func runCrashingChild(t *testing.T, test, kind string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), "EMULATOR_HELPER="+kind)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := 0
	var skip string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "PGID="); ok {
			pgid, _ = strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(line, "SKIP="); ok {
			skip = v
		}
	}
	err = cmd.Wait()
	if skip != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(skip)
		}
		t.Skipf("skipping: %s", skip)
	}
	if pgid == 0 {
		t.Fatalf("child printed no PGID (exit %v); stderr:\n%s", err, stderr.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child exit = %v, want status 3", err)
	}
	return pgid
}

// TestHelperCrash is the child of TestNoOrphanWhenParentDies: it starts an
// emulator and exits without stopping it.
func TestHelperCrash(t *testing.T) {
	kind := os.Getenv("EMULATOR_HELPER")
	if kind == "" {
		t.Skip("helper process for TestNoOrphanWhenParentDies")
	}
	fn := emulator.StartSQS
	if kind == "dynamodb" {
		fn = emulator.StartDynamoDB
	}
	srv, err := fn(context.Background(), emulator.Options{})
	if err != nil {
		fmt.Printf("SKIP=%s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(0)
	}
	fmt.Printf("PGID=%d\n", srv.PID())
	os.Exit(3)
}
