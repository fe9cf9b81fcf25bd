// Package localcloud runs the whole usersapi pipeline on a laptop, from
// template.yaml and api/openapi.yaml, with the real function binaries: it
// starts DynamoDB Local and an SQS emulator, deploys the template's tables
// and queues, runs each function under an emulated Lambda Runtime API, polls
// the queue and the table's stream as Lambda's event source mappings do,
// accepts EventBridge events, and serves the REST API as API Gateway does.
package localcloud

import "github.com/usersapi/usersapi/internal/stack"

const (
	accountID  = stack.Account
	regionName = stack.Region
)
