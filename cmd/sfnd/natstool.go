package main

import (
	"fmt"
	neturl "net/url"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
)

// toolNATS connects a tool (history, projections, cluster, bench) to a running
// deployment's NATS. A listening embedded server requires sfnd's credentials: in the
// URL (nats://sfnd:PASSWORD@host:port), or from SFND_NATS_USER (default sfnd) and
// SFND_NATS_PASSWORD, or a credentials file in SFND_NATS_CREDS; SFND_NATS_TLS_CA
// verifies a server with TLS. Errors name the URL without its password.
func toolNATS(url, name string) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(name)}
	if pw := os.Getenv("SFND_NATS_PASSWORD"); pw != "" && !strings.Contains(url, "@") {
		user := os.Getenv("SFND_NATS_USER")
		if user == "" {
			user = "sfnd"
		}
		opts = append(opts, nats.UserInfo(user, pw))
	}
	if creds := os.Getenv("SFND_NATS_CREDS"); creds != "" {
		opts = append(opts, nats.UserCredentials(creds))
	}
	if ca := os.Getenv("SFND_NATS_TLS_CA"); ca != "" {
		opts = append(opts, nats.RootCAs(ca))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redactURLs(url), err)
	}
	return nc, nil
}

// redactURLs hides the passwords of comma-separated NATS URLs (for logs and errors).
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := neturl.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}
