package wrkrun

import (
	_ "embed"
	"os"
	"path/filepath"
)

//go:embed tokens.lua
var tokensLua []byte

// WriteTokenScript writes the Lua script for authenticated requests into
// dir and returns its path. Its Load.Bodies file holds one
// "ACCESS_TOKEN<TAB>JSON_BODY" per line; every request takes a random line,
// so each is a random citizen's.
func WriteTokenScript(dir string) (string, error) {
	path := filepath.Join(dir, "tokens.lua")
	return path, os.WriteFile(path, tokensLua, 0o644)
}
