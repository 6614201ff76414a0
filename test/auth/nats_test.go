package auth

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/test/testutil"
)

// TestNATSLockedDown: when a node's embedded NATS listens, a client without sfnd's
// credentials is refused (it cannot reach the task token key or any stream); the
// generated password lives in the data directory, readable by its owner only, and is
// the same after a restart; with sfnd's credentials the key bucket is there.
func TestNATSLockedDown(t *testing.T) {
	dir := t.TempDir()
	a := testutil.Start(t, testutil.Options{DataDir: dir})
	public := a.NATSPublicURL()
	if public == "" || strings.Contains(public, "@") {
		t.Fatalf("public NATS URL %q", public)
	}
	for _, opts := range [][]nats.Option{nil, {nats.UserInfo(app.NATSUser, "guess")}, {nats.UserInfo("", "")}, {nats.Token("x")}} {
		if nc, err := nats.Connect(public, opts...); err == nil {
			nc.Close()
			t.Fatal("a NATS client without sfnd's credentials was let in")
		} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Fatalf("refused with %v, want an authorization violation", err)
		}
	}
	nc, err := nats.Connect(a.NATSURL()) // the URL with sfnd's credentials
	if err != nil {
		t.Fatalf("sfnd's credentials: %v", err)
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.KeyValue(ctx, actors.KeyBucket); err != nil {
		t.Fatalf("the key bucket with sfnd's credentials: %v", err)
	}
	nc.Close()
	path := filepath.Join(dir, app.NATSPasswordFile)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("password file %s: %v %v", path, st, err)
	}
	pw, _ := os.ReadFile(path)
	if len(strings.TrimSpace(string(pw))) < 32 || !strings.Contains(a.NATSURL(), strings.TrimSpace(string(pw))) {
		t.Fatal("the client URL does not carry the stored password")
	}
	first := a.NATSURL()
	a.Close()
	b := testutil.Start(t, testutil.Options{DataDir: dir})
	if got := b.NATSURL(); !strings.Contains(got, strings.TrimSpace(string(pw))) {
		t.Fatalf("after a restart the password changed: %q vs %q", got, first)
	}
	if nc, err := nats.Connect(b.NATSPublicURL()); err == nil {
		nc.Close()
		t.Fatal("after a restart a client without credentials was let in")
	}
}
