// Package jsstore is the JetStream implementation of sfnd's event store and the
// embedded NATS server a single-node sfnd runs.
package jsstore

import (
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedConfig configures the in-process NATS server.
type EmbeddedConfig struct {
	StoreDir string // JetStream file store directory
	Port     int    // client port; -1 picks a free one, 0 means in-process only
	// MaxMemory and MaxStore bound JetStream; the server's defaults would claim most
	// of the machine (75% of RAM, 1 TB of disk).
	MaxMemory int64
	MaxStore  int64
}

// Embedded is a running in-process NATS server with JetStream.
type Embedded struct {
	Server *server.Server
}

// StartEmbedded starts NATS with JetStream on cfg.StoreDir and waits until it is ready.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.MaxMemory == 0 {
		cfg.MaxMemory = 256 << 20
	}
	if cfg.MaxStore == 0 {
		cfg.MaxStore = 64 << 30
	}
	opts := &server.Options{
		ServerName:         "sfnd-embedded",
		Host:               "127.0.0.1",
		Port:               cfg.Port,
		DontListen:         cfg.Port == 0,
		JetStream:          true,
		StoreDir:           cfg.StoreDir,
		JetStreamMaxMemory: cfg.MaxMemory,
		JetStreamMaxStore:  cfg.MaxStore,
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         8 << 20,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, errors.Wrap(err, "configure embedded nats")
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, errors.New("embedded nats did not become ready in 30s")
	}
	return &Embedded{Server: s}, nil
}

// Connect opens a client connection to the embedded server (in-process, no socket).
func (e *Embedded) Connect(name string) (*nats.Conn, error) {
	nc, err := nats.Connect("", nats.InProcessServer(e.Server), nats.Name(name), nats.MaxReconnects(-1))
	return nc, errors.Wrap(err, "connect to embedded nats")
}

// ClientURL is the URL other processes can use (empty when not listening).
func (e *Embedded) ClientURL() string {
	if e.Server.Addr() == nil {
		return ""
	}
	return e.Server.ClientURL()
}

// Shutdown stops the server and waits for it.
func (e *Embedded) Shutdown() {
	e.Server.Shutdown()
	e.Server.WaitForShutdown()
}
