package asl

import (
	"strings"

	"github.com/sfnd/sfnd/events"
)

// TaskTimer reports whether timer id is the timeout or the heartbeat timer of a
// pending task, and of which task (its scheduled event id). The engine uses it to
// extend heartbeat deadlines: heartbeats are not events, so the decider's heartbeat
// timer runs from TaskStarted and the engine re-arms it while heartbeats arrive.
func (x *Execution) TaskTimer(id string) (scheduled int64, heartbeat, ok bool) {
	t := x.timers[id]
	if t == nil || (t.Kind != timerTimeout && t.Kind != timerHeartbeat) {
		return 0, false, false
	}
	return t.Scheduled, t.Kind == timerHeartbeat, true
}

// taskSubmitted records that a callback (.waitForTaskToken) task's request was
// accepted by its service: TaskSubmitted with the service's answer. The task then
// waits for SendTaskSuccess/Failure with its token.
func (d *decider) taskSubmitted(f *frame) {
	kind, typ, name := taskKind(d.state(f).Resource)
	if kind != "task" {
		return
	}
	out := d.t.Output
	if strings.TrimSpace(out) == "" {
		out = "{}"
	}
	d.emit(f, events.HistoryEvent{Type: events.TaskSubmitted,
		TaskSubmittedEventDetails: &events.TaskOutputDetails{ResourceType: typ, Resource: name,
			Output: &out, OutputDetails: events.NotTruncated()}}, nil)
}
