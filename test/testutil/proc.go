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
// directory, to be killed with SIGKILL, stopped with SIGTERM and started again (crash
// and cluster tests). Every start appends to <Dir>/sfnd.log after a "---- start" line.
type Proc struct {
	t    testing.TB
	Dir  string
	Port int
	cfg  ProcConfig
	cmd  *exec.Cmd
	log  *os.File
	// exited is closed once the running process has exited (reaped by Launch's
	// goroutine); waitErr is its exit.
	exited  chan struct{}
	waitErr error
}

// ProcConfig adjusts a Proc.
type ProcConfig struct {
	Dir  string   // data directory (default t.TempDir())
	Args []string // further flags of sfnd serve (after --listen, --data-dir, --log-level warn)
	// Ready is the path Start and WaitReady poll until it answers 200 (default /healthz).
	Ready string
	// KeepLog, when set, is the prefix of a temporary directory the log is copied to
	// when the test failed (beside its tail in the test's output).
	KeepLog string
}

// StartProc starts sfnd on a fresh data directory and a free port, with args as further
// flags of sfnd serve, and waits for /healthz. Cleanup kills it and, when the test
// failed, logs the tail of its log.
func StartProc(t testing.TB, args ...string) *Proc {
	t.Helper()
	p := NewProc(t, ProcConfig{Args: args})
	p.Start()
	return p
}

// NewProc prepares a process (not started) on a free port.
func NewProc(t testing.TB, cfg ProcConfig) *Proc {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Ready == "" {
		cfg.Ready = "/healthz"
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(cfg.Dir, "sfnd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{t: t, Dir: cfg.Dir, Port: FreePort(t), cfg: cfg, log: logf}
	t.Cleanup(func() {
		if p.cmd != nil && !p.Exited() {
			p.Kill9()
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(cfg.Dir, "sfnd.log"))
			if cfg.KeepLog != "" {
				if keep, err := os.MkdirTemp("", cfg.KeepLog); err == nil {
					_ = os.WriteFile(filepath.Join(keep, "sfnd.log"), b, 0o644)
					t.Logf("sfnd log of %s kept in %s", cfg.Dir, keep)
				}
			}
			if len(b) > 15000 {
				b = b[len(b)-15000:]
			}
			t.Logf("sfnd log (tail):\n%s", b)
		}
	})
	return p
}

// URL is the process's API endpoint.
func (p *Proc) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", p.Port) }

// Start starts the process (again) on its data directory and waits until it is ready.
func (p *Proc) Start() {
	p.t.Helper()
	p.Launch()
	p.WaitReady(30 * time.Second)
}

// Launch starts the process without waiting for it (a cluster's nodes are ready only
// once a majority runs).
func (p *Proc) Launch() {
	p.t.Helper()
	cmd := exec.Command(SfndBinary(p.t), "serve", "--listen", "127.0.0.1:"+strconv.Itoa(p.Port), "--data-dir", p.Dir,
		"--log-level", "warn")
	cmd.Args = append(cmd.Args, p.cfg.Args...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	fmt.Fprintf(p.log, "---- start %s\n", time.Now().Format(time.RFC3339Nano))
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd = cmd
	exited := make(chan struct{})
	p.exited = exited
	go func() {
		p.waitErr = cmd.Wait()
		close(exited)
	}()
}

// Exited reports whether the process last launched has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// WaitReady polls the configured ready path until it answers 200, failing the test
// after within.
func (p *Proc) WaitReady(within time.Duration) {
	p.t.Helper()
	for deadline := time.Now().Add(within); ; {
		resp, err := http.Get(p.URL() + p.cfg.Ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if p.Exited() {
			p.t.Fatalf("sfnd on %s exited before it answered %s: %v (its log follows)", p.Dir, p.cfg.Ready, p.waitErr)
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("sfnd on %s did not answer %s within %v: %v", p.Dir, p.cfg.Ready, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill9 kills the process with SIGKILL (no shutdown code runs) and reaps it.
func (p *Proc) Kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// Stop shuts the process down gracefully (SIGTERM); one still running 30 s later
// fails the test and is killed.
func (p *Proc) Stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.t.Errorf("sfnd on %s did not stop within 30 s of SIGTERM; killing it", p.Dir)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
