package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
)

// NATSAuth is how a node authenticates to an external NATS cluster (--nats-url):
// any combination the cluster requires. Context names a NATS CLI context (a file
// under ~/.config/nats/context/), whose settings fill in what is not given here.
type NATSAuth struct {
	Context  string // NATS CLI context name, or the path of a context file
	Creds    string // user credentials file (JWT + nkey seed)
	NKey     string // nkey seed file
	User     string
	Password string
	Token    string
	TLSCert  string // client certificate and key (mutual TLS)
	TLSKey   string
	TLSCA    string // CA bundle that signs the servers' certificates
}

// natsContext is the part of a NATS CLI context file sfnd understands.
type natsContext struct {
	URL      string `json:"url"`
	User     string `json:"user"`
	Password string `json:"password"`
	Token    string `json:"token"`
	Creds    string `json:"creds"`
	NKey     string `json:"nkey"`
	Cert     string `json:"cert"`
	Key      string `json:"key"`
	CA       string `json:"ca"`
}

// loadContext reads a NATS CLI context by name (or path).
func loadContext(name string) (natsContext, error) {
	var c natsContext
	path := name
	if !strings.ContainsAny(name, `/\`) && !strings.HasSuffix(name, ".json") {
		dir := os.Getenv("XDG_CONFIG_HOME")
		if dir == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return c, errors.Wrap(err, "find the NATS context directory")
			}
			dir = filepath.Join(home, ".config")
		}
		path = filepath.Join(dir, "nats", "context", name+".json")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, errors.Wrapf(err, "read NATS context %q", name)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, errors.Wrapf(err, "decode NATS context %s", path)
	}
	return c, nil
}

// natsOptions turns the URL and NATSAuth into nats.go options; it returns the URL to
// dial (a context may supply it).
func natsOptions(url string, auth NATSAuth) (string, []nats.Option, error) {
	if auth.Context != "" {
		c, err := loadContext(auth.Context)
		if err != nil {
			return "", nil, err
		}
		fill := func(dst *string, v string) {
			if *dst == "" {
				*dst = v
			}
		}
		fill(&url, c.URL)
		fill(&auth.User, c.User)
		fill(&auth.Password, c.Password)
		fill(&auth.Token, c.Token)
		fill(&auth.Creds, c.Creds)
		fill(&auth.NKey, c.NKey)
		fill(&auth.TLSCert, c.Cert)
		fill(&auth.TLSKey, c.Key)
		fill(&auth.TLSCA, c.CA)
	}
	var opts []nats.Option
	if auth.Creds != "" {
		opts = append(opts, nats.UserCredentials(auth.Creds))
	}
	if auth.NKey != "" {
		o, err := nats.NkeyOptionFromSeed(auth.NKey)
		if err != nil {
			return "", nil, errors.Wrapf(err, "nkey seed file %s", auth.NKey)
		}
		opts = append(opts, o)
	}
	if auth.User != "" {
		opts = append(opts, nats.UserInfo(auth.User, auth.Password))
	}
	if auth.Token != "" {
		opts = append(opts, nats.Token(auth.Token))
	}
	if (auth.TLSCert == "") != (auth.TLSKey == "") {
		return "", nil, errors.New("a NATS client certificate needs both --nats-tls-cert and --nats-tls-key")
	}
	if auth.TLSCert != "" {
		opts = append(opts, nats.ClientCert(auth.TLSCert, auth.TLSKey))
	}
	if auth.TLSCA != "" {
		opts = append(opts, nats.RootCAs(auth.TLSCA))
	}
	return url, opts, nil
}
