// Package durability tests what keeps a node's store trustworthy around the process:
// read models rebuilt from the streams (at start-up and with `sfnd projections
// rebuild`), the embedded NATS server's warnings in sfnd's log, the data directory's
// lock, a server started with `go run` that stops with it, and a bad data directory
// that fails at once. Most tests run the sfnd binary.
package durability

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	binPath    string
	moduleRoot string
)

func TestMain(m *testing.M) {
	code := func() int {
		flag.Parse()
		if testing.Short() || runtime.GOOS == "windows" {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "sfnd-durability-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		// Other users may run it (the unwritable data directory test runs it as nobody).
		_ = os.Chmod(dir, 0o755)
		binPath = filepath.Join(dir, "sfnd")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/sfnd/sfnd/cmd/sfnd").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
			return 1
		}
		gomod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go env GOMOD: %v\n", err)
			return 1
		}
		moduleRoot = filepath.Dir(strings.TrimSpace(string(gomod)))
		return m.Run()
	}()
	os.Exit(code)
}

func needBinary(t *testing.T) {
	t.Helper()
	if binPath == "" {
		t.Skip("runs the sfnd binary (not in -short, not on Windows)")
	}
}

// proc is a process of the sfnd binary (or of go run) with its output collected.
type proc struct {
	cmd *exec.Cmd
	out *bytes.Buffer
	// done is closed when the process has ended.
	done chan struct{}
	err  error
}

func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, out: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &syncWriter{b: p.out}, &syncWriter{b: p.out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// exited waits up to d for the process to end.
func (p *proc) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

func (p *proc) output() string {
	w := p.cmd.Stdout.(*syncWriter)
	return w.String()
}

type syncWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *syncWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(b)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// serve starts `sfnd serve` on dir and port.
func serve(t *testing.T, dir string, port int, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:" + strconv.Itoa(port), "--data-dir", dir}, extra...)
	return startProc(t, exec.Command(binPath, args...))
}

// waitHealthy waits until the node on port answers /healthz.
func waitHealthy(t *testing.T, p *proc, port int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if healthy(port) {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("sfnd exited (%v) before serving:\n%s", p.err, p.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sfnd did not serve within %v:\n%s", within, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func healthy(port int) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// call posts one Step Functions operation and returns the status and body.
func call(t *testing.T, endpoint, op string, body any) (int, string) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, endpoint+"/", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// mustCall is call for an operation that must succeed.
func mustCall(t *testing.T, endpoint, op string, body any) string {
	t.Helper()
	code, out := call(t, endpoint, op, body)
	if code != http.StatusOK {
		t.Fatalf("%s %v: %d %s", op, body, code, out)
	}
	return out
}
