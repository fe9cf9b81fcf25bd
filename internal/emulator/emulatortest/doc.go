// Package emulatortest gives tests the local emulators of package emulator:
// one DynamoDB Local and one ElasticMQ per test binary, started on first use
// and shared by every test in it, and SDK clients configured for them.
//
//	func TestMain(m *testing.M) { emulatortest.Main(m) }
//
//	func TestSave(t *testing.T) {
//		db := emulatortest.DynamoDBClient(t) // *dynamodb.Client on DynamoDB Local
//		// ...
//	}
//
// When an emulator cannot be started (not installed, no Java), a test that
// asks for it is skipped with the reason (such as "run `make tools`"); with CI=true
// in the environment it fails instead, so CI never passes by skipping.
//
// Main stops the servers after the tests. Without it they still die with the
// test binary on Linux (a parent-death signal); elsewhere, use Main, or call
// [Stop] from your own TestMain.
package emulatortest
