package asl

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/sfnd/sfnd/actors/asl/expr"
	"github.com/sfnd/sfnd/events"
)

// This file runs states whose query language is JSONata: Arguments and Output instead
// of the JSONPath fields, "{% ... %}" expressions anywhere a value is allowed, and the
// $states object (input, context, result, errorOutput).

// jsonataIn is what a JSONata expression of f's current state can see besides the
// variables: the state input and, where the field allows it, the result or error output.
type jsonataIn struct {
	input       any
	result      any
	hasResult   bool
	errorOutput any
	hasError    bool
	mapItem     *expr.Object
	taskToken   string // $states.context.Task.Token of a task about to be scheduled
}

// jenv builds the JSONata environment of f's current state.
func (d *decider) jenv(f *frame, in jsonataIn) expr.JSONataEnv {
	s := expr.NewObject(4)
	s.Set("input", in.input)
	c := d.context(f, in.mapItem)
	if o, ok := c.(*expr.Object); ok && in.taskToken != "" {
		t := expr.NewObject(1)
		t.Set("Token", in.taskToken)
		o.Set("Task", t)
	}
	s.Set("context", c)
	if in.hasResult {
		s.Set("result", in.result)
	}
	if in.hasError {
		s.Set("errorOutput", in.errorOutput)
	}
	return expr.JSONataEnv{States: s, Vars: d.vars(f), Rand: &d.rng, Now: d.t.Time}
}

// evalJSONata evaluates a JSONata field (a template with "{% %}" strings anywhere).
func (d *decider) evalJSONata(f *frame, t Template, field string, in jsonataIn) (any, error) {
	return expr.EvalJSONataTemplate(t.Value, field, d.jenv(f, in))
}

// queryError is a States.QueryEvaluationError of f's current state at location.
func queryError(location, format string, a ...any) error {
	msg := format
	if len(a) > 0 {
		msg = fmt.Sprintf(format, a...)
	}
	return &expr.Error{Name: expr.ErrNameQueryEvaluation, Cause: msg, Location: location}
}

// jsonataFail fails f's current state with an error of a JSONata state: a
// States.QueryEvaluationError is recorded in an EvaluationFailed event first, as AWS
// does; then retry, catch or failure of the frame.
func (d *decider) jsonataFail(f *frame, st *State, err error) {
	e := expr.AsError(err)
	if e == nil || e.Name != expr.ErrNameQueryEvaluation {
		d.failErr(f, st, err)
		return
	}
	cause := d.runtimeCause(f, e.Cause)
	d.emit(f, events.HistoryEvent{Type: events.EvaluationFailed,
		EvaluationFailedEventDetails: &events.EvaluationFailedEventDetails{
			Error: e.Name, Cause: cause, Location: e.Location, State: st.Name}}, nil)
	d.fail(f, st, stateError{e.Name, cause})
}

// jsonataOutput evaluates Assign and Output of a JSONata state (both see the variables
// as they were before the state) and exits to next. def is the output when the state
// has no Output field.
func (d *decider) jsonataExit(f *frame, st *State, assign, output Template, in jsonataIn, def *payload, next string) {
	var assigned map[string]string
	if assign.Set {
		var err error
		assigned, err = d.jsonataAssign(f, assign, in)
		if err != nil {
			d.jsonataFail(f, st, err)
			return
		}
	}
	out := def
	if output.Set {
		v, err := d.evalJSONata(f, output, "Output", in)
		if err != nil {
			d.jsonataFail(f, st, err)
			return
		}
		out = valPayload(v)
	}
	d.exit(f, st, out, next, assigned)
}

// jsonataAssign evaluates a JSONata Assign block.
func (d *decider) jsonataAssign(f *frame, assign Template, in jsonataIn) (map[string]string, error) {
	v, err := d.evalJSONata(f, assign, "Assign", in)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(*expr.Object)
	if !ok {
		return nil, nil
	}
	out := make(map[string]string, obj.Len())
	for k, val := range obj.All() {
		out[k] = marshalJSON(val)
	}
	if err := checkAssignSize(out); err != nil {
		return nil, err
	}
	return out, nil
}

