//go:build unix

package emulator

import (
	"os/exec"
	"syscall"
)

// signalGroup sends SIGTERM, or SIGKILL if hard, to the child's process group.
func signalGroup(cmd *exec.Cmd, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig) // ESRCH: the group is already gone
}
