package api

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits bound what one client can hold of a public server: how long it may take to
// send a request's headers and body, how long an idle keep-alive connection stays,
// how large the headers may be and how many connections are open at once.
type Limits struct {
	// HeaderTimeout bounds the time to send the request line and headers.
	HeaderTimeout time.Duration
	// BodyTimeout bounds the time to send the body once the headers are in: a body
	// that trickles in is cut off (the connection is closed) when it runs out.
	BodyTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
	// MaxConns bounds the open connections; further clients wait in the accept queue.
	MaxConns int
}

// DefaultLimits suit a server reachable by others: a 2 MiB body sent at 100 KiB/s
// fits the body timeout.
func DefaultLimits() Limits {
	return Limits{
		HeaderTimeout:  10 * time.Second,
		BodyTimeout:    30 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		MaxConns:       4096,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.HeaderTimeout <= 0 {
		l.HeaderTimeout = d.HeaderTimeout
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = d.BodyTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.MaxConns <= 0 {
		l.MaxConns = d.MaxConns
	}
	return l
}

// HTTPServer returns the http.Server that serves the edge within its limits. There
// is deliberately no whole-request ReadTimeout or WriteTimeout: long polls
// (GetActivityTask) and synchronous executions answer after up to a minute or more;
// the body's deadline is set and cleared by the edge around reading it.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.Limits.HeaderTimeout,
		IdleTimeout:       s.cfg.Limits.IdleTimeout,
		MaxHeaderBytes:    s.cfg.Limits.MaxHeaderBytes,
	}
}

// Listener wraps ln so that at most the configured number of connections are open.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, s.cfg.Limits.MaxConns), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
