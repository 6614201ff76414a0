package projections

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// TestRunningListsOnlyRunningRecords: recovery's list of running executions keeps the
// RUNNING records only — not an ended one whose input or output mentions "RUNNING"
// (inside a JSON string it is escaped, so the byte filter passes it on to the decoder
// only when the status itself may be RUNNING).
func TestRunningListsOnlyRunningRecords(t *testing.T) {
	e, err := jsstore.StartEmbedded(jsstore.EmbeddedConfig{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	nc, err := e.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx := context.Background()
	st, err := jsstore.Open(ctx, nc, jsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := OpenExecutions(ctx, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:sm"
	now := time.Now().UTC()
	out := `{"status":"RUNNING","RUNNING":"RUNNING"}`
	recs := []events.ExecutionRecord{
		{Name: "run1", Status: "RUNNING", Start: &events.StartCommand{Input: `{}`}},
		{Name: "done1", Status: "SUCCEEDED", Output: &out, Start: &events.StartCommand{Input: `{"status":"RUNNING"}`}},
		{Name: "run2", Status: "RUNNING", Start: &events.StartCommand{Input: `{"status":"SUCCEEDED"}`}},
		{Name: "failed", Status: "FAILED", Error: "RUNNING", Cause: `"RUNNING"`, Start: &events.StartCommand{Input: `"RUNNING"`}},
		{Name: "redrive", Status: "PENDING_REDRIVE", Start: &events.StartCommand{Input: `{}`}},
	}
	for i := range recs {
		recs[i].ARN = "arn:aws:states:us-east-1:123456789012:execution:sm:" + recs[i].Name
		recs[i].StateMachineARN, recs[i].StartDate = sm, now
		if _, err := p.Reserve(ctx, recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	running, err := p.Running(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range running {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"run1", "run2"}) {
		t.Fatalf("running = %v, want [run1 run2]", names)
	}
}
