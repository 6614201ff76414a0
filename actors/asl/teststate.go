package asl

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sfnd/sfnd/actors/asl/expr"
	"github.com/sfnd/sfnd/actors/asl/validate"
	"github.com/sfnd/sfnd/events/fault"
)

// Inspection levels of TestState.
const (
	InspectionInfo  = "INFO"
	InspectionDebug = "DEBUG"
	InspectionTrace = "TRACE"
)

// TestState statuses.
const (
	TestStatusSucceeded   = "SUCCEEDED"
	TestStatusFailed      = "FAILED"
	TestStatusRetriable   = "RETRIABLE"
	TestStatusCaughtError = "CAUGHT_ERROR"
)

// TestStateMock is the mock parameter of TestState: the result (JSON text) or the error
// a Task, Map or Parallel state returns instead of doing its work.
type TestStateMock struct {
	Result              *string             `json:"result,omitempty"`
	ErrorOutput         *TestStateMockError `json:"errorOutput,omitempty"`
	FieldValidationMode string              `json:"fieldValidationMode,omitempty"`
}

// TestStateMockError is a mocked error output.
type TestStateMockError struct {
	Error string `json:"error"`
	Cause string `json:"cause"`
}

// TestStateOptions are the parameters of TestState besides the definition and input.
type TestStateOptions struct {
	// StateName selects the state to test when the definition is a whole state machine.
	StateName       string
	InspectionLevel string // INFO (default), DEBUG or TRACE
	RevealSecrets   bool
	// Variables is a JSON object of the variables in scope ("" for none).
	Variables string
	// Context is the Context object as JSON text ("" for the default one).
	Context string
	Mock    *TestStateMock
	RoleArn string
	// Region and Account name the default context's ARNs.
	Region  string
	Account string
	// Time is the clock; Seed the randomness ($random, States.UUID, names).
	Time time.Time
	Seed uint64
}

// InspectionData is the inspectionData of a TestState response: every payload as JSON
// text.
type InspectionData struct {
	Input                      *string  `json:"input,omitempty"`
	AfterArguments             *string  `json:"afterArguments,omitempty"`
	AfterInputPath             *string  `json:"afterInputPath,omitempty"`
	AfterParameters            *string  `json:"afterParameters,omitempty"`
	AfterItemsPath             *string  `json:"afterItemsPath,omitempty"`
	AfterItemSelector          *string  `json:"afterItemSelector,omitempty"`
	MaxConcurrency             *int64   `json:"maxConcurrency,omitempty"`
	ToleratedFailureCount      *int64   `json:"toleratedFailureCount,omitempty"`
	ToleratedFailurePercentage *float64 `json:"toleratedFailurePercentage,omitempty"`
	Result                     *string  `json:"result,omitempty"`
	AfterResultSelector        *string  `json:"afterResultSelector,omitempty"`
	AfterResultPath            *string  `json:"afterResultPath,omitempty"`
	Variables                  *string  `json:"variables,omitempty"`
}

// TestStateResult is the response of TestState.
type TestStateResult struct {
	Output         *string         `json:"output,omitempty"`
	Error          string          `json:"error,omitempty"`
	Cause          string          `json:"cause,omitempty"`
	InspectionData *InspectionData `json:"inspectionData,omitempty"`
	NextState      string          `json:"nextState,omitempty"`
	Status         string          `json:"status"`
}

// testStateName is the name a single-state definition gets in its wrapping machine.
const testStateName = "StateName"

