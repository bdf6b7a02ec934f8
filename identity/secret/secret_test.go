package secret_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/nara-care/nara/identity/secret"
)

func TestLoadCreatesThenReuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logger := slog.New(slog.DiscardHandler)
	a, err := secret.Load("", dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key mode got %v (%v), want 0600", fi.Mode(), err)
	}
	b, err := secret.Load("", dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Token, b.Token) || !bytes.Equal(a.PNR, b.PNR) || bytes.Equal(a.Token, a.PNR) {
		t.Errorf("keys not stable or not separated")
	}
}

func TestLoadFromSetting(t *testing.T) {
	t.Parallel()
	v := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	if _, err := secret.Load(v, t.TempDir(), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := secret.Load(bad, t.TempDir(), slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("Load(%q) succeeded, want an error", bad)
		}
	}
}
