package attachment

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Blobs stores attachment bytes by key. It is this small so that the
// production object store (S3-compatible), a local folder and PostgreSQL
// can each stand behind it; who may read a key is decided before calling it.
type Blobs interface {
	// Put stores data under key, replacing what was there.
	Put(ctx context.Context, key string, data []byte, contentType string) error
	// Get returns the data and content type stored under key, or
	// ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, string, error)
	// Delete removes key; deleting a key that is not there is not an
	// error, as with S3, so that a retried delete succeeds.
	Delete(ctx context.Context, key string) error
}

// Errors from Blobs.
var (
	// ErrNotFound is returned by Get for a key that holds nothing.
	ErrNotFound = errors.New("attachment not found")
	// ErrInvalidKey is returned for a key that is not 1 to 128 letters,
	// digits, '-' and '_': keys are ids, and a key like "../x" must never
	// reach a file system or a bucket.
	ErrInvalidKey = errors.New("invalid attachment key")
)

// maxContentType bounds a stored content type.
const maxContentType = 255

// NewKey returns a new random key with 128 bits from crypto/rand, so that
// keys can neither be guessed nor collide.
func NewKey() string {
	return rand.Text()
}

// ValidKey tells whether key may be used with Blobs.
func ValidKey(key string) bool {
	if key == "" || len(key) > 128 {
		return false
	}
	for _, c := range key {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func validContentType(ct string) bool {
	return ct != "" && len(ct) <= maxContentType && !strings.ContainsFunc(ct, func(r rune) bool { return r < ' ' || r == 0x7F })
}

// Dir keeps blobs as files in one local folder: the default for
// development and a single server. Each file holds the content type on its
// first line and the data after it, so that both change in one rename.
type Dir struct {
	path string
}

// NewDir returns a Dir that keeps its files in path, creating the folder
// (readable by its owner only) if need be.
func NewDir(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("attachment folder: %w", err)
	}
	return &Dir{path: path}, nil
}

func (d *Dir) file(key string) (string, error) {
	if !ValidKey(key) {
		return "", ErrInvalidKey
	}
	return filepath.Join(d.path, key), nil
}

// Put writes data to a temporary file in the folder and renames it to key,
// so that a reader sees the old blob or the new one, never half of one.
func (d *Dir) Put(ctx context.Context, key string, data []byte, contentType string) error {
	name, err := d.file(key)
	if err != nil {
		return err
	}
	if !validContentType(contentType) {
		return fmt.Errorf("attachment: invalid content type %q", SanitizeText(contentType, 64))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Temporary names start with '.', which no key does.
	tmp, err := os.CreateTemp(d.path, ".put-*")
	if err != nil {
		return err
	}
	// After the rename there is nothing to remove; before it, the
	// temporary file goes and the error that stopped us is the one to report.
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.WriteString(contentType + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return err
	}
	return syncDir(d.path)
}

// syncDir makes a rename in the folder durable.
func syncDir(path string) error {
	dir, err := os.Open(path)
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// Get reads the blob stored under key.
func (d *Dir) Get(ctx context.Context, key string) ([]byte, string, error) {
	name, err := d.file(key)
	if err != nil {
		return nil, "", err
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", err
	}
	ct, data, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return nil, "", fmt.Errorf("attachment: blob %s has no content type", key)
	}
	return data, string(ct), nil
}

// Delete removes the blob stored under key, if any.
func (d *Dir) Delete(ctx context.Context, key string) error {
	name, err := d.file(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
