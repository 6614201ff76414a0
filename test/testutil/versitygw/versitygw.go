// Package versitygw starts a real S3-compatible server for tests: versitygw (a Go S3
// gateway) with its POSIX backend on a temporary directory, listening on a free
// loopback port. The binary is built once from the module
// (github.com/versity/versitygw/cmd/versitygw@Version, through the Go module proxy or
// the module cache) into a cache directory shared by test runs.
package versitygw

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Version is the versitygw release the tests use.
const Version = "v1.8.0"

// Credentials of the root user of every gateway started here.
const (
	AccessKey = "sfndtest"
	SecretKey = "sfndtestsecret"
	Region    = "us-east-1"
)

// Gateway is a running versitygw.
type Gateway struct {
	Endpoint string // http://127.0.0.1:port
	Dir      string // the POSIX backend's root: a bucket is a directory here
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds (once per process, cached across processes) and returns the versitygw
// binary's path.
func Binary() (string, error) {
	buildOnce.Do(func() { binPath, buildErr = build() })
	return binPath, buildErr
}

func build() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "sfnd-test", "versitygw-"+Version+"-"+runtime.GOOS+"-"+runtime.GOARCH)
	bin := filepath.Join(dir, "versitygw")
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Build into a directory of our own and rename into place: several test processes
	// may build at once, and a half-written binary must never be found.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	cmd := exec.Command(goBin, "install", "github.com/versity/versitygw/cmd/versitygw@"+Version)
	cmd.Dir = tmp // outside any module: `go install pkg@version` builds it on its own
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=-mod=mod", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build versitygw %s: %v\n%s", Version, err, out.String())
	}
	if err := os.Rename(filepath.Join(tmp, "versitygw"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// Start builds versitygw if needed and starts it on a temporary directory; the gateway
// is stopped by t.Cleanup. A build failure fails the test (this environment reaches
// the Go module proxy; a test that cannot reach S3 must not pass quietly).
func Start(t testing.TB) *Gateway {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatalf("versitygw: %v", err)
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", addr, "posix", dir)
	var logs bytes.Buffer
	var logsMu sync.Mutex
	cmd.Stdout = lockedWriter{&logs, &logsMu}
	cmd.Stderr = cmd.Stdout
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start versitygw: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	g := &Gateway{Endpoint: "http://" + addr, Dir: dir}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(g.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return g
		}
		select {
		case <-done:
			logsMu.Lock()
			defer logsMu.Unlock()
			t.Fatalf("versitygw exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not answer on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// MakeBucket creates a bucket (a directory of the POSIX backend, which versitygw serves
// as a bucket).
func (g *Gateway) MakeBucket(t testing.TB, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(g.Dir, name), 0o755); err != nil {
		t.Fatal(err)
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
