package pgcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// debianRoot is where Debian and Ubuntu install each PostgreSQL major
// version side by side.
const debianRoot = "/usr/lib/postgresql"

// findBinDir returns the directory holding initdb and postgres; see
// Config.BinDir for the search order. pgdata lets an existing cluster keep
// the major version that created it after a newer one is installed.
func findBinDir(ctx context.Context, configured, pgdata string) (string, error) {
	if configured != "" {
		dir, err := filepath.Abs(configured)
		if err == nil && hasServerBinaries(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("%w (BinDir %s has no initdb and postgres)", ErrBinariesNotFound, configured)
	}

	var tried []string
	if version, err := os.ReadFile(filepath.Join(pgdata, "PG_VERSION")); err == nil {
		dir := filepath.Join(debianRoot, strings.TrimSpace(string(version)), "bin")
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		tried = append(tried, "pg_config --bindir")
		// pg_config may come from a client-only package whose bindir lacks
		// the server; then keep looking.
		if out, err := exec.CommandContext(ctx, pgConfig, "--bindir").Output(); err == nil {
			if dir := strings.TrimSpace(string(out)); hasServerBinaries(dir) {
				return dir, nil
			}
		}
	}
	tried = append(tried, debianRoot+"/*/bin")
	if dirs, err := filepath.Glob(filepath.Join(debianRoot, "*", "bin")); err == nil {
		var usable []string
		for _, dir := range dirs {
			if hasServerBinaries(dir) {
				usable = append(usable, dir)
			}
		}
		if dir := newestVersion(usable); dir != "" {
			return dir, nil
		}
	}
	tried = append(tried, "initdb on PATH")
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if resolved, err := filepath.EvalSymlinks(initdb); err == nil && hasServerBinaries(filepath.Dir(resolved)) {
			return filepath.Dir(resolved), nil
		}
	}
	return "", fmt.Errorf("%w (looked in: %s)", ErrBinariesNotFound, strings.Join(tried, ", "))
}

// hasServerBinaries reports whether dir holds executable initdb and postgres.
func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// newestVersion picks, from directories like /usr/lib/postgresql/15/bin, the
// one with the highest version, comparing "9.6" < "10" < "15" numerically.
// It returns "" when none has a numeric version.
func newestVersion(dirs []string) string {
	var best string
	var bestVersion []int
	for _, dir := range dirs {
		version, ok := parseVersion(filepath.Base(filepath.Dir(dir)))
		if ok && (best == "" || compareVersions(version, bestVersion) > 0) {
			best, bestVersion = dir, version
		}
	}
	return best
}

func parseVersion(s string) ([]int, bool) {
	var version []int
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, false
		}
		version = append(version, n)
	}
	return version, true
}

func compareVersions(a, b []int) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x - y
		}
	}
	return 0
}
