package app

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/sfnd/sfnd/actors/gluejob"
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

// NATSWorkerUser is the NATS user outside Glue workers connect as when
// --nats-worker-password is given: it takes and reports Glue work and nothing else.
const NATSWorkerUser = "glue-worker"

// GlueWorkerPermissions is what an outside Glue worker may do on NATS (an allow-list:
// everything not named is refused): pull, acknowledge and create consumers of the
// GLUE_WORK stream only, publish reports, hear stops, ask and answer which runner holds
// a run, and receive replies. It cannot reach any other stream or bucket (the task
// token key in KV sfn_keys included), create or source a stream, or read messages
// directly.
func GlueWorkerPermissions() *server.Permissions {
	work := jsstore.GlueWorkStream
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			"$JS.API.INFO",
			"$JS.API.STREAM.INFO." + work,
			"$JS.API.CONSUMER.CREATE." + work, "$JS.API.CONSUMER.CREATE." + work + ".>",
			"$JS.API.CONSUMER.DURABLE.CREATE." + work + ".>",
			"$JS.API.CONSUMER.INFO." + work + ".>",
			"$JS.API.CONSUMER.MSG.NEXT." + work + ".>",
			"$JS.ACK." + work + ".>",
			jsstore.GlueReportSubject,
			gluejob.HoldsPrefix + "*",
			"_INBOX.>",
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{
			"_INBOX.>", jsstore.GlueStopPrefix + ">", gluejob.HoldsPrefix + "*",
		}},
	}
}

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
	if cfg.NATSWorkerPassword != "" {
		if len(cfg.NATSWorkerPassword) < 16 {
			return errors.New("--nats-worker-password: at least 16 characters")
		}
		ec.Users = append(ec.Users, &server.User{Username: NATSWorkerUser, Password: cfg.NATSWorkerPassword, Permissions: GlueWorkerPermissions()})
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
