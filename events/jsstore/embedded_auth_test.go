package jsstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCluster starts n embedded servers joined by routes, each with the password
// passwords[i] and the TLS files given.
func startCluster(t *testing.T, passwords []string, tlsCert, tlsKey, tlsCA string) []*Embedded {
	t.Helper()
	n := len(passwords)
	routes := make([]string, n)
	listen := make([]string, n)
	for i := range n {
		listen[i] = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		routes[i] = "nats://" + listen[i]
	}
	out := make([]*Embedded, n)
	errs := make(chan error, n)
	for i := range n {
		go func(i int) {
			e, err := StartEmbedded(EmbeddedConfig{
				StoreDir: filepath.Join(t.TempDir(), "js"), Port: -1, ServerName: fmt.Sprintf("n%d", i),
				Logger:        testLogger(t),
				ClusterListen: listen[i], Routes: routes, User: "sfnd", Password: passwords[i],
				TLSCert: tlsCert, TLSKey: tlsKey, TLSCA: tlsCA,
			})
			out[i] = e
			errs <- err
		}(i)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range out {
		t.Cleanup(e.Shutdown)
	}
	return out
}

// peers names the servers e has routes to.
func peers(e *Embedded) map[string]bool {
	out := map[string]bool{}
	if rz, err := e.Server.Routez(nil); err == nil {
		for _, r := range rz.Routes {
			out[r.RemoteName] = true
		}
	}
	return out
}

// waitRoutes waits until server e has routes to want other servers (false after d).
func waitRoutes(e *Embedded, want int, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if len(peers(e)) >= want {
			return true
		}
	}
	return false
}

// TestEmbeddedLockedDown: a listening embedded server with credentials refuses a
// client without them or with a wrong password; its routes authenticate: three nodes
// with the same password form a cluster (an R3 stream works), a node with another
// password gets no route to them.
func TestEmbeddedLockedDown(t *testing.T) {
	const pw = "0123456789abcdef0123456789abcdef"
	nodes := startCluster(t, []string{pw, pw, pw}, "", "", "")
	for _, e := range nodes {
		if !waitRoutes(e, 2, 60*time.Second) {
			t.Fatalf("%s has routes to %v, want 2 servers", e.Server.Name(), peers(e))
		}
		pub := e.PublicURL()
		if strings.Contains(pub, "@") || !strings.Contains(e.ClientURL(), pw) {
			t.Fatalf("public URL %q / client URL with credentials %q", pub, e.ClientURL())
		}
		if nc, err := nats.Connect(pub); err == nil {
			nc.Close()
			t.Fatal("a client without credentials was let in")
		} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Fatalf("refused with %v, want an authorization violation", err)
		}
		if nc, err := nats.Connect(pub, nats.UserInfo("sfnd", "guess")); err == nil {
			nc.Close()
			t.Fatal("a wrong password was let in")
		}
	}
	nc, err := nats.Connect(nodes[0].ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := WaitForJetStream(ctx, nc, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	var st jetstream.Stream
	if err := RetryStartup(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), "create", func(ctx context.Context) (err error) {
		st, err = EnsureStream(ctx, js, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Replicas: 3})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := len(st.CachedInfo().Cluster.Replicas) + 1; got != 3 {
		t.Fatalf("R3 stream has %d servers", got)
	}
	// The in-process connection carries the credentials.
	in, err := nodes[1].Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	in.Close()

	// A node with another password is refused as a route, both ways.
	stranger, err := StartEmbedded(EmbeddedConfig{
		StoreDir: filepath.Join(t.TempDir(), "js"), Port: -1, ServerName: "stranger",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		ClusterListen: fmt.Sprintf("127.0.0.1:%d", freePort(t)), Routes: []string{"nats://" + routeAddr(nodes[0])},
		User: "sfnd", Password: "another-password-0123456789",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Shutdown()
	// A refused route may show for a moment on the stranger's side (it lists the
	// route once it has the other's INFO, before its CONNECT is refused); the
	// accepting node never lists it.
	samples, shown := 0, 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		samples++
		if len(peers(stranger)) > 0 {
			shown++
		}
		if p := peers(nodes[0]); p["stranger"] {
			t.Fatalf("node 0 accepted a route with the wrong password: %v", p)
		}
	}
	if shown*5 > samples {
		t.Fatalf("the stranger held a route in %d of %d samples", shown, samples)
	}
	if p := peers(nodes[0]); len(p) != 2 {
		t.Fatalf("node 0's routes after the stranger tried: %v", p)
	}
}

func routeAddr(e *Embedded) string {
	return e.Server.ClusterAddr().String()
}

// TestEmbeddedTLS: with a certificate, a plain client is refused, a TLS client with
// the credentials gets in, and two nodes form their routes over mutual TLS.
func TestEmbeddedTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, ca := writeTestCerts(t, dir)
	const pw = "0123456789abcdef0123456789abcdef"
	nodes := startCluster(t, []string{pw, pw}, cert, key, ca)
	for _, e := range nodes {
		if !waitRoutes(e, 1, 60*time.Second) {
			t.Fatalf("%s has no TLS route", e.Server.Name())
		}
	}
	u := nodes[0].ClientURL()
	if !strings.HasPrefix(u, "tls://") {
		t.Fatalf("client URL %q is not tls://", u)
	}
	plain := strings.Replace(u, "tls://", "nats://", 1)
	if nc, err := nats.Connect(plain); err == nil {
		nc.Close()
		t.Fatal("a client without TLS was let in")
	}
	nc, err := nats.Connect(u, nats.RootCAs(ca))
	if err != nil {
		t.Fatalf("TLS client with credentials: %v", err)
	}
	nc.Close()
	if nc, err := nats.Connect(nodes[0].PublicURL(), nats.RootCAs(ca)); err == nil {
		nc.Close()
		t.Fatal("a TLS client without credentials was let in")
	}
}

// writeTestCerts writes a CA and a certificate for 127.0.0.1 signed by it (usable as
// server and client certificate).
func writeTestCerts(t *testing.T, dir string) (cert, key, ca string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sfnd test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(leafKey)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("cert.pem", "CERTIFICATE", leafDER), write("key.pem", "EC PRIVATE KEY", keyDER), write("ca.pem", "CERTIFICATE", caDER)
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("SFND_TEST_NATS_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