// TestState evaluates one state as the AWS TestState API does. definition is either one
// state (an object with "Type") or a whole state machine with opts.StateName naming the
// state. Invalid definitions and parameters are fault errors (InvalidDefinition,
// ValidationException) with AWS's messages; a state that fails is a result with status
// FAILED (or RETRIABLE / CAUGHT_ERROR when a Retrier / Catcher matches).
func TestState(definition, input string, opts TestStateOptions) (*TestStateResult, error) {
	machineDef, name, err := testStateMachine(definition, opts.StateName)
	if err != nil {
		return nil, err
	}
	if diags := validate.Validate(machineDef); validate.HasErrors(diags) {
		return nil, fault.New(fault.InvalidDefinition, "%s", validate.InvalidDefinitionMessage(diags))
	}
	sm, err := Parse(machineDef)
	if err != nil {
		return nil, fault.New(fault.InvalidDefinition, "Invalid State Machine Definition: '%s'", err.Error())
	}
	owner, st := findState(sm, name)
	if st == nil {
		return nil, fault.New(fault.ValidationException, "State not found in definition")
	}
	if err := checkMock(st, opts.Mock); err != nil {
		return nil, err
	}
	if strings.TrimSpace(input) == "" {
		input = "{}"
	}
	if _, err := parseJSON(input); err != nil {
		return nil, fault.New(fault.ValidationException, "Invalid input: the input is not valid JSON")
	}
	r := &tsRun{st: st, opts: opts, res: &TestStateResult{}}
	if err := r.setup(owner, name, input); err != nil {
		return nil, err
	}
	r.run()
	return r.finish(), nil
}

// testStateMachine returns the machine definition to validate and run, and the name of
// the state under test.
func testStateMachine(definition, stateName string) (string, string, error) {
	v, err := expr.ParseJSON(definition)
	obj, ok := v.(*expr.Object)
	if err != nil || !ok {
		diags := validate.Validate(definition)
		if validate.HasErrors(diags) {
			return "", "", fault.New(fault.InvalidDefinition, "%s", validate.InvalidDefinitionMessage(diags))
		}
		return "", "", fault.New(fault.InvalidDefinition, "Invalid State Machine Definition: 'definition is not a JSON object'")
	}
	if _, isMachine := obj.Get("States"); isMachine {
		if stateName == "" {
			start, _ := obj.Get("StartAt")
			s, _ := start.(string)
			stateName = s
		}
		return definition, stateName, nil
	}
	// One state: wrap it in a machine, with a Succeed state for every transition
	// target so that its Next/Default/Catch references resolve.
	states := expr.NewObject(4)
	states.Set(testStateName, obj)
	for _, t := range transitionTargets(obj) {
		if t != testStateName {
			if _, dup := states.Get(t); !dup {
				states.Set(t, expr.ObjectOf("Type", "Succeed"))
			}
		}
	}
	m := expr.NewObject(2)
	m.Set("StartAt", testStateName)
	m.Set("States", states)
	return expr.Marshal(m), testStateName, nil
}

