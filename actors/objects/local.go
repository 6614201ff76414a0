package objects

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	stderrors "errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// localRoot keeps s3://bucket/key in the file ROOT/bucket/key. A bucket is a directory
// of ROOT (create it with mkdir); a key's "/" are directories. Writes go to a temporary
// file under ROOT/.sfnd-tmp and are renamed into place, so a reader never sees half an
// object. ETags are the MD5 of the content, as S3 computes them for single-part puts.
type localRoot struct {
	root string
}

const localTmp = ".sfnd-tmp" // not a valid bucket name: never listed or read as one

func newLocalRoot(dir string) (*localRoot, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, &Error{Op: "LocalRoot", Key: abs, Code: CodeInvalidLocation, Message: "not a directory"}
	}
	return &localRoot{root: abs}, nil
}

func (l *localRoot) describe() string { return "local root " + l.root }

// path maps a key to its file, refusing keys that would leave the bucket.
func (l *localRoot) path(op, bucket, key string) (string, error) {
	if key == "" || strings.HasSuffix(key, "/") || strings.HasPrefix(key, "/") {
		return "", &Error{Op: op, Bucket: bucket, Key: key, Code: "NoSuchKey", Message: "The specified key does not exist.", StatusCode: 404}
	}
	for _, part := range strings.Split(key, "/") {
		if part == "" || part == "." || part == ".." {
			return "", &Error{Op: op, Bucket: bucket, Key: key, Code: "InvalidArgument", Message: "a key with empty, \".\" or \"..\" path segments cannot be kept under --s3-local-root", StatusCode: 400}
		}
	}
	return filepath.Join(l.root, bucket, filepath.FromSlash(key)), nil
}

func (l *localRoot) bucketDir(op, bucket, key string) (string, error) {
	dir := filepath.Join(l.root, bucket)
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return "", &Error{Op: op, Bucket: bucket, Key: key, Code: "NoSuchBucket", Message: "The specified bucket does not exist", StatusCode: 404}
	}
	return dir, nil
}

func (l *localRoot) get(ctx context.Context, bucket, key string) (*Object, error) {
	rc, obj, err := l.open(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		return nil, &Error{Op: "GetObject", Bucket: bucket, Key: key, Code: "InternalError", Message: err.Error(), StatusCode: 500, Err: err}
	}
	obj.Body = body
	sum := md5.Sum(body)
	obj.ETag = `"` + hex.EncodeToString(sum[:]) + `"`
	return obj, nil
}

func (l *localRoot) open(_ context.Context, bucket, key string) (io.ReadCloser, *Object, error) {
	if _, err := l.bucketDir("GetObject", bucket, key); err != nil {
		return nil, nil, err
	}
	p, err := l.path("GetObject", bucket, key)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, fileError("GetObject", bucket, key, err)
	}
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		f.Close()
		return nil, nil, &Error{Op: "GetObject", Bucket: bucket, Key: key, Code: "NoSuchKey", Message: "The specified key does not exist.", StatusCode: 404}
	}
	return f, &Object{Bucket: bucket, Key: key, Size: st.Size(), LastModified: st.ModTime().UTC()}, nil
}

func (l *localRoot) put(_ context.Context, bucket, key string, body []byte, _ string) (string, error) {
	if _, err := l.bucketDir("PutObject", bucket, key); err != nil {
		return "", err
	}
	p, err := l.path("PutObject", bucket, key)
	if err != nil {
		return "", err
	}
	if err := writeAtomic(filepath.Join(l.root, localTmp), p, body); err != nil {
		return "", fileError("PutObject", bucket, key, err)
	}
	sum := md5.Sum(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`, nil
}

func (l *localRoot) list(ctx context.Context, bucket string, opts ListOptions) ([]Info, error) {
	dir, err := l.bucketDir("ListObjectsV2", bucket, "")
	if err != nil {
		return nil, err
	}
	// Walk only the directory the prefix lies in (a prefix "a/b" may match "a/bc/..."
	// and "a/b.txt": start at "a").
	start := dir
	if i := strings.LastIndex(opts.Prefix, "/"); i >= 0 {
		start = filepath.Join(dir, filepath.FromSlash(opts.Prefix[:i]))
	}
	return walkInfos(ctx, "ListObjectsV2", bucket, dir, start, opts)
}

// walkInfos lists the regular files below start as keys relative to base, filtered
// and ordered as ListObjectsV2 orders keys.
func walkInfos(ctx context.Context, op, bucket, base, start string, opts ListOptions) ([]Info, error) {
	var out []Info
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if stderrors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, opts.Prefix) || key <= opts.StartAfter {
			return nil
		}
		st, err := d.Info()
		if err != nil {
			return nil // removed while listing
		}
		out = append(out, Info{Key: key, LastModified: st.ModTime().UTC(), Size: st.Size(), StorageClass: "STANDARD"})
		return nil
	})
	if err != nil {
		return nil, fileError(op, bucket, opts.Prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	if opts.Max > 0 && len(out) > opts.Max {
		out = out[:opts.Max]
	}
	// ETags are content hashes: computed only for the objects returned.
	for i := range out {
		etag, err := fileETag(filepath.Join(base, filepath.FromSlash(out[i].Key)))
		if err != nil {
			return nil, fileError(op, bucket, out[i].Key, err)
		}
		out[i].ETag = etag
	}
	return out, nil
}

func fileETag(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return `"` + hex.EncodeToString(h.Sum(nil)) + `"`, nil
}

// writeAtomic writes body to a temporary file in tmpDir and renames it to p (creating
// p's directories).
func writeAtomic(tmpDir, p string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(tmpDir, "put-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(body)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, p)
	}
	if werr != nil {
		_ = os.Remove(tmp)
	}
	return werr
}

func fileError(op, bucket, key string, err error) error {
	switch {
	case stderrors.Is(err, fs.ErrNotExist):
		return &Error{Op: op, Bucket: bucket, Key: key, Code: "NoSuchKey", Message: "The specified key does not exist.", StatusCode: 404, Err: err}
	case stderrors.Is(err, fs.ErrPermission):
		return &Error{Op: op, Bucket: bucket, Key: key, Code: "AccessDenied", Message: "Access Denied", StatusCode: 403, Err: err}
	case stderrors.Is(err, context.Canceled), stderrors.Is(err, context.DeadlineExceeded):
		return err
	}
	return &Error{Op: op, Bucket: bucket, Key: key, Code: "InternalError", Message: err.Error(), StatusCode: 500, Err: err}
}

// file:// locations.

func getFile(p string) (*Object, error) {
	body, err := os.ReadFile(p)
	if err != nil {
		return nil, fileError("GetObject", "", p, err)
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, fileError("GetObject", "", p, err)
	}
	sum := md5.Sum(body)
	return &Object{Key: p, Body: body, Size: int64(len(body)), LastModified: st.ModTime().UTC(), ETag: `"` + hex.EncodeToString(sum[:]) + `"`}, nil
}

func putFile(p string, body []byte) (string, error) {
	if err := writeAtomic(filepath.Dir(p), p, body); err != nil {
		return "", fileError("PutObject", "", p, err)
	}
	sum := md5.Sum(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`, nil
}

func listFiles(dir string, max int) ([]Info, error) {
	return walkInfos(context.Background(), "ListObjectsV2", "", dir, dir, ListOptions{Max: max})
}
