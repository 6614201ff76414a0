package api

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveEdge serves a one-service edge on a free port and returns its address.
func serveEdge(t *testing.T, cfg Config, ops map[string]Op) string {
	t.Helper()
	s := New(cfg)
	s.Register(&Service{Name: "Test", Prefix: "Test.", ContentType: "application/x-amz-json-1.0", Ops: ops})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.HTTPServer()
	go func() { _ = hs.Serve(s.Listener(ln)) }()
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

func echoOp(ctx context.Context, r *Request) (any, error) { return map[string]string{"ok": r.Op}, nil }

// TestSlowClientsCutOff opens 100 connections that trickle their headers or their
// bodies: every one is closed by the server once its timeout runs out, while a
// well-behaved client and a long poll (which waits longer than the body timeout) are
// served meanwhile.
func TestSlowClientsCutOff(t *testing.T) {
	const timeout = 700 * time.Millisecond
	addr := serveEdge(t, Config{Limits: Limits{HeaderTimeout: timeout, BodyTimeout: timeout}}, map[string]Op{
		"Echo": echoOp,
		"Poll": func(ctx context.Context, r *Request) (any, error) {
			select {
			case <-time.After(3 * timeout):
				return map[string]string{"polled": "yes"}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	})
	var wg sync.WaitGroup
	closedAfter := make(chan time.Duration, 100)
	start := time.Now()
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			var head, trickle string
			if i%2 == 0 { // headers trickle in
				head, trickle = "POST / HTTP/1.1\r\n", "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			} else { // the body trickles in
				head = "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Test.Echo\r\nContent-Length: 100000\r\n\r\n"
				trickle = strings.Repeat("{", 1000)
			}
			if _, err := io.WriteString(c, head); err != nil {
				t.Error(err)
				return
			}
			done := make(chan struct{})
			go func() { // the server closing the connection ends the read
				_, _ = io.Copy(io.Discard, c)
				close(done)
			}()
			for j := 0; ; j++ {
				select {
				case <-done:
					closedAfter <- time.Since(start)
					return
				case <-time.After(50 * time.Millisecond):
				}
				if time.Since(start) > 10*timeout {
					t.Errorf("connection %d still open after %v", i, time.Since(start))
					return
				}
				_, _ = c.Write([]byte{trickle[j%len(trickle)]})
			}
		}()
	}
	// Meanwhile a normal client and a long poll are served.
	resp := post(t, addr, "Test.Echo", "{}")
	if resp.StatusCode != 200 {
		t.Errorf("normal request: %d", resp.StatusCode)
	}
	resp = post(t, addr, "Test.Poll", "{}")
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || !strings.Contains(string(b), "polled") {
		t.Errorf("long poll: %d %s", resp.StatusCode, b)
	}
	wg.Wait()
	close(closedAfter)
	n := 0
	var worst time.Duration
	for d := range closedAfter {
		n++
		worst = max(worst, d)
	}
	if n != 100 {
		t.Fatalf("%d of 100 slow connections were closed", n)
	}
	t.Logf("100 slow connections closed, the last after %v (timeout %v)", worst, timeout)
}

func post(t *testing.T, addr, target, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestConnectionLimit: with MaxConns 3, a fourth connection is not served until one
// of the three is closed.
func TestConnectionLimit(t *testing.T) {
	addr := serveEdge(t, Config{Limits: Limits{MaxConns: 3}}, map[string]Op{"Echo": echoOp})
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Test.Echo\r\nContent-Length: 2\r\n\r\n{}")
		if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
			t.Fatal(err)
		}
	}
	c, err := net.Dial("tcp", addr) // accepted by the kernel, not yet served
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Test.Echo\r\nContent-Length: 2\r\n\r\n{}")
	got := make(chan error, 1)
	go func() {
		_, err := http.ReadResponse(bufio.NewReader(c), nil)
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("fourth connection served over the limit (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Close()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("fourth connection not served after one closed")
	}
	for _, h := range held[1:] {
		h.Close()
	}
}
