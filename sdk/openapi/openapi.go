// Package openapi holds the OpenAPI description of Nära's Connect JSON API,
// gen/nara.openapi.yaml (written by make generate), embedded so that the
// server can serve it and a human-readable page made from it without
// reading files at run time.
package openapi

import (
	_ "embed"
	"slices"
)

//go:embed gen/nara.openapi.yaml
var description []byte

// Description returns the OpenAPI 3.1 description as YAML.
func Description() []byte {
	return slices.Clone(description)
}
