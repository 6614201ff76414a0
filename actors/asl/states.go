package asl

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sfnd/sfnd/actors/asl/expr"
	"github.com/sfnd/sfnd/events"
)

// ---- Wait ----

func (d *decider) runWait(f *frame, st *State) {
	in, err := d.effectiveInput(f, st, false)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	due, detail, err := d.waitUntil(f, st, in)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	if detail != "" {
		d.runtimeFail(f, st, detail)
		return
	}
	if !due.After(d.t.Time) {
		d.finishWait(f)
		return
	}
	d.schedule(f, timerWait, due)
}

// waitUntil computes a Wait state's deadline; detail is AWS's runtime error text.
func (d *decider) waitUntil(f *frame, st *State, in *payload) (time.Time, string, error) {
	now := d.t.Time
	switch {
	case st.Seconds != nil:
		n, err := strconv.ParseFloat(st.Seconds.String(), 64)
		if err != nil {
			return now, "The Seconds field is not a number", nil
		}
		return now.Add(time.Duration(n * float64(time.Second))), "", nil
	case st.Timestamp != "":
		ts, ok := parseTimestamp(st.Timestamp)
		if !ok {
			return now, "The Timestamp field is not a valid ISO-8601 extended offset date-time format string: " + st.Timestamp, nil
		}
		return ts, "", nil
	case st.SecondsPath != "":
		v, err := expr.EvalPathField(st.SecondsPath, "SecondsPath", d.env(f, in.Value()))
		if err != nil {
			return now, "", err
		}
		n, ok := v.(json.Number)
		if !ok {
			return now, "The SecondsPath parameter does not reference a valid integer: " + st.SecondsPath + " == " + stringify(v), nil
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return now, "The SecondsPath parameter cannot be parsed as a long value: " + st.SecondsPath + " == " + string(n), nil
		}
		if i < 0 {
			return now, "The SecondsPath parameter references a negative value: " + st.SecondsPath + " == " + string(n), nil
		}
		return now.Add(time.Duration(i) * time.Second), "", nil
	case st.TimestampPath != "":
		v, err := expr.EvalPathField(st.TimestampPath, "TimestampPath", d.env(f, in.Value()))
		if err != nil {
			return now, "", err
		}
		s, _ := v.(string)
		ts, ok := parseTimestamp(s)
		if !ok {
			return now, "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: " + st.TimestampPath + " == " + stringify(v), nil
		}
		return ts, "", nil
	}
	return now, "", nil
}

