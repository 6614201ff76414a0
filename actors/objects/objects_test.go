package objects_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sfnd/sfnd/actors/objects"
	"github.com/sfnd/sfnd/test/testutil/versitygw"
)

// backends returns one store per backend, each with an empty bucket "items" ready
// (the same test body runs against both, as nats-server's store tests do).
func backends(t *testing.T) map[string]*objects.Store {
	t.Helper()
	ctx := context.Background()
	out := map[string]*objects.Store{}

	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "items"), 0o755); err != nil {
		t.Fatal(err)
	}
	local, err := objects.New(ctx, objects.Config{LocalRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	out["local"] = local

	if !testing.Short() {
		g := versitygw.Start(t)
		g.MakeBucket(t, "items")
		s3, err := objects.New(ctx, objects.Config{
			Endpoint: g.Endpoint, Region: versitygw.Region,
			Credentials: credentials.NewStaticCredentialsProvider(versitygw.AccessKey, versitygw.SecretKey, ""),
		})
		if err != nil {
			t.Fatal(err)
		}
		out["versitygw"] = s3
	}
	return out
}

func etag(b []byte) string {
	s := md5.Sum(b)
	return `"` + hex.EncodeToString(s[:]) + `"`
}

func TestStore(t *testing.T) {
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			before := time.Now().Add(-2 * time.Second)

			// Put and Get, by bucket/key and by location.
			body := []byte(`[{"a":1},{"a":2}]`)
			tag, err := st.PutObject(ctx, "items", "in/data.json", body, "application/json")
			if err != nil {
				t.Fatal(err)
			}
			if tag != etag(body) {
				t.Errorf("PutObject etag %s, want %s", tag, etag(body))
			}
			obj, err := st.Get(ctx, "s3://items/in/data.json")
			if err != nil {
				t.Fatal(err)
			}
			if string(obj.Body) != string(body) || obj.Size != int64(len(body)) || obj.ETag != etag(body) {
				t.Errorf("Get = %q size %d etag %s", obj.Body, obj.Size, obj.ETag)
			}
			if obj.LastModified.Before(before) {
				t.Errorf("LastModified %v before the put", obj.LastModified)
			}
			// Replacing an object.
			if _, err := st.Put(ctx, "s3://items/in/data.json", []byte("[]")); err != nil {
				t.Fatal(err)
			}
			if obj, err = st.GetObject(ctx, "items", "in/data.json"); err != nil || string(obj.Body) != "[]" {
				t.Fatalf("after replace: %v %q", err, obj.Body)
			}
			// Streaming.
			rc, meta, err := st.OpenObject(ctx, "items", "in/data.json")
			if err != nil {
				t.Fatal(err)
			}
			var buf [16]byte
			n, _ := rc.Read(buf[:])
			rc.Close()
			if string(buf[:n]) != "[]" || meta.Size != 2 {
				t.Errorf("OpenObject read %q size %d", buf[:n], meta.Size)
			}

			// Errors: a missing key, a missing bucket.
			_, err = st.Get(ctx, "s3://items/in/nothing.json")
			if !objects.IsNotFound(err) || objects.Code(err) != "NoSuchKey" {
				t.Errorf("missing key: %v (code %q)", err, objects.Code(err))
			}
			_, err = st.Get(ctx, "s3://no-such-bucket/x")
			if !objects.IsNotFound(err) || objects.Code(err) != "NoSuchBucket" {
				t.Errorf("missing bucket: %v (code %q)", err, objects.Code(err))
			}
			if _, err := st.Put(ctx, "s3://no-such-bucket/x", []byte("x")); objects.Code(err) != "NoSuchBucket" {
				t.Errorf("put to missing bucket: %v", err)
			}

			// Listing: key order (binary: "a-c" < "a/b"), prefixes, StartAfter, Max.
			keys := []string{"list/a/b", "list/a-c", "list/a/a", "list/b", "list/ab/x", "other/z"}
			for i, k := range keys {
				if _, err := st.PutObject(ctx, "items", k, []byte(fmt.Sprint(i)), ""); err != nil {
					t.Fatal(err)
				}
			}
			got, err := st.ListObjects(ctx, "items", objects.ListOptions{Prefix: "list/"})
			if err != nil {
				t.Fatal(err)
			}
			want := "list/a-c list/a/a list/a/b list/ab/x list/b"
			if s := infoKeys(got); s != want {
				t.Errorf("list list/ = %s, want %s", s, want)
			}
			for _, in := range got {
				if in.Size != 1 || in.StorageClass != "STANDARD" || !strings.HasPrefix(in.ETag, `"`) || in.LastModified.Before(before) {
					t.Errorf("info %+v", in)
				}
			}
			if got, _ = st.ListObjects(ctx, "items", objects.ListOptions{Prefix: "list/a/"}); infoKeys(got) != "list/a/a list/a/b" {
				t.Errorf("list list/a/ = %s", infoKeys(got))
			}
			if got, _ = st.ListObjects(ctx, "items", objects.ListOptions{Prefix: "list/a"}); infoKeys(got) != "list/a-c list/a/a list/a/b list/ab/x" {
				t.Errorf("list list/a = %s", infoKeys(got))
			}
			if got, _ = st.ListObjects(ctx, "items", objects.ListOptions{Prefix: "list/", StartAfter: "list/a/b", Max: 1}); infoKeys(got) != "list/ab/x" {
				t.Errorf("list after list/a/b max 1 = %s", infoKeys(got))
			}
			if got, _ = st.List(ctx, "s3://items/", 0); len(got) != 7 {
				t.Errorf("list whole bucket: %d objects: %s", len(got), infoKeys(got))
			}
			if _, err := st.ListObjects(ctx, "no-such-bucket", objects.ListOptions{}); objects.Code(err) != "NoSuchBucket" {
				t.Errorf("list missing bucket: %v", err)
			}
		})
	}
}

