package asl

import (
	"testing"
	"time"

	"github.com/sfnd/sfnd/events"
)

// TestTaskCredentials: a Task state's Credentials (a literal or a path) land resolved
// in TaskScheduled / LambdaFunctionScheduled as taskCredentials.
func TestTaskCredentials(t *testing.T) {
	for name, tc := range map[string]struct{ def, want string }{
		"path": {`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",
			"Credentials":{"RoleArn.$":"$.role"},"End":true}}}`, "arn:aws:iam::123456789012:role/from-input"},
		"literal": {`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f",
			"Credentials":{"RoleArn":"arn:aws:iam::123456789012:role/literal"},"End":true}}}`, "arn:aws:iam::123456789012:role/literal"},
		"jsonata": {`{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",
			"Credentials":{"RoleArn":"arn:aws:iam::123456789012:role/static"},"End":true}}}`, "arn:aws:iam::123456789012:role/static"},
		"none": {`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","End":true}}}`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			sm, err := Parse(tc.def)
			if err != nil {
				t.Fatal(err)
			}
			x := NewExecution(sm)
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			evs, _, err := Decide(sm, x, Trigger{Kind: TriggerStart, Time: now, Start: &StartInfo{
				Input: `{"role":"arn:aws:iam::123456789012:role/from-input"}`, ExecutionArn: "arn:aws:states:us-east-1:123456789012:execution:sm:e",
				Name: "e", StateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm", StateMachineName: "sm", StartTime: now,
			}})
			if err != nil {
				t.Fatal(err)
			}
			var got *events.TaskCredentials
			for _, ev := range evs {
				if d := ev.TaskScheduledEventDetails; d != nil {
					got = d.TaskCredentials
				}
				if d := ev.LambdaFunctionScheduledEventDetails; d != nil {
					got = d.TaskCredentials
				}
			}
			switch {
			case tc.want == "" && got != nil:
				t.Fatalf("taskCredentials %+v, want none", got)
			case tc.want != "" && (got == nil || got.RoleArn != tc.want):
				t.Fatalf("taskCredentials %+v, want roleArn %s", got, tc.want)
			}
			if r := Rebuild(sm, evs); r.LastEventID != x.LastEventID {
				t.Fatalf("rebuild %d != live %d", r.LastEventID, x.LastEventID)
			}
		})
	}
}