// parseTimestamp parses an ISO-8601 extended offset date-time (RFC 3339).
func parseTimestamp(s string) (time.Time, bool) {
	if len(s) < 20 || (s[10] != 'T') {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

func (d *decider) finishWait(f *frame) {
	st := d.state(f)
	if st.isJSONata() {
		raw, in := d.inputOf(f)
		d.jsonataExit(f, st, st.Assign, st.Output, in, raw, nextOf(st))
		return
	}
	in, err := d.effectiveInput(f, st, false)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	out, err := d.outputPath(f, st, in)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	var assigned map[string]string
	if st.Assign.Set {
		assigned, err = d.assign(f, st.Assign.Value, in.Value())
		if err != nil {
			d.failErr(f, st, err)
			return
		}
	}
	d.exit(f, st, out, nextOf(st), assigned)
}

// ---- Task ----

// taskKind classifies a Task resource: activity, lambda (a function ARN) or a service
// integration "arn:aws:states:::service:api[.suffix]".
func taskKind(resource string) (kind, typ, name string) {
	parts := strings.SplitN(resource, ":", 7)
	if len(parts) >= 6 && parts[2] == "states" && parts[5] == "activity" {
		return "activity", "", ""
	}
	if len(parts) >= 7 && parts[2] == "lambda" && parts[5] == "function" {
		return "lambda", "", ""
	}
	if len(parts) >= 7 && parts[2] == "states" && parts[3] == "" && parts[4] == "" {
		if parts[5] == "aws-sdk" {
			// arn:aws:states:::aws-sdk:<service>:<action>: AWS records the resource
			// type "aws-sdk:<service>" and the resource "<action>".
			if svc, action, ok := strings.Cut(parts[6], ":"); ok {
				return "task", "aws-sdk:" + svc, action
			}
		}
		return "task", parts[5], parts[6]
	}
	if len(parts) >= 6 {
		return "task", parts[5], strings.Join(parts[6:], ":")
	}
	return "task", "", resource
}

func (d *decider) region() string {
	p := strings.Split(d.x.info.ExecutionArn, ":")
	if len(p) > 3 {
		return p[3]
	}
	return ""
}

// taskSeconds resolves TimeoutSeconds(Path) or HeartbeatSeconds(Path).
func (d *decider) taskSeconds(f *frame, static *int64, path, field string, in *payload) (int64, error) {
	if static != nil {
		return *static, nil
	}
	if path == "" {
		return 0, nil
	}
	v, err := expr.EvalPathField(path, field, d.env(f, in.Value()))
	if err != nil {
		return 0, err
	}
	n, ok := v.(json.Number)
	i, perr := strconv.ParseInt(string(n), 10, 64)
	if !ok || perr != nil || i <= 0 {
		return 0, &expr.Error{Name: "States.Runtime", Cause: "The " + field + " parameter does not reference a valid positive integer: " + path + " == " + stringify(v)}
	}
	return i, nil
}

func (d *decider) runTask(f *frame, st *State) {
	var timeout, heartbeat int64
	var in *payload
	if st.isJSONata() {
		raw, jin := d.inputOf(f)
		if d.t.TaskToken != nil {
			jin.taskToken = d.t.TaskToken(d.x.LastEventID + 1)
		}
		var err error
		if timeout, err = d.jsonataSeconds(f, st.TimeoutSeconds, st.TimeoutExpr, "TimeoutSeconds", jin); err != nil {
			d.jsonataFail(f, st, err)
			return
		}
		if heartbeat, err = d.jsonataSeconds(f, st.HeartbeatSeconds, st.HeartbeatExpr, "HeartbeatSeconds", jin); err != nil {
			d.jsonataFail(f, st, err)
			return
		}
		if in, err = d.jsonataArguments(f, st, jin, raw); err != nil {
			d.jsonataFail(f, st, err)
			return
		}
		d.scheduleTask(f, st, in, timeout, heartbeat, staticCredentials(st))
		return
	}
	pathIn, err := d.effectiveInput(f, st, false)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	timeout, err = d.taskSeconds(f, st.TimeoutSeconds, st.TimeoutSecondsPath, "TimeoutSecondsPath", pathIn)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	heartbeat, err = d.taskSeconds(f, st.HeartbeatSeconds, st.HeartbeatSecondsPath, "HeartbeatSecondsPath", pathIn)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	in = pathIn
	if st.Parameters.Set {
		// $$.Task.Token is the token of the task about to be scheduled.
		env := d.env(f, pathIn.Value())
		if d.t.TaskToken != nil {
			env.Context = d.context(f, nil)
			if c, ok := env.Context.(*expr.Object); ok {
				t := expr.NewObject(1)
				t.Set("Token", d.t.TaskToken(d.x.LastEventID+1))
				c.Set("Task", t)
			}
		}
		v, err := expr.EvalTemplate(st.Parameters.Value, env)
		if err != nil {
			d.failErr(f, st, err)
			return
		}
		in = valPayload(v)
	}
	var creds *events.TaskCredentials
	if st.Credentials.Set {
		v, err := expr.EvalTemplate(st.Credentials.Value, d.env(f, pathIn.Value()))
		if err != nil {
			d.failErr(f, st, err)
			return
		}
		creds = credentialsOf(v)
	}
	d.scheduleTask(f, st, in, timeout, heartbeat, creds)
}

// credentialsOf reads the RoleArn of an evaluated Credentials field (nil: none).
func credentialsOf(v any) *events.TaskCredentials {
	if o, ok := v.(*expr.Object); ok {
		if r, ok := o.Get("RoleArn"); ok {
			if arn, ok := r.(string); ok {
				return &events.TaskCredentials{RoleArn: arn}
			}
		}
	}
	return nil
}

// staticCredentials is the Credentials of a JSONata state when its RoleArn is a
// literal string (an expression is not recorded).
func staticCredentials(st *State) *events.TaskCredentials {
	if !st.Credentials.Set {
		return nil
	}
	c := credentialsOf(expr.FromGo(st.Credentials.Value))
	if c != nil && strings.HasPrefix(strings.TrimSpace(c.RoleArn), "{%") {
		return nil
	}
	return c
}

// scheduleTask emits the scheduled event of a Task state with its effective input and
// asks for the work.
func (d *decider) scheduleTask(f *frame, st *State, in *payload, timeout, heartbeat int64, creds *events.TaskCredentials) {
	text := in.Text()
	var tPtr, hPtr *int64
	if timeout > 0 {
		tPtr = &timeout
	}
	if heartbeat > 0 {
		hPtr = &heartbeat
	}
	kind, typ, name := taskKind(st.Resource)
	var ev *events.HistoryEvent
	if kind == "activity" && d.t.ActivityExists != nil && !d.t.ActivityExists(st.Resource) {
		d.runtimeFail(f, st, "The activity "+st.Resource+" does not exist.")
		return
	}
	switch kind {
	case "activity":
		ev = d.emit(f, events.HistoryEvent{Type: events.ActivityScheduled,
			ActivityScheduledEventDetails: &events.ActivityScheduledEventDetails{Resource: st.Resource,
				Input: &text, InputDetails: events.NotTruncated(), TimeoutInSeconds: tPtr, HeartbeatInSeconds: hPtr}}, nil)
		d.effects = append(d.effects, ScheduleActivity{ActivityArn: st.Resource, Input: text,
			ScheduledEventID: ev.ID, TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat})
	case "lambda":
		ev = d.emit(f, events.HistoryEvent{Type: events.LambdaFunctionScheduled,
			LambdaFunctionScheduledEventDetails: &events.LambdaFunctionScheduledDetails{Resource: st.Resource,
				Input: &text, InputDetails: events.NotTruncated(), TimeoutInSeconds: tPtr, TaskCredentials: creds}}, nil)
		d.effects = append(d.effects, InvokeTask{Resource: st.Resource, ResourceType: "lambda", ResourceName: "invoke",
			Parameters: text, ScheduledEventID: ev.ID, TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat})
	default:
		credJSON := ""
		if st.Credentials.Set {
			credJSON = marshalJSON(st.Credentials.Value)
		}
		ev = d.emit(f, events.HistoryEvent{Type: events.TaskScheduled,
			TaskScheduledEventDetails: &events.TaskScheduledEventDetails{ResourceType: typ, Resource: name,
				Region: d.region(), Parameters: text, TimeoutInSeconds: tPtr, HeartbeatInSeconds: hPtr,
				TaskCredentials: creds}}, nil)
		d.effects = append(d.effects, InvokeTask{Resource: st.Resource, ResourceType: typ, ResourceName: name,
			Parameters: text, ScheduledEventID: ev.ID, TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat,
			Credentials: credJSON})
	}
	if timeout > 0 {
		d.schedule(f, timerTimeout, d.t.Time.Add(time.Duration(timeout)*time.Second))
	}
}

func (d *decider) taskStarted(f *frame) {
	kind, typ, name := taskKind(d.state(f).Resource)
	startedAt := d.t.Time
	switch kind {
	case "activity":
		if d.t.StartedAt != nil { // held by the engine until its result came
			startedAt = *d.t.StartedAt
			d.at = &startedAt
		}
		d.emit(f, events.HistoryEvent{Type: events.ActivityStarted,
			ActivityStartedEventDetails: &events.ActivityStartedEventDetails{WorkerName: d.t.WorkerName}}, nil)
		d.at = nil
	case "lambda":
		d.emit(f, events.HistoryEvent{Type: events.LambdaFunctionStarted}, nil)
	default:
		d.emit(f, events.HistoryEvent{Type: events.TaskStarted,
			TaskStartedEventDetails: &events.TaskResourceDetails{ResourceType: typ, Resource: name}}, nil)
	}
	st := d.state(f)
	hb, _ := d.taskSeconds(f, st.HeartbeatSeconds, "", "", nil)
	if f.Task != nil && f.Task.Heartbeat > 0 {
		hb = f.Task.Heartbeat // resolved at scheduling, HeartbeatSecondsPath included
	}
	if hb > 0 {
		d.schedule(f, timerHeartbeat, startedAt.Add(time.Duration(hb)*time.Second))
	}
}

// HoldableStart tells whether the ActivityStarted of the task scheduled by event
// scheduled may wait (in the engine, in memory) for the task's result, to be recorded
// in the same decision: a pending activity task without a heartbeat (whose timer
// starts with ActivityStarted).
func (x *Execution) HoldableStart(scheduled int64) bool {
	key, ok := x.tasks[scheduled]
	if !ok {
		return false
	}
	f := x.frames[key]
	if f == nil || f.Task == nil || f.Task.Scheduled != scheduled || f.Task.Started || !f.Task.Activity || f.Task.Heartbeat > 0 {
		return false
	}
	st := f.Machine.States[f.State]
	return st != nil && st.HeartbeatSeconds == nil && st.HeartbeatSecondsPath == "" && !st.HeartbeatExpr.Set
}

func (d *decider) taskSucceeded(f *frame) {
	out := d.t.Output
	if strings.TrimSpace(out) == "" {
		out = "null"
	}
	kind, typ, name := taskKind(d.state(f).Resource)
	switch kind {
	case "activity":
		d.emit(f, events.HistoryEvent{Type: events.ActivitySucceeded,
			ActivitySucceededEventDetails: &events.OutputDetails{Output: &out, OutputDetails: events.NotTruncated()}}, nil)
	case "lambda":
		d.emit(f, events.HistoryEvent{Type: events.LambdaFunctionSucceeded,
			LambdaFunctionSucceededEventDetails: &events.OutputDetails{Output: &out, OutputDetails: events.NotTruncated()}}, nil)
	default:
		d.emit(f, events.HistoryEvent{Type: events.TaskSucceeded,
			TaskSucceededEventDetails: &events.TaskOutputDetails{ResourceType: typ, Resource: name,
				Output: &out, OutputDetails: events.NotTruncated()}}, nil)
	}
}

func (d *decider) taskFailed(f *frame, name, cause string) { d.taskEnded(f, name, cause, false) }

func (d *decider) taskTimedOut(f *frame, name string) { d.taskEnded(f, name, d.t.Cause, true) }

// taskEnded records a task's failure or time-out in the event of its kind (activity,
// Lambda function or service task) and fails the state with it.
func (d *decider) taskEnded(f *frame, name, cause string, timedOut bool) {
	st := d.state(f)
	kind, typ, res := taskKind(st.Resource)
	ev := events.HistoryEvent{}
	plain := &events.ErrorDetails{Error: name, Cause: cause}
	switch {
	case kind == "activity" && timedOut:
		ev.Type, ev.ActivityTimedOutEventDetails = events.ActivityTimedOut, plain
	case kind == "activity":
		ev.Type, ev.ActivityFailedEventDetails = events.ActivityFailed, plain
	case kind == "lambda" && timedOut:
		ev.Type, ev.LambdaFunctionTimedOutEventDetails = events.LambdaFunctionTimedOut, plain
	case kind == "lambda":
		ev.Type, ev.LambdaFunctionFailedEventDetails = events.LambdaFunctionFailed, plain
	case timedOut:
		ev.Type = events.TaskTimedOut
		ev.TaskTimedOutEventDetails = &events.TaskErrorDetails{ResourceType: typ, Resource: res, Error: name, Cause: cause}
	default:
		ev.Type = events.TaskFailed
		ev.TaskFailedEventDetails = &events.TaskErrorDetails{ResourceType: typ, Resource: res, Error: name, Cause: cause}
	}
	d.emit(f, ev, nil)
	d.fail(f, st, stateError{name, cause})
}

func (d *decider) finishTask(f *frame) {
	st := d.state(f)
	result := rawPayload(*f.Task.Result)
	if v, err := parseJSON(result.Text()); err != nil {
		result = valPayload(result.Text())
	} else {
		result.val, result.hasVal, result.canon = v, true, true
	}
	d.finishResult(f, st, result)
}

// finishResult runs ResultSelector, Assign, ResultPath and OutputPath on a Task, Map or
// Parallel result and exits the state.
func (d *decider) finishResult(f *frame, st *State, result *payload) {
	if st.isJSONata() {
		d.jsonataResult(f, st, result)
		return
	}
	if st.ResultSelector.Set {
		v, err := expr.EvalTemplate(st.ResultSelector.Value, d.env(f, result.Value()))
		if err != nil {
			d.failErr(f, st, err)
			return
		}
		result = valPayload(v)
	}
	d.assignAndExit(f, st, result)
}

// ---- Parallel ----

func (d *decider) runParallel(f *frame, st *State) {
	in, err := d.effectiveInput(f, st, true)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	d.emit(f, events.HistoryEvent{Type: events.ParallelStateStarted}, map[string]any{kInput: in.Text()})
}

func (d *decider) finishParallel(f *frame) {
	st := d.state(f)
	parts := make([]string, f.Par.N)
	for i := range parts {
		parts[i] = f.Results[i]
	}
	result := rawPayload("[" + strings.Join(parts, ",") + "]")
	d.emit(f, events.HistoryEvent{Type: events.ParallelStateSucceeded}, nil)
	d.finishResult(f, st, result)
}

// ---- Map ----

// mapInt resolves MaxConcurrency / ToleratedFailureCount (static or ...Path).
func (d *decider) mapNumber(f *frame, static *json.Number, path, field string, in *payload, integer bool) (float64, bool, string, error) {
	if path == "" {
		if static == nil {
			return 0, false, "", nil
		}
		v, err := static.Float64()
		return v, err == nil, "", nil
	}
	v, err := expr.EvalPathField(path, field, d.env(f, in.Value()))
	if err != nil {
		return 0, false, "", err
	}
	n, ok := v.(json.Number)
	if s, isStr := v.(string); isStr {
		n, ok = json.Number(strings.TrimSpace(s)), true
	}
	kind := "float"
	if integer {
		kind = "integer"
	}
	bad := fmt.Sprintf("The %s field refers to value \"%s\" which is not a valid %s: %s", field, stringify(v), kind, path)
	if !ok {
		return 0, false, bad, nil
	}
	if integer {
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return 0, false, bad, nil
		}
		return float64(i), true, "", nil
	}
	x, err := n.Float64()
	if err != nil {
		return 0, false, bad, nil
	}
	return x, true, "", nil
}

func (d *decider) runMap(f *frame, st *State) {
	in, err := d.effectiveInput(f, st, false)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	mc, _, bad, err := d.mapNumber(f, st.MaxConcurrency, st.MaxConcurrencyPath, "MaxConcurrencyPath", in, true)
	if err != nil {
		d.failErr(f, st, err)
		return
	}
	if bad != "" {
		d.runtimeFail(f, st, bad)
		return
	}
	if mc < 0 {
		d.runtimeFail(f, st, "MaxConcurrency value must be a non-negative integer")
		return
	}
	items := in
	if st.ProcessorMode == "DISTRIBUTED" && st.ItemReader.Set {
		v, ok := d.readItems(f, st, in) // distmap.go
		if !ok {
			return
		}
		items = valPayload(v)
	} else if st.ItemsPath.Set && !st.ItemsPath.Null && st.ItemsPath.Path != "$" {
		p := st.ItemsPath.Path
		v, err := expr.ApplyPath(&p, d.env(f, in.Value()))
		if err != nil {
			d.failErr(f, st, err)
			return
		}
		items = valPayload(v)
	}
	arr, ok := asArray(items.Value())
	if !ok {
		d.runtimeFail(f, st, "Items of the Map state must be a JSON array but were: "+items.Text())
		return
	}
	data := map[string]any{kItems: items.Text(), kMaxConc: int(mc), kInput: in.Text()}
	tc, tcOK, badC, errC := d.mapNumber(f, st.ToleratedFailureCount, st.ToleratedFailureCountPath, "ToleratedFailureCountPath", in, true)
	tp, tpOK, badP, errP := d.mapNumber(f, st.ToleratedFailurePercentage, st.ToleratedFailurePercentagePath, "ToleratedFailurePercentagePath", in, false)
	if tcOK {
		data[kTolCnt] = int(tc)
	}
	if tpOK {
		data[kTolPct] = tp
	}
	d.emit(f, events.HistoryEvent{Type: events.MapStateStarted,
		MapStateStartedEventDetails: &events.MapStateStartedEventDetails{Length: len(arr)}}, data)
	switch {
	case errC != nil:
		d.failErr(f, st, errC)
		return
	case badC != "":
		d.runtimeFail(f, st, badC)
		return
	case errP != nil:
		d.failErr(f, st, errP)
		return
	case badP != "":
		d.runtimeFail(f, st, badP)
		return
	case tpOK && (tp < 0 || tp > 100):
		d.runtimeFail(f, st, "ToleratedFailurePercentage must be between 0 and 100.")
		return
	case tcOK && tc < 0:
		d.runtimeFail(f, st, "ToleratedFailureCount cannot be negative.")
		return
	}
	if st.ProcessorMode == "DISTRIBUTED" {
		d.startMapRun(f, st, in) // distmap.go
	}
}

// itemInput computes the input of Map iteration idx: ItemSelector (or legacy Parameters)
// with $$.Map.Item, or the item itself.
func (d *decider) itemInput(f *frame, st *State, idx int) (string, error) {
	m := f.Map
	item := m.Items[idx]
	if st.isJSONata() {
		return d.jsonataItemInput(f, st, idx, item)
	}
	tmpl := st.ItemSelector
	if !tmpl.Set {
		tmpl = st.Parameters
	}
	if !tmpl.Set {
		return item, nil
	}
	iv, err := parseJSON(item)
	if err != nil {
		return "", err
	}
	mi := expr.NewObject(2)
	mi.Set("Index", json.Number(strconv.Itoa(idx)))
	mi.Set("Value", iv)
	in := d.mapInput.payload(m.Input).Value()
	env := expr.Env{Input: in, Lazy: &lazyEnv{d: d, f: f, mapItem: mi}, Rand: &d.rng}
	v, err := expr.EvalTemplate(tmpl.Value, env)
	if err != nil {
		return "", err
	}
	return marshalJSON(v), nil
}

// pickWorker chooses the worker of the next iteration: a fresh one first, then any free.
func pickWorker(m *mapRun) int {
	for i := range m.Workers {
		w := &m.Workers[i]
		if !w.Busy && !w.Used {
			return i
		}
	}
	for i := range m.Workers {
		w := &m.Workers[i]
		if !w.Busy && !w.Closed {
			return i
		}
	}
	for i := range m.Workers {
		if !m.Workers[i].Busy {
			return i
		}
	}
	return -1
}

func (d *decider) stepMap(f *frame) bool {
	m := f.Map
	st := d.state(f)
	if m.Distributed {
		return false
	}
	for _, k := range sortedChildKeys(f.Children) {
		c := d.x.frames[k]
		if c != nil && c.Phase == phDone {
			d.emit(c, events.HistoryEvent{Type: events.MapIterationSucceeded,
				MapIterationSucceededEventDetails: &events.MapIterationEventDetails{Name: f.State, Index: c.Index}}, nil)
			return true
		}
	}
	if len(m.Redo) > 0 || m.Next < len(m.Items) {
		w := pickWorker(m)
		if w < 0 {
			return false
		}
		idx := m.Next
		if len(m.Redo) > 0 {
			idx = m.Redo[0] // a redrive: failed and aborted iterations first (redrive.go)
		}
		in, err := d.itemInput(f, st, idx)
		if err != nil {
			d.failErr(f, st, err)
			return true
		}
		key := childKey(f.Key, m.Started, idx)
		d.emitPrev(&frame{Key: key}, events.HistoryEvent{Type: events.MapIterationStarted,
			MapIterationStartedEventDetails: &events.MapIterationEventDetails{Name: f.State, Index: idx}},
			map[string]any{kInput: in}, m.Workers[w].Src)
		return true
	}
	if m.Running == 0 {
		d.finishMap(f, st)
		return true
	}
	return false
}

// mapToleratesFailure says whether the failures so far stay within the tolerance.
func (d *decider) mapToleratesFailure(m *mapRun) bool {
	if m.TolCount < 0 && !m.TolPctSet {
		return false
	}
	if m.TolCount >= 0 && m.Failed > m.TolCount {
		if !m.TolPctSet {
			return false
		}
	}
	if m.TolPctSet && len(m.Items) > 0 {
		if float64(m.Failed)*100/float64(len(m.Items)) > m.TolPct {
			if m.TolCount < 0 || m.Failed > m.TolCount {
				return false
			}
		}
	}
	return true
}

func (d *decider) finishMap(f *frame, st *State) {
	m := f.Map
	parts := make([]string, 0, len(m.Items))
	for i := range m.Items {
		if r, ok := f.Results[i]; ok {
			parts = append(parts, r)
		} else {
			parts = append(parts, "null")
		}
	}
	result := rawPayload("[" + strings.Join(parts, ",") + "]")
	d.emit(f, events.HistoryEvent{Type: events.MapStateSucceeded}, nil)
	d.finishResult(f, st, result)
}

// uuid draws a version 4 UUID from the recorded randomness.
func (d *decider) uuid() string {
	a, b := d.rng.Uint64(), d.rng.Uint64()
	a = (a &^ (0xf << 12)) | (4 << 12)
	b = (b &^ (0x3 << 62)) | (0x2 << 62)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// TaskResource is a Task state's resource, as the engine dispatches it.
type TaskResource struct {
	State    string // the state's name
	Resource string // the Resource field
	// Type is what serves it: "activity", "lambda" (a function ARN), or the
	// integration's resource type ("dynamodb", "aws-sdk:s3", "states", ...).
	Type string
}

// TaskResources lists the Task states of a machine, its Parallel branches and Map
// processors included, in definition order.
func TaskResources(sm *StateMachine) []TaskResource {
	var out []TaskResource
	var walk func(m *StateMachine)
	walk = func(m *StateMachine) {
		for _, name := range m.Names {
			st := m.States[name]
			if st.Type == "Task" && st.Resource != "" {
				kind, typ, _ := taskKind(st.Resource)
				if kind != "task" {
					typ = kind
				}
				out = append(out, TaskResource{State: name, Resource: st.Resource, Type: typ})
			}
			for _, b := range st.Branches {
				walk(b)
			}
			if st.Processor != nil {
				walk(st.Processor)
			}
		}
	}
	walk(sm)
	return out
}
