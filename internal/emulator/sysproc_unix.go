//go:build unix && !linux

package emulator

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the child in its own process group. Outside Linux there is
// no parent-death signal: a Go process killed before Stop leaves the server
// running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func killGroup(cmd *exec.Cmd, hard bool) { signalGroup(cmd, hard) }
