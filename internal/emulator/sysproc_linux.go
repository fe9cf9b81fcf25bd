package emulator

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the child in its own process group, and has the kernel
// SIGKILL it if the thread that started it dies (the Go runtime keeps its
// threads for the life of the process unless a goroutine locked one).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(cmd *exec.Cmd, hard bool) { signalGroup(cmd, hard) }
