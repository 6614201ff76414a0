package asl

// TaskState is the name of the Task state whose pending task was scheduled by the
// event with id scheduled (ok false when no such task is pending). The engine uses it
// to find a task's mocked response (SFN Local's mock configuration is keyed by state
// name).
func (x *Execution) TaskState(scheduled int64) (state string, ok bool) {
	key, ok := x.tasks[scheduled]
	if !ok {
		return "", false
	}
	f := x.frames[key]
	if f == nil || f.Task == nil || f.Task.Scheduled != scheduled {
		return "", false
	}
	return f.State, true
}
