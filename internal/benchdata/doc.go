// Package benchdata holds what `make bench` (scripts/bench.sh) measures the
// functions against: hello/, the smallest aws-lambda-go function, and the
// init benchmark, which starts every function's real bootstrap binary under
// the Runtime API emulator (internal/runtimeapi) and compares its init time
// with hello's. Only benchmarks and scripts/bench-size.sh build it.
package benchdata
