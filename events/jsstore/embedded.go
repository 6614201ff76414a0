// Package jsstore is the JetStream implementation of sfnd's event store and the
// embedded NATS server a single-node sfnd runs.
package jsstore

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"
)

// EmbeddedConfig configures the in-process NATS server.
type EmbeddedConfig struct {
	StoreDir string // JetStream file store directory
	Port     int    // client port; -1 picks a free one, 0 means in-process only
	// Host is the address the client listener binds (default 127.0.0.1: this machine
	// only); 0.0.0.0 or a host's address lets other machines' tools and Glue workers in.
	Host string
	// MaxMemory and MaxStore bound JetStream; the server's defaults would claim most
	// of the machine (75% of RAM, 1 TB of disk).
	MaxMemory int64
	MaxStore  int64
	// Logger receives the server's warnings and errors (a damaged store is reported
	// there); nil: slog.Default().
	Logger *slog.Logger
	// ServerName is the NATS server name (unique in a cluster; default sfnd-embedded).
	ServerName string
	// ClusterListen (HOST:PORT) turns cluster mode on: the route listener the other
	// nodes connect to. ClusterName names the cluster (default sfnd); Routes are the
	// other nodes' route URLs (nats://host:port); listing this node itself is harmless.
	ClusterListen string
	ClusterName   string
	Routes        []string
	// User and Password, when set, are the only credentials the server accepts, from
	// clients (Connect uses them in-process) and from the other nodes' routes (which
	// present them too: every node of a cluster has the same ones).
	User, Password string
	// Users are further users the server accepts from clients, each limited by its
	// Permissions (their passwords are hashed like Password's).
	Users []*server.User
	// TLSCert and TLSKey (PEM files), when set, make clients and routes use TLS with
	// this certificate; TLSCA (PEM bundle) then verifies the other nodes' route
	// certificates (mutual TLS between nodes) and clients' certificates when they
	// present one. The in-process connection needs no TLS.
	TLSCert, TLSKey, TLSCA string
}

// Embedded is a running in-process NATS server with JetStream.
type Embedded struct {
	Server         *server.Server
	lock           *os.File
	user, password string
}

// ErrDataDirInUse marks a start refused because another process holds the store.
var ErrDataDirInUse = errors.New("data directory in use")

// LockName is the lock file in the store directory: while a process runs an embedded
// server on the store, it holds an exclusive flock on it (its pid is the content).
const LockName = "sfnd.lock"

// StartEmbedded starts NATS with JetStream on cfg.StoreDir and waits until it is ready.
// The store directory is created if needed and locked for the life of the server: a
// second process on the same store fails at once (ErrDataDirInUse, naming the pid),
// and so does a store that cannot be created or written, naming the path and cause.
func StartEmbedded(cfg EmbeddedConfig) (_ *Embedded, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.StoreDir, 0o755); err != nil {
		return nil, errors.Wrapf(err, "data directory %s", filepath.Dir(cfg.StoreDir))
	}
	lock, err := lockFile(filepath.Join(cfg.StoreDir, LockName))
	if err != nil {
		return nil, errors.Wrapf(err, "data directory %s", filepath.Dir(cfg.StoreDir))
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()
	if cfg.MaxMemory == 0 {
		cfg.MaxMemory = 256 << 20
	}
	if cfg.MaxStore == 0 {
		cfg.MaxStore = 64 << 30
	}
	if cfg.ServerName == "" {
		cfg.ServerName = "sfnd-embedded"
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	ready := 30 * time.Second
	if cfg.ClusterListen != "" {
		// The server starts its routes only once its client listener is up: a
		// clustered server always listens (on a free port unless told).
		if cfg.Port == 0 {
			cfg.Port = -1
		}
		ready = 2 * time.Minute
	}
	opts := &server.Options{
		ServerName:         cfg.ServerName,
		Host:               cfg.Host,
		Port:               cfg.Port,
		DontListen:         cfg.Port == 0,
		JetStream:          true,
		StoreDir:           cfg.StoreDir,
		JetStreamMaxMemory: cfg.MaxMemory,
		JetStreamMaxStore:  cfg.MaxStore,
		NoSigs:             true,
		MaxPayload:         8 << 20,
	}
	if cfg.User != "" {
		// The server keeps a bcrypt hash (the password is random and long: the lowest
		// cost is enough, and keeps connecting fast).
		hash, err := bcrypt.GenerateFromPassword([]byte(cfg.Password), bcrypt.MinCost)
		if err != nil {
			return nil, errors.Wrap(err, "hash the NATS password")
		}
		opts.Users = []*server.User{{Username: cfg.User, Password: string(hash)}}
		for _, u := range cfg.Users {
			hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
			if err != nil {
				return nil, errors.Wrap(err, "hash a NATS password")
			}
			c := *u
			c.Password = string(hash)
			opts.Users = append(opts.Users, &c)
		}
	}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey, CaFile: cfg.TLSCA})
		if err != nil {
			return nil, errors.Wrap(err, "embedded nats TLS")
		}
		opts.TLSConfig, opts.TLSTimeout = tc, 5
	}
	if cfg.ClusterListen != "" {
		if err := clusterOptions(opts, cfg); err != nil {
			return nil, err
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, errors.Wrap(err, "configure embedded nats")
	}
	logs := &natsLogger{log: cfg.Logger.With("component", "nats"), fatal: make(chan string, 1)}
	s.SetLogger(logs, false, false)
	go s.Start()
	// A server that cannot start (its store unreadable, say) reports a fatal error
	// instead of becoming ready: fail with it at once.
	for deadline := time.Now().Add(ready); !s.ReadyForConnections(50 * time.Millisecond); {
		select {
		case msg := <-logs.fatal:
			s.Shutdown()
			return nil, errors.Newf("embedded nats on %s: %s", cfg.StoreDir, msg)
		default:
		}
		if time.Now().After(deadline) {
			s.Shutdown()
			return nil, errors.Newf("embedded nats on %s did not become ready in %s", cfg.StoreDir, ready)
		}
	}
	return &Embedded{Server: s, lock: lock, user: cfg.User, password: cfg.Password}, nil
}

