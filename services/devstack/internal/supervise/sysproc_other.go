//go:build unix && !linux

package supervise

import "syscall"

// sysProcAttr puts the child in its own process group, so a Ctrl-C in the
// terminal reaches only devstack, which then stops the children in order.
//
// NOTE: outside Linux a child outlives a devstack killed with SIGKILL.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the child and anything it started.
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