func infoKeys(in []objects.Info) string {
	var s []string
	for _, i := range in {
		s = append(s, i.Key)
	}
	return strings.Join(s, " ")
}

func TestLocations(t *testing.T) {
	ctx := context.Background()
	st, err := objects.New(ctx, objects.Config{LocalRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// file:// locations (Glue scripts kept on the node).
	dir := t.TempDir()
	p := filepath.Join(dir, "scripts", "job.py")
	if _, err := st.Put(ctx, "file://"+p, []byte("print(1)\n")); err != nil {
		t.Fatal(err)
	}
	obj, err := st.Get(ctx, "file://"+p)
	if err != nil || string(obj.Body) != "print(1)\n" {
		t.Fatalf("file get: %v %+v", err, obj)
	}
	if _, err := st.Get(ctx, "file://"+filepath.Join(dir, "none.py")); !objects.IsNotFound(err) {
		t.Errorf("missing file: %v", err)
	}
	if got, err := st.List(ctx, "file://"+dir, 0); err != nil || infoKeys(got) != "scripts/job.py" {
		t.Errorf("file list: %v %s", err, infoKeys(got))
	}

	for _, bad := range []string{"", "bucket/key", "http://x/y", "s3://", "s3://ab/k", "s3://bad_bucket!/k", "s3://-bucket/k", "file://relative/x", "file://host/x"} {
		if _, err := st.Get(ctx, bad); objects.Code(err) != objects.CodeInvalidLocation {
			t.Errorf("Get(%q) = %v, want %s", bad, err, objects.CodeInvalidLocation)
		}
	}
	if _, err := st.Get(ctx, "s3://bucket"); objects.Code(err) != objects.CodeInvalidLocation {
		t.Errorf("a bucket is not an object: %v", err)
	}
	// A key cannot leave its bucket under the local root.
	for _, k := range []string{"../x", "a/../../x", "a//b", "./x"} {
		if _, err := st.PutObject(ctx, "bucket", k, []byte("x"), ""); err == nil {
			t.Errorf("PutObject(%q) accepted", k)
		}
	}
	if l, err := objects.ParseLocation("s3://my.bucket/a/b.json"); err != nil || l.Bucket != "my.bucket" || l.Key != "a/b.json" || l.String() != "s3://my.bucket/a/b.json" {
		t.Errorf("ParseLocation = %+v %v", l, err)
	}
}