// Variable size quotas of AWS: 256 KiB for one variable, 256 KiB for one Assign.
const maxVariable = 256 * 1024

func checkAssignSize(vars map[string]string) error {
	total := 0
	for k, v := range vars {
		if len(v) > maxVariable {
			return &expr.Error{Name: "States.Runtime", Cause: "The assigned variable '" + k + "' exceeds the maximum size of 262144 bytes."}
		}
		total += len(v)
	}
	if total > maxVariable {
		return &expr.Error{Name: "States.Runtime", Cause: "The assigned variables exceed the maximum total size of 262144 bytes."}
	}
	return nil
}

func (d *decider) inputOf(f *frame) (*payload, jsonataIn) {
	raw := rawPayload(f.Input)
	return raw, jsonataIn{input: raw.Value()}
}

// ---- simple states ----

func (d *decider) jsonataPass(f *frame, st *State) {
	raw, in := d.inputOf(f)
	d.jsonataExit(f, st, st.Assign, st.Output, in, raw, nextOf(st))
}

func (d *decider) jsonataSucceed(f *frame, st *State) {
	raw, in := d.inputOf(f)
	d.jsonataExit(f, st, Template{}, st.Output, in, raw, "")
}

func (d *decider) jsonataFailState(f *frame, st *State) {
	_, in := d.inputOf(f)
	e := stateError{}
	for _, x := range []struct {
		t     Template
		field string
		out   *string
	}{{st.Error, "Error", &e.name}, {st.Cause, "Cause", &e.cause}} {
		if !x.t.Set {
			continue
		}
		v, err := d.evalJSONata(f, x.t, x.field, in)
		if err != nil {
			d.jsonataFail(f, st, err)
			return
		}
		s, ok := v.(string)
		if !ok {
			d.jsonataFail(f, st, queryError(x.field, "The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected 'string', but was '%s' for value: %s",
				expr.JSONataBody(str(x.t.Value)), x.field, expr.TypeName(v), marshalJSON(v)))
			return
		}
		*x.out = s
	}
	d.frameFailed(f, e.name, e.cause)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func (d *decider) jsonataChoice(f *frame, st *State) {
	raw, in := d.inputOf(f)
	var rule *Rule
	for _, r := range st.Choices {
		if !r.Condition.Set {
			continue
		}
		v, err := d.evalJSONata(f, r.Condition, "Condition", in)
		if err != nil {
			d.jsonataFail(f, st, err)
			return
		}
		b, ok := v.(bool)
		if !ok {
			d.jsonataFail(f, st, queryError("Condition", "The JSONata expression '%s' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '%s' for value: %s",
				expr.JSONataBody(str(r.Condition.Value)), expr.TypeName(v), marshalJSON(v)))
			return
		}
		if b {
			rule = r
			break
		}
	}
	if rule == nil {
		if st.Default == "" {
			d.frameFailed(f, "States.NoChoiceMatched", "No Matches!")
			return
		}
		d.jsonataExit(f, st, st.Assign, st.Output, in, raw, st.Default)
		return
	}
	assign, output := rule.Assign, rule.Output
	if !assign.Set {
		assign = st.Assign
	}
	if !output.Set {
		output = st.Output
	}
	d.jsonataExit(f, st, assign, output, in, raw, rule.Next)
}

// ---- Wait ----

func (d *decider) jsonataWait(f *frame, st *State) {
	_, in := d.inputOf(f)
	now := d.t.Time
	due := now
	switch {
	case st.Seconds != nil:
		n, err := strconv.ParseFloat(st.Seconds.String(), 64)
		if err == nil {
			due = now.Add(time.Duration(n * float64(time.Second)))
		}
	case st.SecondsExpr.Set:
		v, err := d.evalJSONata(f, st.SecondsExpr, "Seconds", in)
		if err != nil {
			d.jsonataFail(f, st, err)
			return
		}
		n, ok := v.(json.Number)
		i, perr := strconv.ParseInt(string(n), 10, 64)
		if !ok || perr != nil || i < 0 {
			d.jsonataFail(f, st, queryError("Seconds", "The JSONata expression '%s' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was '%s' for value: %s",
				expr.JSONataBody(str(st.SecondsExpr.Value)), expr.TypeName(v), marshalJSON(v)))
			return
		}
		due = now.Add(time.Duration(i) * time.Second)
	case st.Timestamp != "":
		s := st.Timestamp
		if expr.IsJSONata(s) {
			v, err := expr.EvalJSONata(s, "Timestamp", d.jenv(f, in))
			if err != nil {
				d.jsonataFail(f, st, err)
				return
			}
			s, _ = v.(string)
			if _, isStr := v.(string); !isStr {
				s = marshalJSON(v)
			}
		}
		ts, ok := parseTimestamp(s)
		if !ok {
			d.jsonataFail(f, st, queryError("Timestamp", "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: %s", s))
			return
		}
		due = ts
	}
	if !due.After(now) {
		d.finishWait(f)
		return
	}
	d.schedule(f, timerWait, due)
}

// ---- Task ----

// jsonataSeconds resolves TimeoutSeconds / HeartbeatSeconds of a JSONata Task.
func (d *decider) jsonataSeconds(f *frame, static *int64, t Template, field string, in jsonataIn) (int64, error) {
	if static != nil {
		return *static, nil
	}
	if !t.Set {
		return 0, nil
	}
	v, err := d.evalJSONata(f, t, field, in)
	if err != nil {
		return 0, err
	}
	n, ok := v.(json.Number)
	i, perr := strconv.ParseInt(string(n), 10, 64)
	if !ok || perr != nil || i <= 0 {
		return 0, queryError(field, "The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected 'integer', but was '%s' for value: %s",
			expr.JSONataBody(str(t.Value)), field, expr.TypeName(v), marshalJSON(v))
	}
	return i, nil
}

// jsonataArguments evaluates Arguments (the state input when absent).
func (d *decider) jsonataArguments(f *frame, st *State, in jsonataIn, raw *payload) (*payload, error) {
	if !st.Arguments.Set {
		return raw, nil
	}
	v, err := d.evalJSONata(f, st.Arguments, "Arguments", in)
	if err != nil {
		return nil, err
	}
	return valPayload(v), nil
}

// ---- results of Task, Parallel, Map ----

// jsonataResult runs Assign and Output with $states.result and exits the state.
func (d *decider) jsonataResult(f *frame, st *State, result *payload) {
	_, in := d.inputOf(f)
	in.result, in.hasResult = result.Value(), true
	d.jsonataExit(f, st, st.Assign, st.Output, in, result, nextOf(st))
}

// jsonataCaught continues at a catcher's Next: Output and Assign of the catcher see
// $states.errorOutput; the output is the error output when the catcher has no Output.
func (d *decider) jsonataCaught(f *frame, st *State, c *Catcher, errOut *expr.Object) {
	_, in := d.inputOf(f)
	in.errorOutput, in.hasError = errOut, true
	d.jsonataExit(f, st, c.Assign, c.Output, in, valPayload(errOut), c.Next)
}

// ---- Map ----

// jsonataItems evaluates the items of a JSONata Map state: Items, or the state input.
func (d *decider) jsonataItems(f *frame, st *State, in jsonataIn, raw *payload) ([]any, *payload, error) {
	if !st.Items.Set {
		arr, ok := asArray(raw.Value())
		if !ok {
			return nil, nil, queryError("", "Map state input must be an array but was: %s", raw.Text())
		}
		return arr, raw, nil
	}
	v, err := d.evalJSONata(f, st.Items, "Items", in)
	if err != nil {
		return nil, nil, err
	}
	arr, ok := asArray(v)
	if !ok {
		return nil, nil, queryError("Items", "The JSONata expression '%s' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '%s' for value: %s",
			expr.JSONataBody(str(st.Items.Value)), expr.TypeName(v), marshalJSON(v))
	}
	return arr, valPayload(arr), nil
}

// jsonataMapNumber evaluates MaxConcurrency / ToleratedFailureCount /
// ToleratedFailurePercentage given as a number or an expression.
func (d *decider) jsonataMapNumber(f *frame, static *json.Number, t Template, field string, in jsonataIn, integer bool) (float64, bool, error) {
	if static != nil {
		v, err := static.Float64()
		return v, err == nil, nil
	}
	if !t.Set {
		return 0, false, nil
	}
	v, err := d.evalJSONata(f, t, field, in)
	if err != nil {
		return 0, false, err
	}
	n, ok := v.(json.Number)
	x, perr := n.Float64()
	if !ok || perr != nil || (integer && x != math.Trunc(x)) {
		kind := "number"
		if integer {
			kind = "integer"
		}
		return 0, false, queryError(field, "The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected '%s', but was '%s' for value: %s",
			expr.JSONataBody(str(t.Value)), field, kind, expr.TypeName(v), marshalJSON(v))
	}
	return x, true, nil
}

func (d *decider) jsonataMap(f *frame, st *State) {
	raw, in := d.inputOf(f)
	var arr []any
	var err error
	if st.ProcessorMode == "DISTRIBUTED" && st.ItemReader.Set {
		v, ok := d.readItems(f, st, raw) // distmap.go
		if !ok {
			return
		}
		if arr, ok = asArray(v); !ok {
			d.runtimeFail(f, st, "The item reader did not answer a JSON array")
			return
		}
	} else if arr, _, err = d.jsonataItems(f, st, in, raw); err != nil {
		d.jsonataFail(f, st, err)
		return
	}
	mc, _, err := d.jsonataMapNumber(f, st.MaxConcurrency, st.MaxConcurrencyExpr, "MaxConcurrency", in, true)
	if err != nil {
		d.jsonataFail(f, st, err)
		return
	}
	if mc < 0 {
		d.runtimeFail(f, st, "MaxConcurrency value must be a non-negative integer")
		return
	}
	tc, tcOK, errC := d.jsonataMapNumber(f, st.ToleratedFailureCount, st.ToleratedFailureCountExpr, "ToleratedFailureCount", in, true)
	tp, tpOK, errP := d.jsonataMapNumber(f, st.ToleratedFailurePercentage, st.ToleratedFailurePercentageExpr, "ToleratedFailurePercentage", in, false)
	data := map[string]any{kItems: marshalJSON(arr), kMaxConc: int(mc), kInput: raw.Text()}
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
		d.jsonataFail(f, st, errC)
		return
	case errP != nil:
		d.jsonataFail(f, st, errP)
		return
	case tpOK && (tp < 0 || tp > 100):
		d.runtimeFail(f, st, "ToleratedFailurePercentage must be between 0 and 100.")
		return
	case tcOK && tc < 0:
		d.runtimeFail(f, st, "ToleratedFailureCount cannot be negative.")
		return
	}
	if st.ProcessorMode == "DISTRIBUTED" {
		d.startMapRun(f, st, raw) // distmap.go
	}
}

// jsonataItemInput is the input of Map iteration idx of a JSONata Map: ItemSelector
// with $states.context.Map.Item, or the item itself.
func (d *decider) jsonataItemInput(f *frame, st *State, idx int, item string) (string, error) {
	if !st.ItemSelector.Set {
		return item, nil
	}
	iv, err := parseJSON(item)
	if err != nil {
		return "", err
	}
	mi := expr.NewObject(2)
	mi.Set("Index", json.Number(strconv.Itoa(idx)))
	mi.Set("Value", iv)
	in, err := parseJSON(f.Map.Input)
	if err != nil {
		in = nil
	}
	v, err := d.evalJSONata(f, st.ItemSelector, "ItemSelector", jsonataIn{input: in, mapItem: mi})
	if err != nil {
		return "", err
	}
	return marshalJSON(v), nil
}

// ---- Parallel ----

func (d *decider) jsonataParallel(f *frame, st *State) {
	raw, in := d.inputOf(f)
	args, err := d.jsonataArguments(f, st, in, raw)
	if err != nil {
		d.jsonataFail(f, st, err)
		return
	}
	d.emit(f, events.HistoryEvent{Type: events.ParallelStateStarted}, map[string]any{kInput: args.Text()})
}
