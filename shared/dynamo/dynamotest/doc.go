// Package dynamotest sets up DynamoDB for the tests and benchmarks of package
// dynamo and its users: the template's tables, deployed once per test binary
// to the binary's DynamoDB Local (package emulatortest starts it).
package dynamotest
