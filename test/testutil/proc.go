package testutil

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Proc is `sfnd serve` (the built binary) as a process of its own on one data
// directory, to be killed with SIGKILL and started again (crash tests).
type Proc struct {
	t    testing.TB
	Dir  string
	Port int
	cmd  *exec.Cmd
	log  *os.File
}

// StartProc starts sfnd on a fresh data directory and a free port and waits for
// /healthz. Cleanup kills it and, when the test failed, logs the tail of its log.
func StartProc(t testing.TB) *Proc {
	t.Helper()
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "sfnd.log"))
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{t: t, Dir: dir, Port: FreePort(t), log: logf}
	p.Start()
	t.Cleanup(func() {
		if p.cmd != nil && p.cmd.ProcessState == nil {
			p.Kill9()
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "sfnd.log"))
			if len(b) > 10000 {
				b = b[len(b)-10000:]
			}
			t.Logf("sfnd log:\n%s", b)
		}
	})
	return p
}

// URL is the process's API endpoint.
func (p *Proc) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", p.Port) }

// Start starts the process (again) on its data directory and waits for /healthz.
func (p *Proc) Start() {
	p.t.Helper()
	cmd := exec.Command(SfndBinary(p.t), "serve", "--listen", "127.0.0.1:"+strconv.Itoa(p.Port), "--data-dir", p.Dir,
		"--log-level", "warn")
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd = cmd
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(p.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("sfnd did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill9 kills the process with SIGKILL and reaps it.
func (p *Proc) Kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}
