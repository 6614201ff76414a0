package testutil

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Real servers that tests start beside sfnd (DynamoDB's dynalite, Kinesis's
// kinesalite from npm; Go servers such as goaws or versitygw from the Go module
// proxy). Each is installed once into a cache directory shared by test runs
// ($SFND_TEST_CACHE, default <user cache dir>/sfnd-test) and started as a process of
// the test, killed with it.

// cacheDir is the directory tools are installed into.
func cacheDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SFND_TEST_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "sfnd-test")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// NPMPackage installs an npm package at an exact version (once; later calls reuse
// it) and returns the path of one of its bins. A machine without npm skips the test,
// saying so; an install that fails fails it.
func NPMPackage(t testing.TB, pkg, version, bin string) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skipf("npm is not installed: the test needs the npm package %s@%s", pkg, version)
	}
	dir := filepath.Join(cacheDir(t), "npm", pkg+"@"+version)
	path := filepath.Join(dir, "node_modules", ".bin", bin)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, pkg+"@"+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s@%s: %v\n%s", pkg, version, err, out)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("npm install %s@%s did not provide %s", pkg, version, bin)
	}
	return path
}

// GoTool builds a Go command at an exact module version (once) with `go install`
// and returns its path.
func GoTool(t testing.TB, pkgPath, version string) string {
	t.Helper()
	dir := filepath.Join(cacheDir(t), "go", strings.ReplaceAll(pkgPath, "/", "_")+"@"+version)
	name := filepath.Base(pkgPath)
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	cmd := exec.Command("go", "install", pkgPath+"@"+version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s@%s: %v\n%s", pkgPath, version, err, out)
	}
	return path
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort(t testing.TB) int {
	t.Helper()
	// Below the kernel's ephemeral range: a port the kernel handed out for a moment
	// (listen on :0, close) is handed out again — to another test's listener or to any
	// outgoing connection — before the process meant to bind it starts (a cluster
	// node's route port was taken by another package's NATS server, and the node
	// exited). The kernel never picks these ports itself; pick one at random and
	// check that it binds.
	lo, hi := 10000, ephemeralLow()
	if hi-lo < 1000 {
		lo = 1024
	}
	for range 1000 {
		port := lo + rand.IntN(hi-lo)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ephemeralLow is the lowest port of the kernel's ephemeral range (Linux
// ip_local_port_range; 32768 elsewhere or when unreadable).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 1024 {
				return n
			}
		}
	}
	return 32768
}

// RunServer starts a server process, kills it when the test ends, and waits (up to
// 60 s) until it accepts connections on port.
func RunServer(t testing.TB, port int, dir string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	logFile, err := os.CreateTemp(t.TempDir(), "server-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(logFile.Name())
	t.Fatalf("%s did not listen on %s:\n%s", name, addr, log)
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// SfndBinary builds the sfnd command once per test process and returns its path
// (for tests that kill the server with SIGKILL).
func SfndBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sfnd-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "sfnd")
		if out, err := exec.Command("go", "build", "-o", binPath, "github.com/sfnd/sfnd/cmd/sfnd").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}
