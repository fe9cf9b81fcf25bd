package emulatortest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/usersapi/usersapi/internal/emulator"
)

// AccessKey is the access key id and secret of AWSConfig's static
// credentials. DynamoDB Local accepts only alphanumeric keys.
const AccessKey = "local"

// The servers shared by the tests of one binary. Test binaries are the one
// place this package keeps state: a server is started at most once per binary.
var (
	dynamoDB = shared{name: "DynamoDB Local", start: emulator.StartDynamoDB}
	sqsQueue = shared{name: "ElasticMQ (SQS)", start: emulator.StartSQS}
)

// DynamoDB returns the endpoint of the test binary's DynamoDB Local, starting
// it on first use. It skips tb, or fails it when CI=true, if the server
// cannot be started.
func DynamoDB(tb testing.TB) string {
	tb.Helper()
	return dynamoDB.endpoint(tb)
}

// SQS returns the endpoint of the test binary's ElasticMQ, starting it on
// first use. It skips tb, or fails it when CI=true, if the server cannot be
// started.
func SQS(tb testing.TB) string {
	tb.Helper()
	return sqsQueue.endpoint(tb)
}

// DynamoDBClient returns a client of the test binary's DynamoDB Local.
func DynamoDBClient(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	return NewDynamoDBClient(DynamoDB(tb))
}

// SQSClient returns a client of the test binary's ElasticMQ.
func SQSClient(tb testing.TB) *sqs.Client {
	tb.Helper()
	return NewSQSClient(SQS(tb))
}

// AWSConfig returns an SDK configuration for an emulator at endpoint: region
// us-east-1, static credentials "local"/"local", BaseEndpoint set. It reads
// nothing from the environment or ~/.aws, so a developer's profile cannot
// send a test to real AWS.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       emulator.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, AccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// NewDynamoDBClient returns a DynamoDB client for DynamoDB Local at
// endpoint. It does not validate the CRC32 response checksum, which DynamoDB
// Local leaves out of error responses.
func NewDynamoDBClient(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(AWSConfig(endpoint), func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true
	})
}

// NewSQSClient returns an SQS client for the emulator at endpoint.
func NewSQSClient(endpoint string) *sqs.Client {
	return sqs.NewFromConfig(AWSConfig(endpoint))
}

// Main runs the tests and then stops the servers they started; use it as
// the whole of a package's TestMain:
//
//	func TestMain(m *testing.M) { emulatortest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "emulatortest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Stop stops the servers started so far. It is for a TestMain that does
// more than [Main]; a later DynamoDB or SQS call in the same binary fails.
func Stop() error {
	return errors.Join(dynamoDB.stop(), sqsQueue.stop())
}

// shared is one emulator, started at most once.
type shared struct {
	name  string
	start func(context.Context, emulator.Options) (*emulator.Server, error)

	mu      sync.Mutex
	started bool
	srv     *emulator.Server
	err     error
}

func (s *shared) endpoint(tb testing.TB) string {
	tb.Helper()
	s.mu.Lock()
	if !s.started {
		s.started = true
		s.srv, s.err = s.start(context.Background(), emulator.Options{})
	}
	srv, err := s.srv, s.err
	s.mu.Unlock()
	if err != nil {
		unavailable(tb, err)
		return ""
	}
	select {
	case <-srv.Done():
		tb.Fatalf("%s at %s has exited", s.name, srv.Endpoint)
	default:
	}
	return srv.Endpoint
}

func (s *shared) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return nil
	}
	if s.err == nil {
		s.err = fmt.Errorf("%s: stopped by emulatortest.Stop", s.name)
		return s.srv.Stop()
	}
	return nil
}

// unavailable fails tb in CI and skips it elsewhere. The errors of package
// emulator say what to do: "run `make tools`", or which apt package gives Java.
func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%v", err)
	}
	tb.Skipf("skipping: %v", err)
}
