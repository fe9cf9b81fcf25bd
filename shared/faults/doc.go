// Package faults injects failures into the AWS SDK clients of the functions,
// for the reliability tests: throttling, 5xx, timeouts, a crash of the
// process right after a DynamoDB write, and EventBridge PutEvents entries
// refused.
//
// It is compiled in only with the build tag faultinject, which the tests use
// to build their binaries; without it Instrument does nothing and no code of
// it is linked, so nothing a user sends can trigger it. With the tag, the
// faults and their rates come from USERSAPI_FAULTS, for example
//
//	USERSAPI_FAULTS="dynamodb.throttle=0.1,dynamodb.5xx=0.02,dynamodb.timeout=0.01,dynamodb.crash_after_write=0.05,eventbridge.fail_entry=0.1"
//
// and "dynamodb.delay=1,dynamodb.delay_ms=5000" makes calls hang, to show
// function timeouts.
//
// Faults are injected per attempt, inside the SDK's retry loop: its retryer
// stays on, and the tests show what happens when its attempts run out.
package faults
