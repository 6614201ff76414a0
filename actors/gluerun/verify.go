package gluerun

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/cockroachdb/errors"
)

// Fault is a decision the decider makes differently today than the stored history says.
type Fault struct {
	EventID  int64  `json:"eventId"`  // first event of the decision
	Decision int    `json:"decision"` // 1-based index of the decision
	Message  string `json:"message"`
}

// VerifyResult is the outcome of an audit replay.
type VerifyResult struct {
	Events    int
	Decisions int
	Fault     *Fault
	Run       *Run // the state the history folds into
}

// Verify replays a workflow run's history decision by decision: it folds the events
// and, at each decision (the events that begin with a recorded trigger), runs Decide
// on the state before it and compares what it decides with what is stored. Any
// difference is a determinism fault.
func Verify(evs []Event) (VerifyResult, error) {
	res := VerifyResult{Events: len(evs)}
	r := New()
	for i := 0; i < len(evs); {
		if evs[i].Decided == nil {
			return res, errors.Newf("event %d starts a decision but records no trigger", evs[i].ID)
		}
		j := i + 1
		for j < len(evs) && evs[j].Decided == nil {
			j++
		}
		res.Decisions++
		stored := evs[i:j]
		trig := *stored[0].Decided
		clone, err := cloneRun(r)
		if err != nil {
			return res, err
		}
		got, _, err := Decide(clone, trig)
		if err != nil {
			res.Fault = &Fault{EventID: stored[0].ID, Decision: res.Decisions, Message: fmt.Sprintf("the decider refuses the trigger %s: %v", trig.Kind, err)}
			return res, nil
		}
		if msg := compare(got, stored); msg != "" {
			res.Fault = &Fault{EventID: stored[0].ID, Decision: res.Decisions, Message: msg}
			return res, nil
		}
		for _, ev := range stored {
			Apply(r, ev)
		}
		i = j
	}
	res.Run = r
	return res, nil
}

func cloneRun(r *Run) (*Run, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, errors.Wrap(err, "copy run state")
	}
	c := New()
	return c, errors.Wrap(json.Unmarshal(b, c), "copy run state")
}

// compare reports how a re-decided decision differs from the stored one ("" if not).
func compare(got, stored []Event) string {
	if len(got) != len(stored) {
		return fmt.Sprintf("decided %d events, the history stores %d (%s vs %s)", len(got), len(stored), types(got), types(stored))
	}
	for k := range got {
		a, b := normal(got[k]), normal(stored[k])
		if !reflect.DeepEqual(a, b) {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			return fmt.Sprintf("event %d: decided %s, stored %s", stored[k].ID, ja, jb)
		}
	}
	return ""
}

func normal(ev Event) map[string]any {
	ev.Decided = nil
	b, _ := json.Marshal(ev)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func types(evs []Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}
