package dynamotest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/usersapi/usersapi/internal/emulator/emulatortest"
	"github.com/usersapi/usersapi/internal/stack"
)

// Tables are the template's DynamoDB tables in the test binary's DynamoDB
// Local, and a client of it.
type Tables struct {
	Client      *dynamodb.Client
	Users       string // UsersTable
	Requests    string // RequestsTable
	Idempotency string // IdempotencyTable
}

// The template's tables, deployed at most once per test binary.
var (
	deployOnce sync.Once
	deployed   *stack.Stack
	deployErr  error
)

// Deploy returns the template's tables in the test binary's DynamoDB Local,
// creating them on first use (a table that exists is kept, so tests use keys
// of their own). Like emulatortest, it skips tb, or fails it when CI=true, if
// DynamoDB Local cannot be started.
func Deploy(tb testing.TB) Tables {
	tb.Helper()
	db := emulatortest.DynamoDBClient(tb)
	deployOnce.Do(func() {
		var template string
		if template, deployErr = templatePath(); deployErr != nil {
			return
		}
		if deployed, deployErr = stack.Load(template, nil); deployErr == nil {
			deployErr = deployed.DeployTables(context.Background(), db)
		}
	})
	if deployErr != nil {
		tb.Fatalf("deploy the template's tables: %v", deployErr)
	}
	return Tables{Client: db, Users: deployed.Resources["UsersTable"].Name,
		Requests: deployed.Resources["RequestsTable"].Name, Idempotency: deployed.Resources["IdempotencyTable"].Name}
}

// templatePath returns the path of the module's template.yaml: the test runs
// in its package's folder, somewhere below the module's root.
func templatePath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find template.yaml: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "template.yaml"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find template.yaml: no go.mod above the test's folder")
		}
		dir = parent
	}
}