// transitionTargets lists the state names one state definition can go to.
func transitionTargets(st *expr.Object) []string {
	var out []string
	add := func(v any) {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	if n, ok := st.Get("Next"); ok {
		add(n)
	}
	if n, ok := st.Get("Default"); ok {
		add(n)
	}
	for _, k := range []string{"Choices", "Catch"} {
		if arr, ok := st.Get(k); ok {
			if a, ok := arr.([]any); ok {
				for _, e := range a {
					if o, ok := e.(*expr.Object); ok {
						if n, ok := o.Get("Next"); ok {
							add(n)
						}
					}
				}
			}
		}
	}
	return out
}

// findState finds a state by name in a machine or any machine nested in it (Parallel
// branches, Map processors), returning the machine that holds it.
func findState(sm *StateMachine, name string) (*StateMachine, *State) {
	if st := sm.States[name]; st != nil {
		return sm, st
	}
	for _, n := range sm.Names {
		st := sm.States[n]
		for _, b := range st.Branches {
			if m, found := findState(b, name); found != nil {
				return m, found
			}
		}
		if st.Processor != nil {
			if m, found := findState(st.Processor, name); found != nil {
				return m, found
			}
		}
	}
	return nil, nil
}

func checkMock(st *State, m *TestStateMock) error {
	if m != nil && (m.Result != nil || m.ErrorOutput != nil) {
		switch st.Type {
		case "Task", "Map", "Parallel":
		default:
			return fault.New(fault.ValidationException, "State type '%s' is not supported when a mock is specified", st.Type)
		}
		if m.Result != nil && m.ErrorOutput != nil {
			return fault.New(fault.ValidationException, "A mock can specify either a result or an errorOutput, not both")
		}
		if m.Result != nil {
			v, err := parseJSON(*m.Result)
			if err != nil {
				return fault.New(fault.ValidationException, "Mocked result must be valid JSON")
			}
			if st.Type == "Parallel" {
				if a, ok := v.([]any); !ok || len(a) != len(st.Branches) {
					return fault.New(fault.ValidationException, "Mocked result must contain the same number of items as number of Parallel branches.")
				}
			}
		}
		return nil
	}
	if st.Type == "Parallel" || st.Type == "Map" {
		return fault.New(fault.InvalidDefinition, "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]")
	}
	return nil
}

// tsRun is one TestState evaluation: a decider over a one-frame execution, so that
// expressions see the same context, variables and functions as in an execution.
type tsRun struct {
	st    *State
	opts  TestStateOptions
	d     *decider
	f     *frame
	data  InspectionData
	res   *TestStateResult
	input string
}

func (r *tsRun) setup(sm *StateMachine, name, input string) error {
	now := r.opts.Time
	if now.IsZero() {
		now = time.Unix(0, 0).UTC()
	}
	x := NewExecution(sm)
	x.status = StatusRunning
	f := &frame{Key: "", Machine: sm, State: name, Phase: phEntered, Input: input, Entered: 2, EnteredTime: now}
	if strings.TrimSpace(r.opts.Variables) != "" {
		v, err := parseJSON(r.opts.Variables)
		obj, ok := v.(*expr.Object)
		if err != nil || !ok {
			return fault.New(fault.ValidationException, "Invalid variables: the variables must be a JSON object")
		}
		f.Vars = map[string]string{}
		for k, val := range obj.All() {
			f.Vars[k] = marshalJSON(val)
		}
	}
	x.frames[""] = f
	d := &decider{sm: sm, x: x, t: Trigger{Time: now, Seed: r.opts.Seed}}
	d.rng.state = r.opts.Seed
	if strings.TrimSpace(r.opts.Context) != "" {
		v, err := parseJSON(r.opts.Context)
		obj, ok := v.(*expr.Object)
		if err != nil || !ok {
			return fault.New(fault.ValidationException, "Invalid context: the context must be a JSON object")
		}
		d.ctx = obj
	} else {
		d.ctx = r.defaultContext(input, name, now)
	}
	r.d, r.f, r.input = d, f, input
	return nil
}

// defaultContext is the Context object of a TestState call without one: an express
// execution of a machine with generated names.
func (r *tsRun) defaultContext(input, name string, now time.Time) *expr.Object {
	rnd := &splitmix{state: r.opts.Seed ^ 0x5deece66d}
	d := &decider{rng: *rnd}
	smName, exName := d.uuid(), d.uuid()
	region, account := r.opts.Region, r.opts.Account
	in, err := parseJSON(input)
	if err != nil {
		in = nil
	}
	exe := expr.NewObject(5)
	exe.Set("Id", "arn:aws:states:"+region+":"+account+":express:"+smName+":"+exName)
	exe.Set("Input", in)
	exe.Set("Name", exName)
	if r.opts.RoleArn != "" {
		exe.Set("RoleArn", r.opts.RoleArn)
	} else {
		exe.Set("RoleArn", nil)
	}
	exe.Set("StartTime", formatTime(now))
	c := expr.NewObject(3)
	c.Set("Execution", exe)
	smo := expr.NewObject(2)
	smo.Set("Id", "arn:aws:states:"+region+":"+account+":stateMachine:"+smName)
	smo.Set("Name", smName)
	c.Set("StateMachine", smo)
	s := expr.NewObject(2)
	s.Set("Name", name)
	s.Set("EnteredTime", formatTime(now))
	c.Set("State", s)
	return c
}

// pyJSON prints a value as TestState does in its payloads: Python's json.dumps layout
// (", " and ": " separators).
func pyJSON(v any) string {
	var b bytes.Buffer
	var w func(v any)
	w = func(v any) {
		switch t := v.(type) {
		case []any:
			b.WriteByte('[')
			for i, e := range t {
				if i > 0 {
					b.WriteString(", ")
				}
				w(e)
			}
			b.WriteByte(']')
		case *expr.Object:
			b.WriteByte('{')
			i := 0
			for k, e := range t.All() {
				if i > 0 {
					b.WriteString(", ")
				}
				i++
				b.WriteString(expr.Marshal(k))
				b.WriteString(": ")
				w(e)
			}
			b.WriteByte('}')
		default:
			b.WriteString(expr.Marshal(v))
		}
	}
	w(v)
	return b.String()
}

func (r *tsRun) text(p *payload) *string {
	s := pyJSON(p.Value())
	return &s
}

func (r *tsRun) fail(name, cause string) {
	r.res.Status = TestStatusFailed
	r.res.Error, r.res.Cause = name, cause
}

// failErr fails with an expression error (the cause without AWS's execution prefix).
func (r *tsRun) failErr(err error) {
	if e := expr.AsError(err); e != nil {
		r.fail(e.Name, e.Cause)
		return
	}
	r.fail("States.Runtime", err.Error())
}

func (r *tsRun) succeed(out *payload, next string, assigned map[string]string) {
	r.res.Status = TestStatusSucceeded
	r.res.Output = r.text(out)
	r.res.NextState = next
	for k, v := range assigned {
		if r.f.Vars == nil {
			r.f.Vars = map[string]string{}
		}
		r.f.Vars[k] = v
	}
}

func (r *tsRun) finish() *TestStateResult {
	lvl := strings.ToUpper(r.opts.InspectionLevel)
	if lvl == InspectionDebug || lvl == InspectionTrace {
		if len(r.f.Vars) > 0 {
			names := make([]string, 0, len(r.f.Vars))
			for k := range r.f.Vars {
				names = append(names, k)
			}
			o := expr.NewObject(len(names))
			for _, k := range orderedVarNames(r.opts.Variables, names) {
				v, _ := parseJSON(r.f.Vars[k])
				o.Set(k, v)
			}
			s := pyJSON(o)
			r.data.Variables = &s
		}
		data := r.data
		r.res.InspectionData = &data
	}
	return r.res
}

// orderedVarNames orders variable names: those of the variables parameter in its order,
// then the others sorted.
func orderedVarNames(given string, names []string) []string {
	seen := map[string]bool{}
	var out []string
	if v, err := parseJSON(given); err == nil {
		if o, ok := v.(*expr.Object); ok {
			for _, k := range o.Keys() {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	var rest []string
	for _, n := range names {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sortStrings(rest)
	return append(out, rest...)
}

func (r *tsRun) run() {
	in := rawPayload(r.input)
	r.data.Input = r.text(in)
	if r.st.isJSONata() {
		r.runJSONata()
		return
	}
	r.runJSONPath()
}

func nextIfAny(st *State) string {
	if st.End {
		return ""
	}
	return st.Next
}

// ---- JSONPath states ----

func (r *tsRun) runJSONPath() {
	d, f, st := r.d, r.f, r.st
	switch st.Type {
	case "Pass":
		var result *payload
		if st.Result.Set {
			result = valPayload(st.Result.Value)
			r.data.Result = r.text(result)
		} else {
			afterIn, err := d.effectiveInput(f, st, false)
			if err != nil {
				r.failErr(err)
				return
			}
			r.data.AfterInputPath = r.text(afterIn)
			result, err = d.effectiveInput(f, st, true)
			if err != nil {
				r.failErr(err)
				return
			}
			r.data.AfterParameters = r.text(result)
		}
		r.finishResult(result, nextIfAny(st))
	case "Succeed", "Fail", "Choice", "Wait":
		afterIn, err := d.effectiveInput(f, st, false)
		if err != nil {
			r.failErr(err)
			return
		}
		r.data.AfterInputPath = r.text(afterIn)
		switch st.Type {
		case "Fail":
			r.failState(afterIn)
		case "Choice":
			r.choice(afterIn)
		default:
			out, err := d.outputPath(f, st, afterIn)
			if err != nil {
				r.failErr(err)
				return
			}
			var assigned map[string]string
			if st.Assign.Set {
				if assigned, err = d.assign(f, st.Assign.Value, afterIn.Value()); err != nil {
					r.failErr(err)
					return
				}
			}
			r.succeed(out, nextIfAny(st), assigned)
		}
	case "Task":
		afterIn, err := d.effectiveInput(f, st, false)
		if err != nil {
			r.failErr(err)
			return
		}
		r.data.AfterInputPath = r.text(afterIn)
		params, err := d.effectiveInput(f, st, true)
		if err != nil {
			r.failErr(err)
			return
		}
		r.data.AfterParameters = r.text(params)
		r.mocked(func(result *payload) {
			r.data.Result = r.text(result)
			r.finishResult(result, nextIfAny(st))
		})
	case "Parallel":
		r.mocked(func(result *payload) { r.finishResult(result, nextIfAny(st)) })
	case "Map":
		r.runMap()
	}
}

// mocked runs the mocked outcome of a Task, Map or Parallel state.
func (r *tsRun) mocked(ok func(result *payload)) {
	m := r.opts.Mock
	switch {
	case m != nil && m.Result != nil:
		ok(rawPayload(*m.Result))
	case m != nil && m.ErrorOutput != nil:
		r.stateError(m.ErrorOutput.Error, m.ErrorOutput.Cause)
	default:
		r.fail("States.Runtime", "TestState cannot run the work of a "+r.st.Type+" state without a mock")
	}
}

// stateError applies Retry and Catch to an error of the state.
func (r *tsRun) stateError(name, cause string) {
	st := r.st
	if _, rt := matchRetrier(st.Retry, name, nil); rt != nil {
		r.res.Status = TestStatusRetriable
		r.res.Error, r.res.Cause = name, cause
		return
	}
	c := matchCatcher(st.Catch, name)
	if c == nil {
		r.fail(name, cause)
		return
	}
	errOut := expr.NewObject(2)
	errOut.Set("Error", name)
	errOut.Set("Cause", cause)
	var out *payload
	var assigned map[string]string
	var err error
	if st.isJSONata() {
		_, in := r.d.inputOf(r.f)
		in.errorOutput, in.hasError = errOut, true
		out = valPayload(errOut)
		if c.Assign.Set {
			if assigned, err = r.d.jsonataAssign(r.f, c.Assign, in); err != nil {
				r.failErr(err)
				return
			}
		}
		if c.Output.Set {
			v, err := r.d.evalJSONata(r.f, c.Output, "Output", in)
			if err != nil {
				r.failErr(err)
				return
			}
			out = valPayload(v)
		}
	} else {
		raw := rawPayload(r.input)
		switch {
		case c.ResultPath.Set && c.ResultPath.Null:
			out = raw
		case c.ResultPath.Set:
			p := c.ResultPath.Path
			v, err := expr.ApplyResultPath(raw.Value(), &p, errOut)
			if err != nil {
				r.failErr(err)
				return
			}
			out = valPayload(v)
		default:
			out = valPayload(errOut)
		}
		if c.Assign.Set {
			if assigned, err = r.d.assign(r.f, c.Assign.Value, errOut); err != nil {
				r.failErr(err)
				return
			}
		}
	}
	r.succeed(out, c.Next, assigned)
	r.res.Status = TestStatusCaughtError
	r.res.Error, r.res.Cause = name, cause
}

// finishResult runs ResultSelector, Assign, ResultPath and OutputPath on a result.
func (r *tsRun) finishResult(result *payload, next string) {
	d, f, st := r.d, r.f, r.st
	if st.isJSONata() {
		_, in := d.inputOf(f)
		in.result, in.hasResult = result.Value(), true
		r.jsonataExit(st.Assign, st.Output, in, result, next)
		return
	}
	if st.ResultSelector.Set {
		v, err := expr.EvalTemplate(st.ResultSelector.Value, d.env(f, result.Value()))
		if err != nil {
			r.failErr(err)
			return
		}
		result = valPayload(v)
	}
	r.data.AfterResultSelector = r.text(result)
	var assigned map[string]string
	if st.Assign.Set {
		var err error
		if assigned, err = d.assign(f, st.Assign.Value, result.Value()); err != nil {
			r.failErr(err)
			return
		}
	}
	out := result
	if st.ResultPath.Set {
		raw := rawPayload(r.input)
		if st.ResultPath.Null {
			out = raw
		} else if st.ResultPath.Path != "$" {
			p := st.ResultPath.Path
			v, err := expr.ApplyResultPath(raw.Value(), &p, result.Value())
			if err != nil {
				r.failErr(err)
				return
			}
			out = valPayload(v)
		}
	}
	r.data.AfterResultPath = r.text(out)
	out, err := d.outputPath(f, st, out)
	if err != nil {
		r.failErr(err)
		return
	}
	r.succeed(out, next, assigned)
}

func (r *tsRun) failState(in *payload) {
	st := r.st
	env := r.d.env(r.f, rawPayload(r.input).Value())
	name, cause := "", ""
	if st.Error.Set {
		name, _ = st.Error.Value.(string)
	}
	if st.Cause.Set {
		cause, _ = st.Cause.Value.(string)
	}
	if st.ErrorPath != "" {
		v, err := expr.EvalPathField(st.ErrorPath, "ErrorPath", env)
		if err != nil {
			r.failErr(err)
			return
		}
		name = stringify(v)
	}
	if st.CausePath != "" {
		v, err := expr.EvalPathField(st.CausePath, "CausePath", env)
		if err != nil {
			r.failErr(err)
			return
		}
		cause = stringify(v)
	}
	r.fail(name, cause)
}

func (r *tsRun) choice(in *payload) {
	d, f, st := r.d, r.f, r.st
	env := d.env(f, in.Value())
	var rule *Rule
	for _, c := range st.Choices {
		ok, err := evalRule(c, env)
		if err != nil {
			r.failErr(err)
			return
		}
		if ok {
			rule = c
			break
		}
	}
	next := st.Default
	assign := st.Assign
	if rule != nil {
		next = rule.Next
		if rule.Assign.Set {
			assign = rule.Assign
		}
	}
	if next == "" {
		r.fail("States.NoChoiceMatched", "No Matches!")
		return
	}
	var assigned map[string]string
	if assign.Set {
		var err error
		if assigned, err = d.assign(f, assign.Value, in.Value()); err != nil {
			r.failErr(err)
			return
		}
	}
	out, err := d.outputPath(f, st, in)
	if err != nil {
		r.failErr(err)
		return
	}
	r.succeed(out, next, assigned)
}

func (r *tsRun) runMap() {
	d, f, st := r.d, r.f, r.st
	afterIn, err := d.effectiveInput(f, st, false)
	if err != nil {
		r.failErr(err)
		return
	}
	r.data.AfterInputPath = r.text(afterIn)
	if st.ItemsPath.Set && !st.ItemsPath.Null && st.ItemsPath.Path != "$" {
		p := st.ItemsPath.Path
		v, err := expr.ApplyPath(&p, d.env(f, afterIn.Value()))
		if err != nil {
			r.failErr(err)
			return
		}
		if _, ok := asArray(v); !ok {
			shown := p
			if strings.HasPrefix(shown, "$$") {
				shown = shown[1:]
			}
			r.fail("States.Runtime", "Reference path \""+shown+"\" must point to array.")
			return
		}
		r.data.AfterItemsPath = r.text(valPayload(v))
	} else {
		if _, ok := asArray(afterIn.Value()); !ok {
			r.fail("States.Runtime", "Reference path \"$\" must point to array.")
			return
		}
		r.data.AfterItemsPath = r.text(afterIn)
	}
	if st.MaxConcurrency != nil {
		if n, err := strconv.ParseInt(st.MaxConcurrency.String(), 10, 64); err == nil {
			r.data.MaxConcurrency = &n
		}
	}
	if st.ToleratedFailureCount != nil {
		if n, err := strconv.ParseInt(st.ToleratedFailureCount.String(), 10, 64); err == nil {
			r.data.ToleratedFailureCount = &n
		}
	}
	if st.ToleratedFailurePercentage != nil {
		if x, err := st.ToleratedFailurePercentage.Float64(); err == nil {
			r.data.ToleratedFailurePercentage = &x
		}
	}
	r.mocked(func(result *payload) { r.finishResult(result, nextIfAny(st)) })
}

// ---- JSONata states ----

func (r *tsRun) jsonataExit(assign, output Template, in jsonataIn, def *payload, next string) {
	var assigned map[string]string
	if assign.Set {
		var err error
		if assigned, err = r.d.jsonataAssign(r.f, assign, in); err != nil {
			r.failErr(err)
			return
		}
	}
	out := def
	if output.Set {
		v, err := r.d.evalJSONata(r.f, output, "Output", in)
		if err != nil {
			r.failErr(err)
			return
		}
		out = valPayload(v)
	}
	r.succeed(out, next, assigned)
}

func (r *tsRun) runJSONata() {
	d, f, st := r.d, r.f, r.st
	raw, in := d.inputOf(f)
	switch st.Type {
	case "Pass", "Succeed", "Wait":
		r.jsonataExit(st.Assign, st.Output, in, raw, nextIfAny(st))
	case "Fail":
		name, cause := "", ""
		for _, x := range []struct {
			t     Template
			field string
			out   *string
		}{{st.Error, "Error", &name}, {st.Cause, "Cause", &cause}} {
			if !x.t.Set {
				continue
			}
			v, err := d.evalJSONata(f, x.t, x.field, in)
			if err != nil {
				r.failErr(err)
				return
			}
			*x.out = stringify(v)
		}
		r.fail(name, cause)
	case "Choice":
		var rule *Rule
		for _, c := range st.Choices {
			if !c.Condition.Set {
				continue
			}
			v, err := d.evalJSONata(f, c.Condition, "Condition", in)
			if err != nil {
				r.failErr(err)
				return
			}
			if b, ok := v.(bool); ok && b {
				rule = c
				break
			}
		}
		if rule == nil {
			if st.Default == "" {
				r.fail("States.NoChoiceMatched", "No Matches!")
				return
			}
			r.jsonataExit(st.Assign, st.Output, in, raw, st.Default)
			return
		}
		assign, output := rule.Assign, rule.Output
		if !assign.Set {
			assign = st.Assign
		}
		if !output.Set {
			output = st.Output
		}
		r.jsonataExit(assign, output, in, raw, rule.Next)
	case "Task", "Parallel", "Map":
		if st.Arguments.Set {
			args, err := d.jsonataArguments(f, st, in, raw)
			if err != nil {
				r.failErr(err)
				return
			}
			if st.Type == "Task" {
				r.data.AfterArguments = r.text(args)
			}
		}
		r.mocked(func(result *payload) {
			if st.Type == "Task" {
				r.data.Result = r.text(result)
			}
			r.finishResult(result, nextIfAny(st))
		})
	default:
		r.fail("States.Runtime", fmt.Sprintf("Unsupported state type '%s'", st.Type))
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
