package main

import "syscall"

// stopWithParent asks the kernel to send SIGTERM when the parent (make, a
// shell) dies, so that `make run` ended any way stops the cloud cleanly.
func stopWithParent() {
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
}
