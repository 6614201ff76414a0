package gluejob

import (
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors/objects"
)

// ErrNotFound marks a location that holds nothing.
var ErrNotFound = errors.New("gluejob: object not found")

// Fetcher reads the object at a location: a script (Command.ScriptLocation,
// --scriptLocation), an --extra-py-files or --extra-files entry, a blueprint archive.
type Fetcher interface {
	Fetch(ctx context.Context, location string, maxBytes int64) ([]byte, error)
}

// LocalFetcher reads file:// URLs and absolute paths, and s3://bucket/key as
// S3LocalRoot/bucket/key when S3LocalRoot is set.
type LocalFetcher struct {
	S3LocalRoot string
}

var _ Fetcher = LocalFetcher{}

// Fetch implements Fetcher. maxBytes <= 0 means no limit.
func (f LocalFetcher) Fetch(_ context.Context, location string, maxBytes int64) ([]byte, error) {
	path, err := f.path(location)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.Mark(errors.Newf("%s does not exist", path), ErrNotFound)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "open %s", location)
	}
	defer func() { _ = file.Close() }()
	var r io.Reader = file
	if maxBytes > 0 {
		r = io.LimitReader(file, maxBytes+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, errors.Wrapf(err, "read %s", location)
	}
	if maxBytes > 0 && int64(len(data)) > maxBytes {
		return nil, errors.Newf("%s is larger than %d bytes", location, maxBytes)
	}
	return data, nil
}

func (f LocalFetcher) path(location string) (string, error) {
	switch {
	case strings.HasPrefix(location, "file://"):
		u, err := url.Parse(location)
		if err != nil || u.Path == "" || (u.Host != "" && u.Host != "localhost") {
			return "", errors.Newf("%s is not a file:///absolute/path URL", location)
		}
		return filepath.FromSlash(u.Path), nil
	case strings.HasPrefix(location, "s3://"):
		if f.S3LocalRoot == "" {
			return "", errors.Newf("no S3 source is configured for %s (start sfnd with --s3-local-root or --s3-endpoint)", location)
		}
		bucket, key, ok := strings.Cut(strings.TrimPrefix(location, "s3://"), "/")
		if !ok || bucket == "" || key == "" || strings.HasSuffix(key, "/") {
			return "", errors.Newf("%s does not name an object (s3://bucket/key)", location)
		}
		p := filepath.Join(f.S3LocalRoot, bucket, filepath.FromSlash(key))
		if rel, err := filepath.Rel(f.S3LocalRoot, p); err != nil || strings.HasPrefix(rel, "..") {
			return "", errors.Newf("%s escapes the S3 local root", location)
		}
		return p, nil
	case filepath.IsAbs(location):
		return location, nil
	}
	return "", errors.Newf("%s is neither an s3:// nor a file:// location", location)
}

// ObjectsFetcher reads locations through the node's object store (actors/objects):
// s3://bucket/key from --s3-local-root or an S3 endpoint, file:///path and absolute
// paths from the local disk.
type ObjectsFetcher struct {
	Store *objects.Store
}

var _ Fetcher = ObjectsFetcher{}

// Fetch implements Fetcher.
func (f ObjectsFetcher) Fetch(ctx context.Context, location string, maxBytes int64) ([]byte, error) {
	if !strings.HasPrefix(location, "s3://") {
		return LocalFetcher{}.Fetch(ctx, location, maxBytes)
	}
	l, err := objects.ParseLocation(location)
	if err != nil {
		return nil, err
	}
	if l.Key == "" || strings.HasSuffix(l.Key, "/") {
		return nil, errors.Newf("%s does not name an object (s3://bucket/key)", location)
	}
	rc, _, err := f.Store.OpenObject(ctx, l.Bucket, l.Key)
	if err != nil {
		if objects.IsNotFound(err) {
			return nil, errors.Mark(err, ErrNotFound)
		}
		return nil, err
	}
	defer func() { _ = rc.Close() }()
	var r io.Reader = rc
	if maxBytes > 0 {
		r = io.LimitReader(rc, maxBytes+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, errors.Wrapf(err, "read %s", location)
	}
	if maxBytes > 0 && int64(len(data)) > maxBytes {
		return nil, errors.Newf("%s is larger than %d bytes", location, maxBytes)
	}
	return data, nil
}
