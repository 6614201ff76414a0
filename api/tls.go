package api

import (
	"crypto/tls"
	"net"
	"sync/atomic"

	"github.com/cockroachdb/errors"
)

// CertReloader serves a TLS certificate read from a certificate and a key file, and
// reads them again on Reload (sfnd serve calls it on SIGHUP): new connections get the
// new certificate, open ones keep theirs.
type CertReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

// NewCertReloader loads the pair once; a missing or malformed pair is an error.
func NewCertReloader(certFile, keyFile string) (*CertReloader, error) {
	r := &CertReloader{certFile: certFile, keyFile: keyFile}
	return r, r.Reload()
}

// Reload reads the pair again; on error the previous certificate stays in use.
func (r *CertReloader) Reload() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return errors.Wrapf(err, "TLS certificate %s, key %s", r.certFile, r.keyFile)
	}
	r.cert.Store(&c)
	return nil
}

// Config is the server's TLS configuration (TLS 1.2 or newer).
func (r *CertReloader) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return r.cert.Load(), nil
		},
		NextProtos: []string{"h2", "http/1.1"},
	}
}

// Listener wraps ln in TLS.
func (r *CertReloader) Listener(ln net.Listener) net.Listener { return tls.NewListener(ln, r.Config()) }
