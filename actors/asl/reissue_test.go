package asl

import "testing"

// TestRepeatedTaskReportsAddNoEvents: a service call re-issued on recovery reports
// its start, submission and result again; only the first of each is recorded.
func TestRepeatedTaskReportsAddNoEvents(t *testing.T) {
	h := newHarness(t, `{"StartAt":"T","States":{"T":{"Type":"Task",
		"Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f"},"End":true}}}`)
	h.start(`{}`)
	for range 2 {
		h.decide(Trigger{Kind: TriggerTaskStarted, ScheduledEventID: 3})
		h.decide(Trigger{Kind: TriggerTaskSubmitted, ScheduledEventID: 3, Output: `{"StatusCode":202}`})
	}
	for range 2 {
		h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: 3, Output: `{"ok":1}`})
		h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: 3, Error: "Late"})
		h.decide(Trigger{Kind: TriggerTaskSubmitted, ScheduledEventID: 3, Output: `{}`})
	}
	h.expect(`
		1 0 ExecutionStarted
		2 0 TaskStateEntered
		3 2 TaskScheduled
		4 3 TaskStarted
		5 4 TaskSubmitted
		6 5 TaskSucceeded
		7 6 TaskStateExited
		8 7 ExecutionSucceeded
	`)
}
