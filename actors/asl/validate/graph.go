package validate

import "fmt"

// This file holds the graph phase, run once the schema holds: every transition must name a
// state of its own container (a branch cannot transition out), every state must be
// reachable from its container's StartAt, and the top level must have a terminal state.

// graph checks the whole machine.
func (v *validator) graph(root *jsonValue) {
	v.container("", root, true)
}

// container checks one States container: the machine (prefix ""), a Parallel branch or a
// Map's ItemProcessor/Iterator (prefix is its location).
func (v *validator) container(prefix string, w *jsonValue, top bool) {
	states := w.get("States")
	if !states.isObject() {
		return
	}
	startAt := w.get("StartAt").text()
	if !states.has(startAt) {
		v.add(CodeMissingTransitionTarget, prefix+"/StartAt", "Missing 'Next' target: %s", startAt)
	}
	for _, m := range states.members {
		sloc := prefix + "/States/" + m.key
		s := m.value
		for _, t := range transitions(sloc, s) {
			if !states.has(t.target) {
				v.add(CodeMissingTransitionTarget, t.loc, "Missing 'Next' target: %s", t.target)
			}
		}
		switch s.get("Type").text() {
		case "Parallel":
			for i, br := range s.get("Branches").items {
				v.container(fmt.Sprintf("%s/Branches[%d]", sloc, i), br, false)
			}
		case "Map":
			for _, f := range []string{"ItemProcessor", "Iterator"} {
				if p := s.get(f); p != nil {
					v.container(sloc+"/"+f, p, false)
				}
			}
		}
	}
	if top && !hasTerminalState(states) {
		v.add(CodeMissingEndState, "", "Workflow has no terminal state")
		return
	}
	reachable := map[string]bool{}
	if states.has(startAt) {
		reachable[startAt] = true
		queue := []string{startAt}
		for len(queue) > 0 {
			name := queue[0]
			queue = queue[1:]
			for _, t := range transitions("", states.get(name)) {
				if states.has(t.target) && !reachable[t.target] {
					reachable[t.target] = true
					queue = append(queue, t.target)
				}
			}
		}
	}
	for _, m := range states.members {
		if !reachable[m.key] {
			v.add(CodeMissingTransitionTarget, prefix+"/States/"+m.key, "State \"%s\" is not reachable.", m.key)
		}
	}
}

type transition struct {
	target string
	loc    string
}

// transitions lists the states s can move to: Next, Default, Choices[].Next, Catch[].Next.
func transitions(loc string, s *jsonValue) []transition {
	var out []transition
	if n := s.get("Next"); n.isString() {
		out = append(out, transition{n.str, loc + "/Next"})
	}
	for i, c := range s.get("Choices").itemsOrNil() {
		if n := c.get("Next"); n.isString() {
			out = append(out, transition{n.str, fmt.Sprintf("%s/Choices[%d]/Next", loc, i)})
		}
	}
	if d := s.get("Default"); d.isString() {
		out = append(out, transition{d.str, loc + "/Default"})
	}
	for i, c := range s.get("Catch").itemsOrNil() {
		if n := c.get("Next"); n.isString() {
			out = append(out, transition{n.str, fmt.Sprintf("%s/Catch[%d]/Next", loc, i)})
		}
	}
	return out
}

func (v *jsonValue) itemsOrNil() []*jsonValue {
	if v == nil || v.kind != kindArray {
		return nil
	}
	return v.items
}

func hasTerminalState(states *jsonValue) bool {
	for _, m := range states.members {
		s := m.value
		switch s.get("Type").text() {
		case "Succeed", "Fail":
			return true
		}
		if e := s.get("End"); e.isBool() && e.boolean {
			return true
		}
	}
	return false
}