// natsLogger is nats-server's Logger on slog: warnings and errors at their levels,
// notices (start-up chatter) at debug; fatal errors also fail a start in progress.
type natsLogger struct {
	log   *slog.Logger
	fatal chan string
}

func (l *natsLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Tracef(format string, v ...any)  {}
func (l *natsLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg, "fatal", true)
	select {
	case l.fatal <- msg:
	default:
	}
}

// clusterOptions sets the route listener and the routes of a clustered server.
func clusterOptions(opts *server.Options, cfg EmbeddedConfig) error {
	host, port, err := net.SplitHostPort(cfg.ClusterListen)
	if err != nil {
		return errors.Wrapf(err, "cluster listen address %q", cfg.ClusterListen)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return errors.Newf("cluster listen address %q: bad port", cfg.ClusterListen)
	}
	name := cfg.ClusterName
	if name == "" {
		name = "sfnd"
	}
	opts.Cluster = server.ClusterOpts{Name: name, Host: host, Port: p, Username: cfg.User, Password: cfg.Password}
	if cfg.TLSCert != "" {
		// Nodes verify each other's certificates (against TLSCA, else the system's
		// roots) and present their own.
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey, CaFile: cfg.TLSCA, Verify: true})
		if err != nil {
			return errors.Wrap(err, "cluster TLS")
		}
		tc.RootCAs = tc.ClientCAs // a route is a client of the other node too
		opts.Cluster.TLSConfig, opts.Cluster.TLSTimeout = tc, 5
	}
	for _, r := range cfg.Routes {
		u, err := url.Parse(strings.TrimSpace(r))
		if err != nil || u.Scheme != "nats" || u.Port() == "" {
			return errors.Newf("cluster route %q: a route is a URL like nats://host:port", r)
		}
		if u.User == nil && cfg.User != "" {
			// A route presents the cluster's credentials, as this node asks of others.
			u.User = url.UserPassword(cfg.User, cfg.Password)
		}
		opts.Routes = append(opts.Routes, u)
	}
	return nil
}

// ClusterSize is the number of servers a clustered configuration names: this node
// and every route that is not this node's own route listener. 1 without a cluster.
func (cfg EmbeddedConfig) ClusterSize() int {
	if cfg.ClusterListen == "" {
		return 1
	}
	n := 1
	for _, r := range cfg.Routes {
		u := strings.TrimPrefix(strings.TrimSpace(r), "nats://")
		if i := strings.LastIndexByte(u, '@'); i >= 0 {
			u = u[i+1:]
		}
		if u != cfg.ClusterListen && u != "" {
			n++
		}
	}
	return n
}

// Connect opens a client connection to the embedded server (in-process, no socket).
func (e *Embedded) Connect(name string) (*nats.Conn, error) {
	opts := []nats.Option{nats.InProcessServer(e.Server), nats.Name(name), nats.MaxReconnects(-1)}
	if e.user != "" {
		opts = append(opts, nats.UserInfo(e.user, e.password))
	}
	nc, err := nats.Connect("", opts...)
	return nc, errors.Wrap(err, "connect to embedded nats")
}

// ClientURL is the URL other processes can use, with the credentials when the server
// requires them (empty when not listening). Keep it out of logs: PublicURL is the
// same without the password.
func (e *Embedded) ClientURL() string {
	u := e.PublicURL()
	if u == "" || e.user == "" {
		return u
	}
	return strings.Replace(u, "://", "://"+url.UserPassword(e.user, e.password).String()+"@", 1)
}

// PublicURL is the client URL without credentials (empty when not listening).
func (e *Embedded) PublicURL() string {
	if e.Server.Addr() == nil {
		return ""
	}
	u := e.Server.ClientURL() // tls:// when TLS is on
	// A listener on every address is reached on this machine through loopback.
	u = strings.Replace(u, "://0.0.0.0:", "://127.0.0.1:", 1)
	return strings.Replace(u, "://[::]:", "://[::1]:", 1)
}

// Shutdown stops the server, waits for it and releases the store's lock.
func (e *Embedded) Shutdown() {
	e.Server.Shutdown()
	e.Server.WaitForShutdown()
	if e.lock != nil {
		e.lock.Close()
		e.lock = nil
	}
}
