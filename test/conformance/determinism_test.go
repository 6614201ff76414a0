package conformance_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/audit"
	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/events/jsstore"
)

// verifyStoredHistories is the audit of `sfnd history verify --all` over every
// execution the corpus ran: for each decision, the decider re-run with the recorded
// trigger must produce exactly the stored events (a determinism fault otherwise).
func verifyStoredHistories(t *testing.T, node *app.App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	info, err := node.Store.HistoryStream().Info(ctx, jetstream.WithSubjectFilter(jsstore.HistoryPrefix+">"))
	if err != nil {
		t.Fatalf("list histories: %v", err)
	}
	n, decisions := 0, 0
	for subj := range info.State.Subjects {
		arn, err := jsstore.Untoken(strings.TrimPrefix(subj, jsstore.HistoryPrefix))
		if err != nil {
			t.Errorf("history subject %s: %v", subj, err)
			continue
		}
		h, _, err := node.Store.ReadHistory(ctx, arn)
		if err != nil {
			t.Errorf("read %s: %v", arn, err)
			continue
		}
		res, err := audit.Verify(h, audit.VerifyOptions{TaskToken: node.Tasks.Token})
		if err != nil || res.Fault != nil {
			t.Errorf("determinism fault in %s: %v %+v", arn, err, res.Fault)
			continue
		}
		n++
		decisions += res.Decisions
	}
	if n == 0 {
		t.Error("no history to verify")
	}
	t.Logf("replayed %d histories, %d decisions: all agree", n, decisions)
}
