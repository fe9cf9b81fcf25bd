package localcloud_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/usersapi/usersapi/internal/localcloud"
	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestStartFailsCleanly: a start that fails half-way stops what it started
// and returns its error (issue 14, finding 10: the deferred Close ran on the
// nil that `return nil, err` had put in the named result, and panicked).
func TestStartFailsCleanly(t *testing.T) {
	root := t.TempDir() // no template.yaml: the stack cannot deploy
	_, err := localcloud.Start(t.Context(), localcloud.Options{Root: root, Document: []byte("openapi: 3.0.3"), Log: &strings.Builder{},
		DynamoDBEndpoint: "http://127.0.0.1:1", SQSEndpoint: "http://127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), "template.yaml") {
		t.Errorf("Start without a template: %v", err)
	}
}

// TestStartOnAPortInUse: a port in use is the clear message, not a crash.
func TestStartOnAPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	shared := cloudtest.Cloud(t) // its emulators, so that only the port can fail
	bin, err := cloudtest.Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := localcloud.Start(ctx, localcloud.Options{Root: cloudtest.Root(), BinDir: bin, Addr: ln.Addr().String(), Log: cloudtest.Log,
		DynamoDBEndpoint: endpoint(t, shared, "DYNAMODB"), SQSEndpoint: endpoint(t, shared, "SQS")})
	if err == nil {
		c.Close()
		t.Fatal("Start on a port in use succeeded")
	}
	if !strings.Contains(err.Error(), "listen on "+ln.Addr().String()) || !strings.Contains(err.Error(), "is another `make run` using it?") {
		t.Errorf("Start on a port in use: %v", err)
	}
}

// endpoint is a running cloud's emulator endpoint for service.
func endpoint(t *testing.T, c *localcloud.Cloud, service string) string {
	t.Helper()
	if service == "SQS" {
		return aws.ToString(c.SQS.Options().BaseEndpoint)
	}
	return aws.ToString(c.DynamoDB.Options().BaseEndpoint)
}
