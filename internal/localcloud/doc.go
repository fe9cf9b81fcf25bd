// Package localcloud runs the whole usersapi pipeline on a laptop, from
// template.yaml and api/openapi.yaml, with the real function binaries. It
// wires the emulated services into one cloud: DynamoDB Local and an SQS
// emulator (internal/emulator) with the template's tables and queues
// (internal/stack), each function under an emulated Lambda Runtime API
// (internal/runtimeapi), the event source mappings (internal/eventsource),
// EventBridge (internal/eventbridge), X-Ray (internal/xray), the functions'
// metrics (internal/cloudwatch) and the REST API (internal/apigateway). It
// also issues the development tokens the authorizer trusts, lists and
// redrives the dead letters, and serves its own pages under /_local/.
package localcloud
