//go:build !unix

package emulator

import (
	"os/exec"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the child only: there are no process groups here.
func killGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }
