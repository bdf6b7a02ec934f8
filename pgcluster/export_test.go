package pgcluster

// NewestVersion exposes newestVersion to the table test in pgcluster_test.
func NewestVersion(dirs []string) string { return newestVersion(dirs) }
