package supervise

import "syscall"

// sysProcAttr puts the child in its own process group, so a Ctrl-C in the
// terminal reaches only devstack, which then stops the children in order;
// and asks the kernel to send SIGTERM to the child if devstack dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// killGroup kills the child and anything it started.
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
