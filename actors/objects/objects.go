// Package objects reads and writes the objects that state machines and Glue jobs name
// by location: s3://bucket/key (Distributed Map's ItemReader and ResultWriter, Glue's
// ScriptLocation and BlueprintLocation) and file:///path (a local file, for Glue
// scripts kept on the node).
//
// Where s3:// objects live is the node's choice (cmd/sfnd flags):
//
//   - a local directory (--s3-local-root DIR): s3://bucket/key is the file
//     DIR/bucket/key; a bucket is a directory of DIR. For one machine with no S3.
//   - an S3-compatible endpoint (--s3-endpoint URL, or the AWS SDK's own
//     AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL), reached through aws-sdk-go-v2's S3 client
//     with path-style addressing;
//   - otherwise AWS S3 itself, with the SDK's default credentials and region chain.
//
// Errors carry S3's error code (NoSuchKey, NoSuchBucket, AccessDenied, ...), its HTTP
// status and message, whichever backend answered; IsNotFound tells a missing object or
// bucket from other failures.
package objects

import (
	"context"
	stderrors "errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Object is an object's content and metadata.
type Object struct {
	Bucket, Key  string
	Body         []byte
	ETag         string // quoted, as S3 answers it
	LastModified time.Time
	Size         int64
}

// Info describes an object in a listing, as ListObjectsV2 does.
type Info struct {
	Key          string
	ETag         string // quoted, as S3 answers it
	LastModified time.Time
	Size         int64
	StorageClass string
}

// ListOptions narrow a listing.
type ListOptions struct {
	Prefix     string
	StartAfter string // keys after this one only
	Max        int    // at most this many (0: all)
}

// Error is a failed object operation, in S3's terms.
type Error struct {
	Op         string // GetObject, PutObject, ListObjectsV2
	Bucket     string
	Key        string
	Code       string // S3 error code: NoSuchKey, NoSuchBucket, AccessDenied, InvalidLocation, ...
	Message    string
	StatusCode int    // HTTP status (0: no answer)
	RequestID  string // S3's request id, when one answered
	Err        error  // the underlying error, if any
}

func (e *Error) Error() string {
	loc := "s3://" + e.Bucket
	if e.Key != "" {
		loc += "/" + e.Key
	}
	if e.Bucket == "" {
		loc = e.Key
	}
	return fmt.Sprintf("%s %s: %s: %s", e.Op, loc, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Error codes that are not S3's own.
const (
	// CodeInvalidLocation: the location is not s3://bucket/key or file:///path.
	CodeInvalidLocation = "InvalidLocation"
	// CodeNoAnswer: the S3 endpoint could not be reached.
	CodeNoAnswer = "SdkClientException"
)

// IsNotFound reports whether err says the object or its bucket does not exist.
func IsNotFound(err error) bool {
	var e *Error
	if stderrors.As(err, &e) {
		return e.Code == "NoSuchKey" || e.Code == "NoSuchBucket" || e.Code == "NotFound"
	}
	return false
}

// Code is err's S3 error code ("" when err is not an *Error).
func Code(err error) string {
	var e *Error
	if stderrors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Location is a parsed object location.
type Location struct {
	Scheme string // "s3" or "file"
	Bucket string // s3 only
	Key    string // s3: the key; file: the absolute path
}

func (l Location) String() string {
	if l.Scheme == "file" {
		return "file://" + l.Key
	}
	return "s3://" + l.Bucket + "/" + l.Key
}

// ParseLocation parses s3://bucket/key or file:///absolute/path. An s3 location may
// have an empty key (a bucket, or a prefix to list).
func ParseLocation(s string) (Location, error) {
	switch {
	case strings.HasPrefix(s, "s3://"):
		rest := s[len("s3://"):]
		bucket, key, _ := strings.Cut(rest, "/")
		if err := checkBucket(bucket); err != nil {
			return Location{}, &Error{Op: "ParseLocation", Key: s, Code: CodeInvalidLocation, Message: err.Error()}
		}
		return Location{Scheme: "s3", Bucket: bucket, Key: key}, nil
	case strings.HasPrefix(s, "file://"):
		u, err := url.Parse(s)
		if err != nil || (u.Host != "" && u.Host != "localhost") || !strings.HasPrefix(u.Path, "/") {
			return Location{}, &Error{Op: "ParseLocation", Key: s, Code: CodeInvalidLocation, Message: "a file location is file:///absolute/path"}
		}
		return Location{Scheme: "file", Key: u.Path}, nil
	}
	return Location{}, &Error{Op: "ParseLocation", Key: s, Code: CodeInvalidLocation, Message: "a location is s3://bucket/key or file:///path"}
}

// checkBucket accepts S3's bucket names (3 to 63 characters of lower-case letters,
// digits, dots and hyphens, starting and ending with a letter or digit) and, leniently,
// upper case and underscores (older buckets and S3-compatible servers allow them).
func checkBucket(b string) error {
	if len(b) < 3 || len(b) > 255 {
		return fmt.Errorf("bucket name %q must be 3 to 255 characters", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
		if !ok {
			return fmt.Errorf("bucket name %q has the character %q", b, c)
		}
	}
	if b[0] == '.' || b[0] == '-' || b[len(b)-1] == '.' || b[len(b)-1] == '-' || strings.Contains(b, "..") {
		return fmt.Errorf("bucket name %q must start and end with a letter or digit", b)
	}
	return nil
}

// backend is where s3:// objects live.
type backend interface {
	get(ctx context.Context, bucket, key string) (*Object, error)
	open(ctx context.Context, bucket, key string) (io.ReadCloser, *Object, error)
	put(ctx context.Context, bucket, key string, body []byte, contentType string) (etag string, err error)
	list(ctx context.Context, bucket string, opts ListOptions) ([]Info, error)
	describe() string
}

// Store reads and writes objects by location.
type Store struct {
	s3 backend
}

// Describe names the backend, for logs: "local root DIR", "S3 endpoint URL" or "AWS S3".
func (s *Store) Describe() string { return s.s3.describe() }

// GetObject reads s3://bucket/key whole.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (*Object, error) {
	if err := checkBucket(bucket); err != nil {
		return nil, &Error{Op: "GetObject", Bucket: bucket, Key: key, Code: "InvalidBucketName", Message: err.Error(), StatusCode: 400}
	}
	return s.s3.get(ctx, bucket, key)
}

// OpenObject streams s3://bucket/key; the caller closes the reader. The Object has the
// metadata and no Body.
func (s *Store) OpenObject(ctx context.Context, bucket, key string) (io.ReadCloser, *Object, error) {
	if err := checkBucket(bucket); err != nil {
		return nil, nil, &Error{Op: "GetObject", Bucket: bucket, Key: key, Code: "InvalidBucketName", Message: err.Error(), StatusCode: 400}
	}
	return s.s3.open(ctx, bucket, key)
}

// PutObject writes s3://bucket/key (replacing it) and returns its ETag. The bucket must
// exist.
func (s *Store) PutObject(ctx context.Context, bucket, key string, body []byte, contentType string) (string, error) {
	if err := checkBucket(bucket); err != nil {
		return "", &Error{Op: "PutObject", Bucket: bucket, Key: key, Code: "InvalidBucketName", Message: err.Error(), StatusCode: 400}
	}
	return s.s3.put(ctx, bucket, key, body, contentType)
}

// ListObjects lists a bucket's objects in key order (UTF-8 binary order, as S3 does).
func (s *Store) ListObjects(ctx context.Context, bucket string, opts ListOptions) ([]Info, error) {
	if err := checkBucket(bucket); err != nil {
		return nil, &Error{Op: "ListObjectsV2", Bucket: bucket, Code: "InvalidBucketName", Message: err.Error(), StatusCode: 400}
	}
	return s.s3.list(ctx, bucket, opts)
}

// Get reads the object at a location (s3://bucket/key or file:///path) whole.
func (s *Store) Get(ctx context.Context, location string) (*Object, error) {
	l, err := ParseLocation(location)
	if err != nil {
		return nil, err
	}
	if l.Scheme == "file" {
		return getFile(l.Key)
	}
	if l.Key == "" {
		return nil, &Error{Op: "GetObject", Bucket: l.Bucket, Code: CodeInvalidLocation, Message: "the location names a bucket, not an object"}
	}
	return s.s3.get(ctx, l.Bucket, l.Key)
}

// Put writes the object at a location (s3://bucket/key or file:///path) and returns its
// ETag. A file location's directories are created; an s3 bucket must exist.
func (s *Store) Put(ctx context.Context, location string, body []byte) (string, error) {
	l, err := ParseLocation(location)
	if err != nil {
		return "", err
	}
	if l.Scheme == "file" {
		return putFile(l.Key, body)
	}
	if l.Key == "" || strings.HasSuffix(l.Key, "/") {
		return "", &Error{Op: "PutObject", Bucket: l.Bucket, Key: l.Key, Code: CodeInvalidLocation, Message: "the location names a bucket or folder, not an object"}
	}
	return s.s3.put(ctx, l.Bucket, l.Key, body, "")
}

// List lists the objects under a location: s3://bucket/prefix (every key that starts
// with prefix) or file:///dir (every file below dir, keys relative to it).
func (s *Store) List(ctx context.Context, location string, max int) ([]Info, error) {
	l, err := ParseLocation(location)
	if err != nil {
		return nil, err
	}
	if l.Scheme == "file" {
		return listFiles(l.Key, max)
	}
	return s.s3.list(ctx, l.Bucket, ListOptions{Prefix: l.Key, Max: max})
}
