package faults

import "syscall"

// sysProcAttr makes the kernel kill a service when the test process dies,
// so that an interrupted test leaves no services running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
