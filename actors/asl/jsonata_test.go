package asl

import (
	"strings"
	"testing"
)

// A JSONata Task: Arguments become the task input, Output and Assign see
// $states.result; a caught error's Output and Assign see $states.errorOutput.
func TestJSONataTaskResultAndCatch(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"T","States":{
	 "T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:a",
	      "Arguments":{"n":"{% $states.input.n + 1 %}"},
	      "Assign":{"got":"{% $states.result.v %}"},
	      "Output":{"r":"{% $states.result.v * 2 %}","in":"{% $states.input.n %}"},"Next":"U"},
	 "U":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:a",
	      "Arguments":"{% $got %}",
	      "Catch":[{"ErrorEquals":["States.ALL"],"Next":"F",
	                "Assign":{"err":"{% $states.errorOutput.Error %}"},
	                "Output":{"e":"{% $states.errorOutput.Cause %}","prev":"{% $got %}"}}],"End":true},
	 "F":{"Type":"Pass","Output":{"err":"{% $err %}","in":"{% $states.input %}"},"End":true}}}`
	h := newHarness(t, def)
	h.start(`{"n":1}`)
	sa, ok := h.effect(0).(ScheduleActivity)
	if !ok || sa.Input != `{"n":2}` {
		t.Fatalf("first task input: %#v", h.eff)
	}
	h.decide(Trigger{Kind: TriggerTaskSucceeded, ScheduledEventID: sa.ScheduledEventID, Output: `{"v":5}`})
	sb, ok := h.effect(0).(ScheduleActivity)
	if !ok || sb.Input != `5` {
		t.Fatalf("second task input: %#v", h.eff)
	}
	h.decide(Trigger{Kind: TriggerTaskFailed, ScheduledEventID: sb.ScheduledEventID, Error: "Boom", Cause: "bad"})
	if h.x.Status() != StatusSucceeded {
		t.Fatalf("status %s", h.x.Status())
	}
	if got := *h.x.Output(); got != `{"err":"Boom","in":{"e":"bad","prev":5}}` {
		t.Fatalf("output %s", got)
	}
	var assigned []string
	for _, ev := range h.hist {
		if d := ev.StateExitedEventDetails; d != nil && d.AssignedVariables != nil {
			assigned = append(assigned, d.Name+":"+d.AssignedVariables["got"]+d.AssignedVariables["err"])
		}
	}
	if strings.Join(assigned, ",") != `T:5,U:"Boom"` {
		t.Fatalf("assigned %v", assigned)
	}
}

// Variables assigned inside Map iterations and Parallel branches stay there; inner
// states read the outer ones.
func TestJSONataVariableScopes(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"A","States":{
	 "A":{"Type":"Pass","Assign":{"x":10},"Next":"M"},
	 "M":{"Type":"Map","Items":[1,2],"ItemProcessor":{"StartAt":"I","States":{
	     "I":{"Type":"Pass","Assign":{"x":"{% $x + $states.input %}"},"Next":"J"},
	     "J":{"Type":"Pass","Output":"{% $x %}","End":true}}},"Next":"P"},
	 "P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Assign":{"x":0},"Output":"{% $x %}","End":true}}}],
	      "Output":{"map":"{% $states.input %}","par":"{% $states.result %}","x":"{% $x %}"},"End":true}}}`
	h := newHarness(t, def)
	h.start(`{}`)
	if h.x.Status() != StatusSucceeded {
		t.Fatalf("status %s: %s %s", h.x.Status(), h.x.Error, h.x.Cause)
	}
	if got := *h.x.Output(); got != `{"map":[11,12],"par":[10],"x":10}` {
		t.Fatalf("output %s", got)
	}
}

// An undefined JSONata result fails the state with States.QueryEvaluationError after an
// EvaluationFailed event; $random and $uuid come from the recorded seed.
func TestJSONataEvaluationFailedAndRandom(t *testing.T) {
	h := newHarness(t, `{"QueryLanguage":"JSONata","StartAt":"S","States":{"S":{"Type":"Pass","Output":{"a":"{% $nope %}"},"End":true}}}`)
	h.start(`{}`)
	h.expect(`1 0 ExecutionStarted
2 0 PassStateEntered
3 2 EvaluationFailed
4 3 ExecutionFailed
`)
	d := h.hist[2].EvaluationFailedEventDetails
	if d == nil || d.Location != "Output/a" || d.Error != "States.QueryEvaluationError" ||
		d.Cause != "An error occurred while executing the state 'S' (entered at the event id #2). The JSONata expression '$nope' specified for the field 'Output/a' returned nothing (undefined)." {
		t.Fatalf("EvaluationFailed %+v", d)
	}
	def := `{"QueryLanguage":"JSONata","StartAt":"S","States":{"S":{"Type":"Pass","Output":{"r":"{% $random() %}","u":"{% $uuid() %}"},"End":true}}}`
	a, b := newHarness(t, def), newHarness(t, def)
	a.decide(Trigger{Kind: TriggerStart, Seed: 99, Start: &StartInfo{Input: "{}"}})
	b.decide(Trigger{Kind: TriggerStart, Seed: 99, Start: &StartInfo{Input: "{}"}})
	if *a.x.Output() != *b.x.Output() || a.hist[0].Ext == nil || a.hist[0].Ext.Seed != 99 {
		t.Fatalf("not reproducible: %s vs %s", *a.x.Output(), *b.x.Output())
	}
}
