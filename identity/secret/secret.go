// Package secret derives Nära's keys from one operator-held secret: the
// access-token signing key and the keys that protect personal identity
// numbers. Keeping them out of the database means a dump reveals neither.
package secret

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Keys are the derived keys.
type Keys struct {
	// Token signs access tokens.
	Token []byte
	// PNR protects personal identity numbers (encryption and lookup hash).
	PNR []byte
	// PNRKeyID names the PNR key, so a rotation can tell old rows apart.
	PNRKeyID string
}

// Derive returns the keys for a master secret of at least 32 bytes.
func Derive(master []byte, keyID string) (Keys, error) {
	if len(master) < 32 {
		return Keys{}, errors.New("the secret key must be at least 32 bytes")
	}
	tok, err := hkdf.Key(sha256.New, master, nil, "nara access tokens v1", 32)
	if err != nil {
		return Keys{}, err
	}
	p, err := hkdf.Key(sha256.New, master, nil, "nara personal identity numbers v1", 32)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Token: tok, PNR: p, PNRKeyID: keyID}, nil
}

// Load reads the master secret from value (base64, the NARA_SECRET_KEY
// setting) or, when value is empty, from dataDir/secret.key, creating that
// file with a new random secret on first use. Every replica of one
// deployment must share the secret, so production sets NARA_SECRET_KEY.
func Load(value, dataDir string, logger *slog.Logger) (Keys, error) {
	if value != "" {
		master, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil {
			return Keys{}, errors.New("NARA_SECRET_KEY must be base64")
		}
		return Derive(master, "env")
	}
	path := filepath.Join(dataDir, "secret.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		master := make([]byte, 32)
		if _, err := rand.Read(master); err != nil {
			return Keys{}, err
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return Keys{}, err
		}
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(master)+"\n"), 0o600); err != nil {
			return Keys{}, fmt.Errorf("write %s: %w", path, err)
		}
		logger.Warn("created a new secret key in the data folder; set NARA_SECRET_KEY in production so every replica shares it",
			slog.String("path", path))
		return Derive(master, "file")
	}
	if err != nil {
		return Keys{}, err
	}
	master, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return Keys{}, fmt.Errorf("%s is not base64", path)
	}
	return Derive(master, "file")
}
