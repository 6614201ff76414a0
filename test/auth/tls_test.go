package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/test/testutil"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 with serial and returns it.
func selfSigned(t *testing.T, certPath, keyPath string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "sfnd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// TestHTTPS serves the API over TLS with a self-signed certificate, authenticated,
// and reloads the certificate.
func TestHTTPS(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := selfSigned(t, certPath, keyPath, 1)
	credPath := filepath.Join(dir, "credentials")
	if err := os.WriteFile(credPath, []byte(credentialsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := api.LoadCredentials(credPath)
	if err != nil {
		t.Fatal(err)
	}
	a := testutil.Start(t, testutil.Options{Credentials: creds, TLSCert: certPath, TLSKey: keyPath})
	if !strings.HasPrefix(a.Endpoint(), "https://") {
		t.Fatalf("endpoint %s", a.Endpoint())
	}
	pool := x509.NewCertPool()
	pool.AddCert(first)
	httpClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(a.Endpoint()), RetryMaxAttempts: 1, HTTPClient: httpClient,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAAAAAAAAAAAAAAAAA", "secret-of-team-a", "")})
	if _, err := c.ListStateMachines(bg, &sfn.ListStateMachinesInput{}); err != nil {
		t.Fatalf("over HTTPS: %v", err)
	}
	// Plain HTTP on the TLS port gets no API answer.
	if resp, err := http.Post("http://"+strings.TrimPrefix(a.Endpoint(), "https://")+"/", "application/x-amz-json-1.0", strings.NewReader("{}")); err == nil {
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS port")
		}
		resp.Body.Close()
	}
	// A client that does not trust the certificate refuses it.
	if _, err := http.Get(a.Endpoint() + "/healthz"); err == nil {
		t.Fatal("an untrusted self-signed certificate was accepted")
	}
	// Reload: new connections get the new certificate.
	second := selfSigned(t, certPath, keyPath, 2)
	if err := a.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", strings.TrimPrefix(a.Endpoint(), "https://"), &tls.Config{InsecureSkipVerify: true}) // only to read the certificate served
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := conn.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(second.SerialNumber) != 0 {
		t.Fatalf("after reload the server presents serial %v, want %v", got, second.SerialNumber)
	}
}
