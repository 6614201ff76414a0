package app

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events/jsstore"
)

// NATS lock-down of the embedded server.
//
// An embedded NATS server that listens (--nats-port, or --cluster-listen for routes)
// accepts one user, NATSUser, with a password given (--nats-password) or generated at
// the first start into <data-dir>/NATSPasswordFile (mode 0600). Clients and the other
// nodes' routes must present it: a client without it is refused, so the streams, the
// buckets and the task token key (KV sfn_keys) are readable by sfnd (its nodes and its
// tools) only. The node's own connection is in-process with the same credentials.
// With --nats-tls-cert/--nats-tls-key the server also requires TLS from clients and
// between nodes. An in-process-only server (no port) has nothing to lock.

// NATSUser is the user of a listening embedded NATS server unless --nats-user names
// another.
const NATSUser = "sfnd"

// NATSPasswordFile is where the embedded NATS server's password is kept in the data
// directory (mode 0600), generated at the first start with a listening server.
const NATSPasswordFile = "nats-password"

// lockDown sets the credentials and TLS of an embedded server that listens.
func lockDown(ec *jsstore.EmbeddedConfig, cfg Config) error {
	if ec.Port == 0 && ec.ClusterListen == "" {
		return nil
	}
	ec.User, ec.Password = cfg.NATSAuth.User, cfg.NATSAuth.Password
	if ec.User == "" {
		ec.User = NATSUser
	}
	if ec.Password == "" {
		var err error
		if ec.Password, err = natsPassword(cfg.DataDir); err != nil {
			return err
		}
	}
	ec.TLSCert, ec.TLSKey, ec.TLSCA = cfg.NATSAuth.TLSCert, cfg.NATSAuth.TLSKey, cfg.NATSAuth.TLSCA
	if (ec.TLSCert == "") != (ec.TLSKey == "") {
		return errors.New("the embedded NATS server's certificate needs both --nats-tls-cert and --nats-tls-key")
	}
	return nil
}

// natsPassword reads the embedded NATS password from the data directory, generating
// it (32 random bytes, hex) on first use.
func natsPassword(dataDir string) (string, error) {
	path := filepath.Join(dataDir, NATSPasswordFile)
	if b, err := os.ReadFile(path); err == nil {
		if pw := strings.TrimSpace(string(b)); len(pw) >= 16 {
			return pw, nil
		}
		return "", errors.Newf("%s: password shorter than 16 characters", path)
	} else if !os.IsNotExist(err) {
		return "", errors.Wrap(err, "read NATS password")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", errors.Wrap(err, "create data directory")
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(buf)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if os.IsExist(err) { // another process wrote it first
			return natsPassword(dataDir)
		}
		return "", errors.Wrap(err, "write NATS password")
	}
	defer f.Close()
	if _, err := f.WriteString(pw + "\n"); err != nil {
		return "", errors.Wrap(err, "write NATS password")
	}
	return pw, f.Sync()
}

// NATSPublicURL is the embedded server's client URL without credentials (for logs),
// or the external --nats-url.
func (a *App) NATSPublicURL() string {
	if a.embedded == nil {
		return a.cfg.NatsURL
	}
	return a.embedded.PublicURL()
}
