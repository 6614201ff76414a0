package asl

import (
	"testing"
	"time"

	"github.com/sfnd/sfnd/events"
)

// TestHistoryQuota: an endless Pass loop fails at event 25,000 with AWS's cause, and
// the live state equals the one rebuilt from the history.
func TestHistoryQuota(t *testing.T) {
	sm, err := Parse(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	x := NewExecution(sm)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	evs, effects, err := Decide(sm, x, Trigger{Kind: TriggerStart, Time: now, Start: &StartInfo{
		Input: "{}", ExecutionArn: "arn:aws:states:us-east-1:1:execution:sm:e", Name: "e",
		StateMachineArn: "arn:aws:states:us-east-1:1:stateMachine:sm", StateMachineName: "sm", StartTime: now,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != MaxHistoryEvents || len(effects) != 0 {
		t.Fatalf("%d events, %d effects; want %d and none", len(evs), len(effects), MaxHistoryEvents)
	}
	last := evs[len(evs)-1]
	if last.ID != MaxHistoryEvents || last.Type != events.ExecutionFailed || last.ExecutionFailedEventDetails.Cause != historyFullCause {
		t.Fatalf("last event %d %s %+v", last.ID, last.Type, last.ExecutionFailedEventDetails)
	}
	if x.Status() != StatusFailed {
		t.Fatalf("status %s", x.Status())
	}
	if r := Rebuild(sm, evs); r.Status() != x.Status() || r.LastEventID != x.LastEventID {
		t.Fatalf("rebuilt %s/%d, live %s/%d", r.Status(), r.LastEventID, x.Status(), x.LastEventID)
	}
}
