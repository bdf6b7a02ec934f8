//go:build unix && !linux

package pgcluster

import "syscall"

// sysProcAttr runs a PostgreSQL binary as cred (nil: as ourselves) in its own
// process group, so a Ctrl-C meant for the caller does not shut the server
// down before the caller has finished with it. Without a parent-death signal
// on this system, a caller killed without calling Stop leaves the server
// running; the next Start then reports ErrAlreadyRunning.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Credential: cred,
		Setpgid:    true,
	}
}
