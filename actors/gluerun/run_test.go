package gluerun

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sfnd/sfnd/events"
)

func s(v string) *string { return &v }

func job(name string) events.GlueAction { return events.GlueAction{JobName: s(name)} }

func cond(logical string, watch ...string) *events.GluePredicate {
	p := &events.GluePredicate{Logical: s(logical)}
	for i := 0; i < len(watch); i += 2 {
		p.Conditions = append(p.Conditions, events.GlueCondition{LogicalOperator: s("EQUALS"), JobName: s(watch[i]), State: s(watch[i+1])})
	}
	return p
}

func trigger(name, typ string, pred *events.GluePredicate, acts ...events.GlueAction) events.GlueTriggerBody {
	return events.GlueTriggerBody{Name: name, Type: typ, State: "ACTIVATED", Predicate: pred, Actions: acts}
}

// runner drives a run through Decide, keeping the history like the actor does.
type runner struct {
	t    *testing.T
	r    *Run
	hist []Event
	now  time.Time
}

func (x *runner) decide(tr Trigger) []Effect {
	x.t.Helper()
	x.now = x.now.Add(time.Second)
	tr.Time = x.now
	evs, effects, err := Decide(x.r, tr)
	if err != nil {
		x.t.Fatalf("decide %s: %v", tr.Kind, err)
	}
	if len(evs) > 0 {
		d := tr
		evs[0].Decided = &d
		// Round-trip through JSON as the store does.
		b, _ := json.Marshal(evs)
		var stored []Event
		_ = json.Unmarshal(b, &stored)
		x.hist = append(x.hist, stored...)
	}
	return effects
}

func (x *runner) end(effects []Effect, job, state string) []Effect {
	x.t.Helper()
	for _, ef := range effects {
		if sj, ok := ef.(StartJob); ok && sj.JobName == job {
			return x.decide(Trigger{Kind: TrActionEnded, Node: NodeKey(NodeJob, job), RunId: sj.RunId, State: state})
		}
	}
	x.t.Fatalf("no start of %s in %v", job, effects)
	return nil
}

func started(effects []Effect) []string {
	var out []string
	for _, ef := range effects {
		if sj, ok := ef.(StartJob); ok {
			out = append(out, sj.JobName)
		}
	}
	return out
}

func newRunner(t *testing.T, trigs ...events.GlueTriggerBody) (*runner, []Effect) {
	x := &runner{t: t, r: New(), now: time.Unix(1_700_000_000, 0).UTC()}
	eff := x.decide(Trigger{Kind: TrStart, Start: &Start{Workflow: "wf", RunId: "wr_1", Triggers: trigs, Properties: map[string]string{"a": "1"}}})
	return x, eff
}

func verify(t *testing.T, hist []Event) {
	t.Helper()
	res, err := Verify(hist)
	if err != nil || res.Fault != nil {
		t.Fatalf("verify: %v %+v", err, res.Fault)
	}
}

func TestChain(t *testing.T) {
	x, eff := newRunner(t,
		trigger("T0", "ON_DEMAND", nil, job("J1")),
		trigger("T1", "CONDITIONAL", cond("AND", "J1", "SUCCEEDED"), job("J2")),
		trigger("T2", "CONDITIONAL", cond("AND", "J2", "SUCCEEDED"), job("J3")))
	if got := started(eff); len(got) != 1 || got[0] != "J1" {
		t.Fatalf("start: %v", got)
	}
	eff = x.end(eff, "J1", "SUCCEEDED")
	eff = x.end(eff, "J2", "SUCCEEDED")
	if x.r.Status != StatusRunning {
		t.Fatal("ended early")
	}
	eff = x.end(eff, "J3", "SUCCEEDED")
	if x.r.Status != StatusCompleted || len(eff) != 1 {
		t.Fatalf("status %s, effects %v", x.r.Status, eff)
	}
	verify(t, x.hist)
	// A repeated report changes nothing.
	if evs, _, _ := Decide(x.r, Trigger{Kind: TrActionEnded, Node: "JOB:J3", RunId: x.r.Nodes["JOB:J3"].Runs[0], State: "FAILED"}); len(evs) != 0 {
		t.Fatalf("stale report decided %v", evs)
	}
}

func TestAnyAndFailureBranch(t *testing.T) {
	x, eff := newRunner(t,
		trigger("T0", "ON_DEMAND", nil, job("J1"), job("J2")),
		trigger("T1", "CONDITIONAL", cond("ANY", "J1", "SUCCEEDED", "J2", "SUCCEEDED"), job("J3")),
		trigger("T2", "CONDITIONAL", cond("AND", "J1", "FAILED"), job("cleanup")),
		trigger("T3", "CONDITIONAL", cond("AND", "J1", "SUCCEEDED", "J2", "SUCCEEDED"), job("never")))
	first := eff
	eff = x.end(first, "J1", "FAILED")
	if got := started(eff); len(got) != 1 || got[0] != "cleanup" {
		t.Fatalf("after J1 failed: %v", got)
	}
	cleanup := eff
	eff = x.end(first, "J2", "SUCCEEDED")
	if got := started(eff); len(got) != 1 || got[0] != "J3" {
		t.Fatalf("after J2: %v", got)
	}
	x.end(eff, "J3", "SUCCEEDED")
	x.end(cleanup, "cleanup", "SUCCEEDED")
	if x.r.Status != StatusCompleted || x.r.Nodes["JOB:never"] != nil {
		t.Fatalf("status %s nodes %v", x.r.Status, x.r.Nodes)
	}
	verify(t, x.hist)
}

