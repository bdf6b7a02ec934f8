package attachment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 keeps blobs in a bucket of an S3-compatible object store, the
// production choice: the blobs outlive any one server and every replica
// sees them. It has no test against a real store here; Dir carries the
// tests of the Blobs contract.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

// S3Config is where the blobs go, as read from a URL by ParseS3URL.
type S3Config struct {
	// Endpoint is the store's host and port, without a scheme.
	Endpoint string
	// Secure is true for HTTPS, the default; plain HTTP only for a store on
	// the same machine.
	Secure bool
	// Bucket must exist already.
	Bucket string
	// Prefix, if not empty, is put before every key ("cases/").
	Prefix string
	// Region is the bucket's region; empty lets the client ask the store.
	Region string
	// AccessKey and SecretKey, when empty, are taken from AWS_ACCESS_KEY_ID
	// and AWS_SECRET_ACCESS_KEY.
	AccessKey, SecretKey string
}

// ParseS3URL reads an S3Config from a URL such as
// https://ACCESS:SECRET@s3.eu-north-1.amazonaws.com/bucket/prefix?region=eu-north-1,
// so that the whole store is one setting. Errors never repeat the URL, which
// may hold the secret key.
func ParseS3URL(raw string) (S3Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return S3Config{}, errors.New("attachment: the S3 URL does not parse")
	}
	var c S3Config
	switch u.Scheme {
	case "https":
		c.Secure = true
	case "http":
	default:
		return S3Config{}, errors.New("attachment: the S3 URL must start with https:// (or http:// for a local store)")
	}
	if u.Host == "" {
		return S3Config{}, errors.New("attachment: the S3 URL has no host")
	}
	c.Endpoint = u.Host
	bucket, prefix, _ := strings.Cut(strings.Trim(u.Path, "/"), "/")
	if bucket == "" {
		return S3Config{}, errors.New("attachment: the S3 URL has no bucket (https://host/bucket)")
	}
	c.Bucket = bucket
	if prefix != "" {
		c.Prefix = prefix + "/"
	}
	c.Region = u.Query().Get("region")
	if u.User != nil {
		c.AccessKey = u.User.Username()
		c.SecretKey, _ = u.User.Password()
	}
	return c, nil
}

// NewS3 returns an S3 for cfg. It does not contact the store; the first
// Put or Get does.
func NewS3(cfg S3Config) (*S3, error) {
	creds := credentials.NewEnvAWS()
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  creds,
		Secure: cfg.Secure,
		Region: cfg.Region,
		// The bucket is in the path: works with every S3-compatible store
		// and with bucket names that contain dots.
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("attachment: S3 client: %w", err)
	}
	return &S3{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix}, nil
}

// Put uploads data under key.
func (s *S3) Put(ctx context.Context, key string, data []byte, contentType string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	if !validContentType(contentType) {
		return fmt.Errorf("attachment: invalid content type %q", SanitizeText(contentType, 64))
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType})
	return err
}

// Get downloads the blob stored under key.
func (s *S3) Get(ctx context.Context, key string) ([]byte, string, error) {
	if !ValidKey(key) {
		return nil, "", ErrInvalidKey
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", s3Error(err)
	}
	defer func() { _ = obj.Close() }() // a read-only body: nothing to report
	info, err := obj.Stat()
	if err != nil {
		return nil, "", s3Error(err)
	}
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, "", s3Error(err)
	}
	return data, info.ContentType, nil
}

// Delete removes the blob stored under key; S3 reports no error for a key
// that is not there.
func (s *S3) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	return s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
}

func s3Error(err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return ErrNotFound
	}
	return err
}
