package projections

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// testStore is a store on an embedded NATS server of the test's own.
func testStore(t testing.TB) *jsstore.Store {
	t.Helper()
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
	st, err := jsstore.Open(context.Background(), nc, jsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// testExecutions is the execution read models on a store of the test's own.
func testExecutions(t *testing.T) *Executions {
	t.Helper()
	p, err := OpenExecutions(context.Background(), testStore(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunningListsOnlyRunningRecords: recovery's list of running executions keeps the
// RUNNING records only — not an ended one whose input or output mentions "RUNNING"
// (inside a JSON string it is escaped, so the byte filter passes it on to the decoder
// only when the status itself may be RUNNING).
func TestRunningListsOnlyRunningRecords(t *testing.T) {
	ctx := context.Background()
	p := testExecutions(t)
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

// TestEndAppliedWithoutRead: the end of an execution this process reserved is
// written with the revision its creation returned (no read); when someone else wrote
// the record since, the compare-and-set fails and the record is read again, keeping
// that write.
func TestEndAppliedWithoutRead(t *testing.T) {
	ctx := context.Background()
	p := testExecutions(t)
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:sm"
	now := time.Now().UTC()
	out := `{"done":true}`
	end := []events.HistoryEvent{{ID: 5, Type: events.ExecutionSucceeded, Timestamp: now,
		ExecutionSucceededEventDetails: &events.OutputDetails{Output: &out}}}
	reserve := func(name string) events.ExecutionRecord {
		rec := events.ExecutionRecord{Name: name, ARN: "arn:aws:states:us-east-1:123456789012:execution:sm:" + name,
			StateMachineARN: sm, StartDate: now, Status: "RUNNING", Start: &events.StartCommand{Input: `{}`}}
		if _, err := p.Reserve(ctx, rec); err != nil {
			t.Fatal(err)
		}
		return rec
	}

	a := reserve("a")
	before := p.reads.Load()
	if err := p.Apply(ctx, a.ARN, end); err != nil {
		t.Fatal(err)
	}
	if n := p.reads.Load() - before; n != 0 {
		t.Fatalf("the end of an execution reserved here read its record %d times", n)
	}
	got, err := p.Execution(ctx, a.ARN)
	if err != nil || got.Status != "SUCCEEDED" || got.Output == nil || *got.Output != out {
		t.Fatalf("record %+v %v", got, err)
	}

	b := reserve("b")
	changed := b
	changed.RedriveCount = 7 // a write this process's cache does not know of
	raw, _ := json.Marshal(changed)
	if _, err := p.kv.Put(ctx, ExecutionKey(sm, b.ARN), raw); err != nil {
		t.Fatal(err)
	}
	before = p.reads.Load()
	if err := p.Apply(ctx, b.ARN, end); err != nil {
		t.Fatal(err)
	}
	if n := p.reads.Load() - before; n != 1 {
		t.Fatalf("after a foreign write, the end read the record %d times, want 1", n)
	}
	got, err = p.Execution(ctx, b.ARN)
	if err != nil || got.Status != "SUCCEEDED" || got.RedriveCount != 7 {
		t.Fatalf("record %+v %v: the foreign write or the end was lost", got, err)
	}
}
