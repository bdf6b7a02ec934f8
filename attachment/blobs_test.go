package attachment_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nara-care/nara/attachment"
)

func setupDir(t *testing.T) (*attachment.Dir, string) {
	t.Helper()
	root := t.TempDir()
	path := filepath.Join(root, "blobs")
	d, err := attachment.NewDir(path)
	if err != nil {
		t.Fatal(err)
	}
	return d, path
}

func TestDirRoundTrip(t *testing.T) {
	t.Parallel()
	d, path := setupDir(t)
	ctx := t.Context()
	key := attachment.NewKey()
	data := encodePNG(t, 4, 4)
	if err := d.Put(ctx, key, data, "image/png"); err != nil {
		t.Fatal(err)
	}
	got, ct, err := d.Get(ctx, key)
	if err != nil || ct != "image/png" || string(got) != string(data) {
		t.Fatalf("Get = %d bytes, %q, %v; want %d bytes, image/png", len(got), ct, err, len(data))
	}
	// Put replaces.
	if err := d.Put(ctx, key, []byte("%PDF-\n%%EOF"), "application/pdf"); err != nil {
		t.Fatal(err)
	}
	if got, ct, _ := d.Get(ctx, key); string(got) != "%PDF-\n%%EOF" || ct != "application/pdf" {
		t.Errorf("after a second Put, Get = %q, %q", got, ct)
	}
	entries, _ := os.ReadDir(path)
	if len(entries) != 1 || entries[0].Name() != key {
		t.Errorf("folder holds %v, want only %s (no temporary files left)", entries, key)
	}
	if info, err := os.Stat(filepath.Join(path, key)); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("blob file mode %v, %v; want 0600", info.Mode().Perm(), err)
	}
	if err := d.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Get(ctx, key); !errors.Is(err, attachment.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := d.Delete(ctx, key); err != nil {
		t.Errorf("second Delete = %v, want nil", err)
	}
	if err := d.Put(ctx, key, data, "image/png\nX-Evil: 1"); err == nil {
		t.Error("Put with a newline in the content type succeeded")
	}
}

func TestDirRefusesBadKeys(t *testing.T) {
	t.Parallel()
	d, path := setupDir(t)
	ctx := t.Context()
	// A file next to the folder that an escaping key would reach.
	outside := filepath.Join(filepath.Dir(path), "outside")
	if err := os.WriteFile(outside, []byte("image/png\nkeep"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"", ".", "..", "../outside", "../../etc/passwd", "a/b", `a\b`, "/etc/passwd",
		".put-123", "a\x00", "a b", "å", strings.Repeat("a", 129),
	} {
		if err := d.Put(ctx, key, []byte("x"), "image/png"); !errors.Is(err, attachment.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, _, err := d.Get(ctx, key); !errors.Is(err, attachment.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := d.Delete(ctx, key); !errors.Is(err, attachment.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != "image/png\nkeep" {
		t.Errorf("the file outside the folder changed: %q, %v", b, err)
	}
}

func TestNewKey(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		k := attachment.NewKey()
		if !attachment.ValidKey(k) || len(k) < 26 || seen[k] {
			t.Fatalf("NewKey() = %q: valid %v, repeated %v", k, attachment.ValidKey(k), seen[k])
		}
		seen[k] = true
	}
}
