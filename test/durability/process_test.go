package durability

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfnd/sfnd/events/jsstore"
)

// TestDataDirLock: while `sfnd serve` runs on a data directory, a second server and
// the offline tools on it exit at once, non-zero, naming the process that holds it;
// once it is gone (even by kill -9), the directory is free.
func TestDataDirLock(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	first := serve(t, dir, port)
	waitHealthy(t, first, port, 30*time.Second)
	pid := strconv.Itoa(first.cmd.Process.Pid)

	second := serve(t, dir, freePort(t))
	if !second.exited(10*time.Second) || !strings.Contains(second.output(), "in use by process "+pid) {
		t.Errorf("a second sfnd serve on the data directory in use: %v\n%s", second.err, second.output())
	}
	for _, args := range [][]string{
		{"history", "verify", "--all", "--data-dir", dir},
		{"projections", "check", "--data-dir", dir},
		{"projections", "rebuild", "--data-dir", dir},
	} {
		began := time.Now()
		out, code := run(t, args...)
		took := time.Since(began)
		if code == 0 || !strings.Contains(out, "in use by process "+pid) {
			t.Errorf("sfnd %s on a data directory in use: exit %d after %v\n%s", strings.Join(args[:2], " "), code, took, out)
		}
		if took > 5*time.Second {
			t.Errorf("sfnd %s took %v to refuse", strings.Join(args[:2], " "), took)
		}
	}
	if !healthy(port) {
		t.Fatal("the first server stopped serving")
	}
	// The kernel drops the lock with its holder, however it dies.
	_ = first.cmd.Process.Signal(syscall.SIGKILL)
	first.exited(10 * time.Second)
	out, code := run(t, "projections", "check", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("check after the server died: exit %d\n%s", code, out)
	}
	third := serve(t, dir, port)
	waitHealthy(t, third, port, 30*time.Second)
}

// TestBadDataDir: a data directory that is a regular file, or that the server may
// not write, fails the start at once with the path and the cause.
func TestBadDataDir(t *testing.T) {
	needBinary(t)
	t.Run("file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "data")
		if err := os.WriteFile(file, []byte("not a directory"), 0o644); err != nil {
			t.Fatal(err)
		}
		badStart(t, exec.Command(binPath, "serve", "--listen", "127.0.0.1:0", "--data-dir", file), file, "not a directory")
	})
	t.Run("unwritable", func(t *testing.T) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "data")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binPath, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir)
		if os.Geteuid() == 0 {
			// root writes anywhere: run the server as nobody on a directory of root's.
			_ = os.Chmod(parent, 0o755)
			_ = os.Chmod(filepath.Dir(parent), 0o755)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		} else if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		badStart(t, cmd, dir, "permission denied")
	})
}

func badStart(t *testing.T, cmd *exec.Cmd, path, cause string) {
	t.Helper()
	p := startProc(t, cmd)
	if !p.exited(5 * time.Second) {
		t.Fatalf("sfnd serve on a bad data directory still runs after 5 s:\n%s", p.output())
	}
	out := p.output()
	if p.err == nil || !strings.Contains(out, path) || !strings.Contains(out, cause) {
		t.Fatalf("sfnd serve on a bad data directory: %v\n%s\nwant the path %s and %q", p.err, out, path, cause)
	}
	t.Logf("%s", strings.TrimSpace(out))
}

// TestGoRunStops: the README's `go run ./cmd/sfnd serve` stops with go run: on
// SIGTERM or SIGKILL to the go command (which does not pass signals on, so the
// server learns it from its parent-death signal) and on Ctrl-C (SIGINT to the
// terminal's process group).
func TestGoRunStops(t *testing.T) {
	needBinary(t)
	for _, how := range []string{"SIGTERM", "SIGKILL", "Ctrl-C"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			port := freePort(t)
			cmd := exec.Command("go", "run", "./cmd/sfnd", "serve", "--listen", "127.0.0.1:"+strconv.Itoa(port), "--data-dir", dir)
			cmd.Dir = moduleRoot
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, as a terminal's job
			p := startProc(t, cmd)
			waitHealthy(t, p, port, 3*time.Minute)
			server := lockHolder(t, dir)
			if server == 0 || server == cmd.Process.Pid {
				t.Fatalf("server pid %d (go run %d)", server, cmd.Process.Pid)
			}
			t.Cleanup(func() { _ = syscall.Kill(server, syscall.SIGKILL) })
			switch how {
			case "SIGTERM":
				_ = cmd.Process.Signal(syscall.SIGTERM)
			case "SIGKILL":
				_ = cmd.Process.Signal(syscall.SIGKILL)
			case "Ctrl-C":
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			}
			if !p.exited(30 * time.Second) {
				t.Fatalf("go run still runs 30 s after %s", how)
			}
			for deadline := time.Now().Add(15 * time.Second); alive(server); {
				if time.Now().After(deadline) {
					t.Fatalf("the server (pid %d) still runs 15 s after %s to go run:\n%s", server, how, p.output())
				}
				time.Sleep(50 * time.Millisecond)
			}
			if healthy(port) {
				t.Fatalf("port %d still served after %s", port, how)
			}
		})
	}
}

// lockHolder is the pid written in a data directory's lock file.
func lockHolder(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "jetstream", jsstore.LockName))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// alive tells whether a process runs (a zombie does not count).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}
