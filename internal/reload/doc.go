// Package reload rebuilds the functions of a running local cloud when their
// sources change: it watches the module's packages (fsnotify), finds from
// the import graph (`go list -deps -json`) which functions a change
// affects, builds only those, and hands each new binary to its pool, which
// lets in-flight invocations finish on the old one. A build that fails
// leaves the old binaries serving.
package reload
