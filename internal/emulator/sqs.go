package emulator

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
)

// StartSQS starts ElasticMQ, an SQS emulator speaking the JSON protocol of
// the current SDKs, and returns once it answers ListQueues. It listens on
// 127.0.0.1 only; queue URLs and ARNs use [Region] and [AccountID].
//
// With Options.DataDir set, queues and their messages are kept there
// (queues.conf and an H2 database).
func StartSQS(ctx context.Context, opt Options) (*Server, error) {
	java, tools, err := locate(opt)
	if err != nil {
		return nil, err
	}
	lib := filepath.Join(tools, "elasticmq", "lib")
	if jars, _ := filepath.Glob(filepath.Join(lib, "elasticmq-server_*.jar")); len(jars) == 0 {
		return nil, fmt.Errorf("ElasticMQ %w in %s: run `make tools`", ErrNotInstalled, tools)
	}
	data, err := dataDir(opt)
	if err != nil {
		return nil, err
	}
	var storage []string
	if data != "" {
		storage = []string{
			"-Dqueues-storage.enabled=true",
			"-Dqueues-storage.path=" + filepath.Join(data, "queues.conf"),
			"-Dmessages-storage.enabled=true",
			"-Dmessages-storage.uri=jdbc:h2:" + filepath.Join(data, "elasticmq-h2"),
		}
	}
	return start(ctx, java, spec{
		name: "ElasticMQ",
		dir:  tools,
		args: func(port int) []string {
			p := strconv.Itoa(port)
			args := []string{
				"-Drest-sqs.bind-hostname=127.0.0.1",
				"-Drest-sqs.bind-port=" + p,
				"-Dnode-address.host=127.0.0.1",
				"-Dnode-address.port=" + p,
				"-Daws.region=" + Region,
				"-Daws.accountId=" + AccountID,
			}
			args = append(args, storage...)
			return append(args, "-cp", filepath.Join(lib, "*"), "org.elasticmq.server.Main")
		},
		target:  "AmazonSQS.ListQueues",
		content: "application/x-amz-json-1.0",
	}, opt)
}