func TestStopAndRetryAndProperties(t *testing.T) {
	x, eff := newRunner(t,
		trigger("T0", "ON_DEMAND", nil, job("J1")),
		trigger("T1", "CONDITIONAL", cond("AND", "J1", "SUCCEEDED"), job("J2")))
	id := eff[0].(StartJob).RunId
	x.decide(Trigger{Kind: TrActionRetried, Node: "JOB:J1", RunId: id, NewRunId: "jr_retry", Attempt: 1})
	if n := x.r.Nodes["JOB:J1"]; len(n.Runs) != 2 || n.Settled {
		t.Fatalf("retry: %+v", n)
	}
	x.decide(Trigger{Kind: TrProperties, Properties: map[string]string{"b": "2"}})
	if x.r.Properties["a"] != "1" || x.r.Properties["b"] != "2" {
		t.Fatalf("properties %v", x.r.Properties)
	}
	eff = x.decide(Trigger{Kind: TrStop})
	if x.r.Status != StatusStopping || len(eff) != 1 || eff[0].(StopAction).RunId != "jr_retry" {
		t.Fatalf("stop: %s %v", x.r.Status, eff)
	}
	if _, _, err := Decide(x.r, Trigger{Kind: TrStop}); err != ErrNotRunning {
		t.Fatalf("second stop: %v", err)
	}
	x.decide(Trigger{Kind: TrActionEnded, Node: "JOB:J1", RunId: "jr_retry", State: "STOPPED"})
	if x.r.Status != StatusStopped || x.r.Nodes["JOB:J2"] != nil {
		t.Fatalf("stopped: %s", x.r.Status)
	}
	verify(t, x.hist)
	// A tampered history is a fault.
	bad := append([]Event{}, x.hist...)
	bad[len(bad)-1].Type = EvCompleted
	if res, _ := Verify(bad); res.Fault == nil {
		t.Fatal("tampered history verified")
	}
}

func TestResumePlan(t *testing.T) {
	x, eff := newRunner(t,
		trigger("T0", "ON_DEMAND", nil, job("J1")),
		trigger("T1", "CONDITIONAL", cond("AND", "J1", "SUCCEEDED"), job("J2")),
		trigger("T2", "CONDITIONAL", cond("AND", "J2", "SUCCEEDED"), job("J3")))
	eff = x.end(eff, "J1", "SUCCEEDED")
	x.end(eff, "J2", "FAILED")
	if x.r.Status != StatusCompleted {
		t.Fatal(x.r.Status)
	}
	kept, copied, fired := ResumePlan(x.r, []string{"JOB:J3", "JOB:J2"})
	if len(kept) != 1 || kept[0] != "JOB:J2" || copied["JOB:J1"] == nil || !fired["T0"] || !fired["T1"] {
		t.Fatalf("plan: %v %v %v", kept, copied, fired)
	}
	y := &runner{t: t, r: New(), now: x.now}
	eff = y.decide(Trigger{Kind: TrStart, Start: &Start{Workflow: "wf", RunId: "wr_2", PreviousRunId: "wr_1", Triggers: x.r.Triggers, Copied: copied, Fired: fired, Resume: kept}})
	if got := started(eff); len(got) != 1 || got[0] != "J2" {
		t.Fatalf("resumed start: %v", got)
	}
	eff = y.end(eff, "J2", "SUCCEEDED")
	y.end(eff, "J3", "SUCCEEDED")
	if y.r.Status != StatusCompleted || !y.r.Nodes["JOB:J1"].Copied || y.r.PreviousRunId != "wr_1" {
		t.Fatalf("resumed run: %+v", y.r)
	}
	verify(t, y.hist)
}

func TestCron(t *testing.T) {
	c, err := ParseCron("cron(0/5 * * * ? *)")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 10, 3, 20, 0, time.UTC)
	if n := c.Next(at); !n.Equal(time.Date(2026, 1, 1, 10, 5, 0, 0, time.UTC)) {
		t.Fatalf("next %v", n)
	}
	c, _ = ParseCron("cron(15 12 ? * MON-FRI *)")
	if n := c.Next(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)); !n.Equal(time.Date(2026, 1, 5, 12, 15, 0, 0, time.UTC)) {
		t.Fatalf("weekday next %v", n)
	}
	for _, bad := range []string{"rate(5 minutes)", "cron(* * * * * *)", "cron(0 12 * * ?)", "cron(61 * * * ? *)"} {
		if _, err := ParseCron(bad); err == nil {
			t.Fatalf("%s parsed", bad)
		}
	}
}
