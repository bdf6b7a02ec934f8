package attachment_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nara-care/nara/attachment"
)

func TestParseS3URL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want attachment.S3Config
	}{
		{"https://AK:SK@s3.eu-north-1.amazonaws.com/nara-attachments?region=eu-north-1", attachment.S3Config{
			Endpoint: "s3.eu-north-1.amazonaws.com", Secure: true, Bucket: "nara-attachments", Region: "eu-north-1", AccessKey: "AK", SecretKey: "SK",
		}},
		{"http://127.0.0.1:9000/bucket/cases/", attachment.S3Config{Endpoint: "127.0.0.1:9000", Bucket: "bucket", Prefix: "cases/"}},
		{"https://objects.example/b/a/b", attachment.S3Config{Endpoint: "objects.example", Secure: true, Bucket: "b", Prefix: "a/b/"}},
	}
	for _, tc := range tests {
		got, err := attachment.ParseS3URL(tc.url)
		if err != nil || got != tc.want {
			t.Errorf("ParseS3URL(%q) got %+v, %v, want %+v", tc.url, got, err, tc.want)
		}
		if _, err := attachment.NewS3(got); err != nil {
			t.Errorf("NewS3(%+v) = %v", got, err)
		}
	}
	for _, bad := range []string{"s3://AK:SECRET@host/bucket", "https://AK:SECRET@host", "https:///bucket", "https://AK:SECRET@host/%zz"} {
		_, err := attachment.ParseS3URL(bad)
		if err == nil {
			t.Errorf("ParseS3URL(%q) succeeded, want an error", bad)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("ParseS3URL(%q) error %q shows the secret", bad, err)
		}
	}
}

func TestS3RefusesBadKeysWithoutCallingTheStore(t *testing.T) {
	t.Parallel()
	// Port 1 on the loopback: nothing is reached, since the key is refused first.
	s, err := attachment.NewS3(attachment.S3Config{Endpoint: "127.0.0.1:1", Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, key := range []string{"../x", "a/b", ""} {
		if err := s.Put(ctx, key, []byte("x"), "image/png"); !errors.Is(err, attachment.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, _, err := s.Get(ctx, key); !errors.Is(err, attachment.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, attachment.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

// Both implementations are Blobs.
var (
	_ attachment.Blobs = (*attachment.Dir)(nil)
	_ attachment.Blobs = (*attachment.S3)(nil)
)
