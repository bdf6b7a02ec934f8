package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryPackageHasADocComment keeps the architecture readable from `go
// doc`: each package says what it provides.
func TestEveryPackageHasADocComment(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	skip := map[string]bool{"gen": true, "node_modules": true, "sdk": true, ".git": true, ".build": true, ".nara": true}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if skip[d.Name()] || (strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		var files []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		if len(files) == 0 {
			return nil
		}
		for _, f := range files {
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				return err
			}
			if parsed.Doc != nil && strings.TrimSpace(parsed.Doc.Text()) != "" {
				return nil
			}
		}
		t.Errorf("package in %s has no doc comment", path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
