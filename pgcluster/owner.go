package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// defaultRunAsUser owns the cluster when the process is root and
// Config.RunAsUser is empty.
const defaultRunAsUser = "nara"

// owner is the unprivileged user that runs the server when the process is
// root. A nil *owner means "the current user" and makes every method a no-op.
type owner struct {
	user   string
	uid    uint32
	gid    uint32
	groups []uint32
}

// resolveOwner returns nil unless the process is root. As root it looks up
// name (default "nara"), creates it as a system user if missing, and falls
// back to "postgres", then "nobody", if that fails.
func resolveOwner(ctx context.Context, name string, logger *slog.Logger) (*owner, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if name == "" {
		name = defaultRunAsUser
	}
	u, err := user.Lookup(name)
	if errors.As(err, new(user.UnknownUserError)) {
		if u, err = createUser(ctx, name); err == nil {
			logger.Info("using system user for PostgreSQL", "user", name)
		} else {
			logger.Warn("cannot create system user for PostgreSQL", "user", name, "err", err)
		}
	}
	for _, fallback := range []string{"postgres", "nobody"} {
		if err == nil {
			break
		}
		if u, err = user.Lookup(fallback); err == nil {
			logger.Warn("running PostgreSQL as fallback user", "wanted", name, "user", fallback)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("pgcluster: no user to run PostgreSQL as (tried %s, postgres, nobody): %w", name, err)
	}
	return newOwner(u)
}

// userLock serializes createUser across processes: concurrent useradd runs
// can overwrite each other's entries (seen with shadow-utils in containers),
// and parallel test packages each start a cluster. It is the lckpwdf(3)
// file; flock(2) does not interfere with the fcntl lock useradd takes on it.
const userLock = "/etc/.pwd.lock"

// createUser adds name as a system user unless another process just did.
func createUser(ctx context.Context, name string) (*user.User, error) {
	if f, err := os.OpenFile(userLock, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		defer f.Close() // releases the lock
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
	}
	if u, err := user.Lookup(name); err == nil {
		return u, nil
	}
	out, err := exec.CommandContext(ctx, "useradd", "--system", "--no-create-home", name).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("useradd: %w: %s", err, bytes.TrimSpace(out))
	}
	return user.Lookup(name)
}

func newOwner(u *user.User) (*owner, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	if uid == 0 {
		return nil, fmt.Errorf("pgcluster: user %s is root; PostgreSQL refuses to run as root", u.Username)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	o := &owner{user: u.Username, uid: uint32(uid), gid: uint32(gid)}
	ids, err := u.GroupIds()
	if err != nil {
		// Supplementary groups only widen access; run without them.
		ids = nil
	}
	for _, id := range ids {
		if g, err := strconv.ParseUint(id, 10, 32); err == nil {
			o.groups = append(o.groups, uint32(g))
		}
	}
	return o, nil
}

// name is the user the server runs as, for logs.
func (o *owner) name() string {
	if o == nil {
		if u, err := user.Current(); err == nil {
			return u.Username
		}
		return strconv.Itoa(os.Getuid())
	}
	return o.user
}

// credential is what exec needs to drop root; nil keeps the current user.
func (o *owner) credential() *syscall.Credential {
	if o == nil {
		return nil
	}
	return &syscall.Credential{Uid: o.uid, Gid: o.gid, Groups: o.groups}
}

// chown gives one file to the owner.
func (o *owner) chown(path string) error {
	if o == nil {
		return nil
	}
	if err := os.Lchown(path, int(o.uid), int(o.gid)); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// chownTree gives dir and everything in it to the owner, unless dir is
// already theirs (then so is the rest, as Start made it).
func (o *owner) chownTree(dir string) error {
	if o == nil {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == o.uid && st.Gid == o.gid {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		return o.chown(path)
	})
}

// checkReachable fails with an actionable message when the owner cannot
// enter a parent of dir: initdb and postgres would otherwise fail with a bare
// "permission denied".
func (o *owner) checkReachable(dir string) error {
	if o == nil {
		return nil
	}
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	for d := filepath.Dir(resolved); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if !o.canSearch(fi) {
			return fmt.Errorf("pgcluster: user %s cannot enter %s, a parent of the data directory %s; "+
				"make it searchable (chmod o+x %s) or choose another data directory", o.user, d, dir, d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// canSearch applies the permission bits of a directory to the owner. ACLs
// are not consulted.
func (o *owner) canSearch(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == o.uid:
		return perm&0o100 != 0
	case o.inGroup(st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

func (o *owner) inGroup(gid uint32) bool {
	if gid == o.gid {
		return true
	}
	for _, g := range o.groups {
		if g == gid {
			return true
		}
	}
	return false
}
