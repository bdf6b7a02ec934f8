package pgcluster

import "syscall"

// sysProcAttr runs a PostgreSQL binary as cred (nil: as ourselves) in its own
// process group, so a Ctrl-C meant for the caller does not shut the server
// down before the caller has finished with it. The parent-death signal
// (SIGINT, a fast shutdown) stops the server if the caller dies without
// calling Stop, even by SIGKILL.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Credential: cred,
		Setpgid:    true,
		Pdeathsig:  syscall.SIGINT,
	}
}
