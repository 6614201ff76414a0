package sfn

import (
	"testing"
	"time"

	"github.com/sfnd/sfnd/events"
)

// The conditions AWS documents for a redrive, with its redriveStatusReason texts.
func TestRedriveStatus(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	stopped := func(d time.Duration) *time.Time { s := now.Add(-d); return &s }
	failed := events.ExecutionRecord{Status: "FAILED", StartDate: now.Add(-time.Hour), StopDate: stopped(time.Minute), LastEventID: 12}
	with := func(f func(*events.ExecutionRecord)) events.ExecutionRecord { r := failed; f(&r); return r }
	for _, c := range []struct {
		name     string
		rec      events.ExecutionRecord
		deleting bool
		status   string
		reason   string
	}{
		{"failed", failed, false, redrivable, ""},
		{"aborted", with(func(r *events.ExecutionRecord) { r.Status = "ABORTED" }), false, redrivable, ""},
		{"timed out", with(func(r *events.ExecutionRecord) { r.Status = "TIMED_OUT" }), false, redrivable, ""},
		{"running", with(func(r *events.ExecutionRecord) { r.Status, r.StopDate = "RUNNING", nil }), false, notRedrivable, "Execution is RUNNING and cannot be redriven"},
		{"succeeded", with(func(r *events.ExecutionRecord) { r.Status = "SUCCEEDED" }), false, notRedrivable, "Execution is SUCCEEDED and cannot be redriven"},
		{"14 days after", with(func(r *events.ExecutionRecord) { r.StopDate = stopped(14 * 24 * time.Hour) }), false, redrivable, ""},
		{"past 14 days", with(func(r *events.ExecutionRecord) { r.StopDate = stopped(14*24*time.Hour + time.Second) }), false, notRedrivable, "Execution redrivable period exceeded"},
		{"open a year", with(func(r *events.ExecutionRecord) { r.StartDate = now.Add(-366 * 24 * time.Hour) }), false, notRedrivable, "Execution has exceeded the max execution time"},
		{"24,998 events", with(func(r *events.ExecutionRecord) { r.LastEventID = 24998 }), false, redrivable, ""},
		{"24,999 events", with(func(r *events.ExecutionRecord) { r.LastEventID = 24999 }), false, notRedrivable, "Execution history event limit exceeded"},
		{"deleting", failed, true, notRedrivable, "State machine is in DELETING status"},
		{"express child", with(func(r *events.ExecutionRecord) {
			r.Start = &events.StartCommand{MapRun: &events.MapRunChild{ARN: "m", Express: true}}
		}), false, redrivableByMapRn, ""},
	} {
		status, reason := redriveStatusAt(c.rec, now, c.deleting)
		if status != c.status || reason != c.reason {
			t.Errorf("%s: %s %q, want %s %q", c.name, status, reason, c.status, c.reason)
		}
	}
}

func TestRedriveTokens(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := events.ExecutionRecord{RedriveTokens: []events.RedriveToken{{Token: "a", Date: now.Add(-16 * time.Minute)}, {Token: "b", Date: now.Add(-time.Minute)}}}
	if _, ok := tokenUsed(rec, "a", now); ok {
		t.Fatal("a token older than 15 minutes answered")
	}
	if d, ok := tokenUsed(rec, "b", now); !ok || !d.Equal(now.Add(-time.Minute)) {
		t.Fatal("a recent token did not answer")
	}
	if _, ok := tokenUsed(rec, "", now); ok {
		t.Fatal("no token answered")
	}
}
