// Package eventschema checks EventBridge events against the change events'
// contract, api/asyncapi.yaml: each message's payload is an OpenAPI 3.0
// schema of the whole event as EventBridge delivers it, whose $refs (into
// api/openapi.yaml too) are inlined before it is compiled. The contract's
// tests (api/asyncapi_test.go) and the local events page use the same code.
package eventschema
