// Package asl is the Amazon States Language model and the pure decider of sfnd.
//
// Parse turns a definition into a StateMachine. An Execution is the state of one
// execution, rebuilt only by folding its history events through Apply. Decide takes a
// Trigger (start, timer fired, task result, stop ...) and returns the new history events
// (already applied to the Execution) and the Effects the caller carries out after it has
// appended them:
//
//	x := asl.NewExecution(sm)
//	evs, effects, err := asl.Decide(sm, x, asl.Trigger{Kind: asl.TriggerStart, ...})
//	// append evs, then run effects; later:
//	x2 := asl.Rebuild(sm, storedHistory) // equals x
//
// The decider has no clock, no randomness and no I/O: time and seeds come in through
// the Trigger and are recorded in the events (events.Ext), so an audit replay of a
// stored history reproduces every decision.
package asl

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/cockroachdb/errors"
)

// Query languages of a definition or state.
const (
	JSONPath = "JSONPath"
	JSONata  = "JSONata"
)

// StateMachine is a parsed definition, or one nested part of it (a Parallel branch, a
// Map ItemProcessor/Iterator).
type StateMachine struct {
	Comment        string
	StartAt        string
	States         map[string]*State
	Names          []string // state names in definition order
	TimeoutSeconds *int64
	Version        string
	QueryLanguage  string // JSONPath unless set
	// Raw is the definition text this machine was parsed from (top level only).
	Raw string
	// evsHint is how many events this machine's last decision produced: the capacity
	// the next decision's event slice starts with (growing it by doubling was most of
	// what a decision allocated). Only a capacity, never read by the decision's logic;
	// accessed atomically (executions of one machine decide concurrently).
	evsHint int64
}

// State is one state of a StateMachine. Only the fields of its Type are set.
type State struct {
	Name          string
	Type          string
	Comment       string
	QueryLanguage string // effective query language (inherited from the machine)
	Next          string
	End           bool

	InputPath  OptPath
	OutputPath OptPath
	ResultPath OptPath

	Parameters     Template
	ResultSelector Template
	Result         Template
	Assign         Template
	Arguments      Template // JSONata
	Output         Template // JSONata

	// Task
	Resource             string
	TimeoutSeconds       *int64
	TimeoutSecondsPath   string
	HeartbeatSeconds     *int64
	HeartbeatSecondsPath string
	Credentials          Template
	TimeoutExpr          Template // JSONata "TimeoutSeconds": "{% ... %}"
	HeartbeatExpr        Template // JSONata "HeartbeatSeconds": "{% ... %}"
	Retry                []*Retrier
	Catch                []*Catcher

	// Choice
	Choices []*Rule
	Default string

	// Wait
	Seconds       *json.Number
	SecondsPath   string
	Timestamp     string
	TimestampPath string
	SecondsExpr   Template // JSONata "Seconds": "{% ... %}"

	// Fail
	Error     Template
	Cause     Template
	ErrorPath string
	CausePath string

	// Parallel
	Branches []*StateMachine

	// Map
	ItemsPath                      OptPath
	Items                          Template // JSONata
	ItemSelector                   Template
	Processor                      *StateMachine // ItemProcessor or Iterator
	ProcessorRaw                   json.RawMessage
	ProcessorMode                  string // INLINE or DISTRIBUTED
	ExecutionType                  string
	MaxConcurrency                 *json.Number
	MaxConcurrencyPath             string
	ToleratedFailureCount          *json.Number
	ToleratedFailureCountPath      string
	ToleratedFailurePercentage     *json.Number
	ToleratedFailurePercentagePath string
	MaxConcurrencyExpr             Template // JSONata expressions of these three
	ToleratedFailureCountExpr      Template
	ToleratedFailurePercentageExpr Template
	ItemReader                     Template
	ResultWriter                   Template
	ItemBatcher                    Template
	Label                          string
}

// OptPath is an optional path field that distinguishes "absent" (Set false), an
// explicit JSON null (Null true) and a path string.
type OptPath struct {
	Set  bool
	Null bool
	Path string
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *OptPath) UnmarshalJSON(b []byte) error {
	p.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		p.Null = true
		return nil
	}
	return json.Unmarshal(b, &p.Path)
}

// Template is a JSON value from the definition (a payload template, a literal Result, an
// Assign block, a JSONata string ...), kept both as text and as the value expr uses.
type Template struct {
	Set   bool
	Raw   json.RawMessage
	Value any
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Template) UnmarshalJSON(b []byte) error {
	t.Set = true
	t.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Retrier is one element of a Retry array.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds *json.Number
	MaxAttempts     *json.Number
	BackoffRate     *json.Number
	MaxDelaySeconds *json.Number
	JitterStrategy  string
}

// Catcher is one element of a Catch array.
type Catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  OptPath
	Assign      Template
	Output      Template
}

// Rule is a Choice rule: a comparison (Variable + Op + Operand), a boolean combination
// (And/Or/Not), or a JSONata Condition. Top-level rules carry Next (and Assign/Output).
type Rule struct {
	Variable  string
	Op        string // e.g. StringEquals, NumericLessThanPath, IsPresent
	Operand   any
	OperandOK bool
	And       []*Rule
	Or        []*Rule
	Not       *Rule
	Condition Template // JSONata
	Next      string
	Assign    Template
	Output    Template
}

// choiceOps are the comparison operators of a Choice rule.
var choiceOps = []string{
	"BooleanEquals", "BooleanEqualsPath",
	"IsBoolean", "IsNull", "IsNumeric", "IsPresent", "IsString", "IsTimestamp",
	"NumericEquals", "NumericEqualsPath", "NumericGreaterThan", "NumericGreaterThanPath",
	"NumericGreaterThanEquals", "NumericGreaterThanEqualsPath", "NumericLessThan",
	"NumericLessThanPath", "NumericLessThanEquals", "NumericLessThanEqualsPath",
	"StringEquals", "StringEqualsPath", "StringGreaterThan", "StringGreaterThanPath",
	"StringGreaterThanEquals", "StringGreaterThanEqualsPath", "StringLessThan",
	"StringLessThanPath", "StringLessThanEquals", "StringLessThanEqualsPath", "StringMatches",
	"TimestampEquals", "TimestampEqualsPath", "TimestampGreaterThan", "TimestampGreaterThanPath",
	"TimestampGreaterThanEquals", "TimestampGreaterThanEqualsPath", "TimestampLessThan",
	"TimestampLessThanPath", "TimestampLessThanEquals", "TimestampLessThanEqualsPath",
}

// ErrInvalidDefinition marks errors of Parse.
var ErrInvalidDefinition = errors.New("invalid state machine definition")

// Parse parses a definition. It assumes the definition passed static validation but
// never panics: anything it cannot read is returned as an error marked
// ErrInvalidDefinition.
func Parse(definition string) (sm *StateMachine, err error) {
	defer func() {
		if r := recover(); r != nil {
			sm, err = nil, errors.Mark(errors.Newf("cannot parse definition: %v", r), ErrInvalidDefinition)
		}
	}()
	sm, err = parseMachine([]byte(definition), JSONPath)
	if err != nil {
		return nil, errors.Mark(err, ErrInvalidDefinition)
	}
	sm.Raw = definition
	return sm, nil
}

type rawMachine struct {
	Comment        string                     `json:"Comment"`
	StartAt        string                     `json:"StartAt"`
	States         map[string]json.RawMessage `json:"States"`
	TimeoutSeconds *int64                     `json:"TimeoutSeconds"`
	Version        string                     `json:"Version"`
	QueryLanguage  string                     `json:"QueryLanguage"`
}

type rawState struct {
	Type          string `json:"Type"`
	Comment       string `json:"Comment"`
	QueryLanguage string `json:"QueryLanguage"`
	Next          string `json:"Next"`
	End           bool   `json:"End"`

	InputPath      OptPath  `json:"InputPath"`
	OutputPath     OptPath  `json:"OutputPath"`
	ResultPath     OptPath  `json:"ResultPath"`
	Parameters     Template `json:"Parameters"`
	ResultSelector Template `json:"ResultSelector"`
	Result         Template `json:"Result"`
	Assign         Template `json:"Assign"`
	Arguments      Template `json:"Arguments"`
	Output         Template `json:"Output"`

	Resource             string            `json:"Resource"`
	TimeoutSeconds       json.RawMessage   `json:"TimeoutSeconds"`
	TimeoutSecondsPath   string            `json:"TimeoutSecondsPath"`
	HeartbeatSeconds     json.RawMessage   `json:"HeartbeatSeconds"`
	HeartbeatSecondsPath string            `json:"HeartbeatSecondsPath"`
	Credentials          Template          `json:"Credentials"`
	Retry                []*Retrier        `json:"Retry"`
	Catch                []*Catcher        `json:"Catch"`
	Choices              []json.RawMessage `json:"Choices"`
	Default              string            `json:"Default"`

	Seconds       json.RawMessage `json:"Seconds"`
	SecondsPath   string          `json:"SecondsPath"`
	Timestamp     string          `json:"Timestamp"`
	TimestampPath string          `json:"TimestampPath"`

	Error     Template `json:"Error"`
	Cause     Template `json:"Cause"`
	ErrorPath string   `json:"ErrorPath"`
	CausePath string   `json:"CausePath"`

	Branches []json.RawMessage `json:"Branches"`

	ItemsPath                      OptPath         `json:"ItemsPath"`
	Items                          Template        `json:"Items"`
	ItemSelector                   Template        `json:"ItemSelector"`
	ItemProcessor                  json.RawMessage `json:"ItemProcessor"`
	Iterator                       json.RawMessage `json:"Iterator"`
	MaxConcurrency                 json.RawMessage `json:"MaxConcurrency"`
	MaxConcurrencyPath             string          `json:"MaxConcurrencyPath"`
	ToleratedFailureCount          json.RawMessage `json:"ToleratedFailureCount"`
	ToleratedFailureCountPath      string          `json:"ToleratedFailureCountPath"`
	ToleratedFailurePercentage     json.RawMessage `json:"ToleratedFailurePercentage"`
	ToleratedFailurePercentagePath string          `json:"ToleratedFailurePercentagePath"`
	ItemReader                     Template        `json:"ItemReader"`
	ResultWriter                   Template        `json:"ResultWriter"`
	ItemBatcher                    Template        `json:"ItemBatcher"`
	Label                          string          `json:"Label"`
}

type rawProcessor struct {
	ProcessorConfig struct {
		Mode          string `json:"Mode"`
		ExecutionType string `json:"ExecutionType"`
	} `json:"ProcessorConfig"`
}

func parseMachine(b []byte, inheritedQL string) (*StateMachine, error) {
	var rm rawMachine
	if err := json.Unmarshal(b, &rm); err != nil {
		return nil, errors.Wrap(err, "definition is not a JSON object")
	}
	ql := rm.QueryLanguage
	if ql == "" {
		ql = inheritedQL
	}
	sm := &StateMachine{
		Comment:        rm.Comment,
		StartAt:        rm.StartAt,
		States:         make(map[string]*State, len(rm.States)),
		TimeoutSeconds: rm.TimeoutSeconds,
		Version:        rm.Version,
		QueryLanguage:  ql,
	}
	sm.Names = orderedKeys(b, "States")
	if len(sm.Names) != len(rm.States) {
		sm.Names = sm.Names[:0]
		for n := range rm.States {
			sm.Names = append(sm.Names, n)
		}
		sort.Strings(sm.Names)
	}
	for _, name := range sm.Names {
		st, err := parseState(name, rm.States[name], ql)
		if err != nil {
			return nil, errors.Wrapf(err, "state %q", name)
		}
		sm.States[name] = st
	}
	if _, ok := sm.States[sm.StartAt]; !ok {
		return nil, errors.Newf("StartAt %q is not a state", sm.StartAt)
	}
	return sm, nil
}

func parseState(name string, b []byte, machineQL string) (*State, error) {
	var rs rawState
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, errors.Wrap(err, "state is not a valid JSON object")
	}
	ql := rs.QueryLanguage
	if ql == "" {
		ql = machineQL
	}
	st := &State{
		Name: name, Type: rs.Type, Comment: rs.Comment, QueryLanguage: ql,
		Next: rs.Next, End: rs.End,
		InputPath: rs.InputPath, OutputPath: rs.OutputPath, ResultPath: rs.ResultPath,
		Parameters: rs.Parameters, ResultSelector: rs.ResultSelector, Result: rs.Result,
		Assign: rs.Assign, Arguments: rs.Arguments, Output: rs.Output,
		Resource: rs.Resource, TimeoutSecondsPath: rs.TimeoutSecondsPath,
		HeartbeatSecondsPath: rs.HeartbeatSecondsPath,
		Credentials:          rs.Credentials, Retry: rs.Retry, Catch: rs.Catch, Default: rs.Default,
		SecondsPath: rs.SecondsPath, Timestamp: rs.Timestamp, TimestampPath: rs.TimestampPath,
		Error: rs.Error, Cause: rs.Cause, ErrorPath: rs.ErrorPath, CausePath: rs.CausePath,
		ItemsPath: rs.ItemsPath, Items: rs.Items, ItemSelector: rs.ItemSelector,
		MaxConcurrencyPath:             rs.MaxConcurrencyPath,
		ToleratedFailureCountPath:      rs.ToleratedFailureCountPath,
		ToleratedFailurePercentagePath: rs.ToleratedFailurePercentagePath,
		ItemReader:                     rs.ItemReader, ResultWriter: rs.ResultWriter, ItemBatcher: rs.ItemBatcher,
		Label: rs.Label,
	}
	st.Seconds, st.SecondsExpr = numberOrExpr(rs.Seconds)
	st.MaxConcurrency, st.MaxConcurrencyExpr = numberOrExpr(rs.MaxConcurrency)
	st.ToleratedFailureCount, st.ToleratedFailureCountExpr = numberOrExpr(rs.ToleratedFailureCount)
	st.ToleratedFailurePercentage, st.ToleratedFailurePercentageExpr = numberOrExpr(rs.ToleratedFailurePercentage)
	var n *json.Number
	if n, st.TimeoutExpr = numberOrExpr(rs.TimeoutSeconds); n != nil {
		if i, err := n.Int64(); err == nil {
			st.TimeoutSeconds = &i
		}
	}
	if n, st.HeartbeatExpr = numberOrExpr(rs.HeartbeatSeconds); n != nil {
		if i, err := n.Int64(); err == nil {
			st.HeartbeatSeconds = &i
		}
	}
	for _, t := range []*Template{&st.Parameters, &st.ResultSelector, &st.Result, &st.Assign,
		&st.Arguments, &st.Output, &st.Credentials, &st.Error, &st.Cause, &st.Items,
		&st.ItemSelector, &st.ItemReader, &st.ResultWriter, &st.ItemBatcher, &st.SecondsExpr,
		&st.TimeoutExpr, &st.HeartbeatExpr, &st.MaxConcurrencyExpr, &st.ToleratedFailureCountExpr,
		&st.ToleratedFailurePercentageExpr} {
		if err := t.parse(); err != nil {
			return nil, err
		}
	}
	for _, c := range st.Catch {
		if err := c.Assign.parse(); err != nil {
			return nil, err
		}
		if err := c.Output.parse(); err != nil {
			return nil, err
		}
	}
	for _, raw := range rs.Choices {
		r, err := parseRule(raw)
		if err != nil {
			return nil, err
		}
		st.Choices = append(st.Choices, r)
	}
	for i, raw := range rs.Branches {
		b, err := parseMachine(raw, ql)
		if err != nil {
			return nil, errors.Wrapf(err, "branch %d", i)
		}
		st.Branches = append(st.Branches, b)
	}
	proc := rs.ItemProcessor
	if len(proc) == 0 {
		proc = rs.Iterator
	}
	if len(proc) > 0 {
		p, err := parseMachine(proc, ql)
		if err != nil {
			return nil, errors.Wrap(err, "ItemProcessor")
		}
		var rp rawProcessor
		_ = json.Unmarshal(proc, &rp)
		st.Processor = p
		st.ProcessorRaw = proc
		st.ProcessorMode = rp.ProcessorConfig.Mode
		st.ExecutionType = rp.ProcessorConfig.ExecutionType
		if st.ProcessorMode == "" {
			st.ProcessorMode = "INLINE"
		}
	}
	return st, nil
}

// numberOrExpr splits a field that holds a number or (JSONata) an expression string.
func numberOrExpr(raw json.RawMessage) (*json.Number, Template) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, Template{}
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return &n, Template{}
	}
	return nil, Template{Set: true, Raw: raw}
}

func (t *Template) parse() error {
	if !t.Set {
		return nil
	}
	v, err := parseJSON(string(t.Raw))
	if err != nil {
		return errors.Wrap(err, "invalid JSON value")
	}
	t.Value = v
	return nil
}

func parseRule(raw json.RawMessage) (*Rule, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errors.Wrap(err, "choice rule is not an object")
	}
	r := &Rule{}
	str := func(k string) string {
		var s string
		if v, ok := m[k]; ok {
			_ = json.Unmarshal(v, &s)
		}
		return s
	}
	r.Variable = str("Variable")
	r.Next = str("Next")
	for _, k := range []struct {
		key string
		t   *Template
	}{{"Condition", &r.Condition}, {"Assign", &r.Assign}, {"Output", &r.Output}} {
		if v, ok := m[k.key]; ok {
			*k.t = Template{Set: true, Raw: v}
			if err := k.t.parse(); err != nil {
				return nil, err
			}
		}
	}
	for _, k := range []string{"And", "Or"} {
		v, ok := m[k]
		if !ok {
			continue
		}
		var subs []json.RawMessage
		if err := json.Unmarshal(v, &subs); err != nil {
			return nil, errors.Wrapf(err, "%s must be an array", k)
		}
		for _, s := range subs {
			sr, err := parseRule(s)
			if err != nil {
				return nil, err
			}
			if k == "And" {
				r.And = append(r.And, sr)
			} else {
				r.Or = append(r.Or, sr)
			}
		}
		if k == "And" && r.And == nil {
			r.And = []*Rule{}
		}
		if k == "Or" && r.Or == nil {
			r.Or = []*Rule{}
		}
	}
	if v, ok := m["Not"]; ok {
		sr, err := parseRule(v)
		if err != nil {
			return nil, err
		}
		r.Not = sr
	}
	for _, op := range choiceOps {
		if v, ok := m[op]; ok {
			r.Op = op
			val, err := parseJSON(string(v))
			if err != nil {
				return nil, err
			}
			r.Operand, r.OperandOK = val, true
			break
		}
	}
	return r, nil
}

// orderedKeys returns the keys of the object at top-level key field of the JSON object b,
// in document order.
func orderedKeys(b []byte, field string) []string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		key, _ := t.(string)
		if key != field {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return nil
		}
		var out []string
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return nil
			}
			k, _ := t.(string)
			out = append(out, k)
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil
			}
		}
		return out
	}
	return nil
}

// isJSONata reports whether a state evaluates with the JSONata query language.
func (s *State) isJSONata() bool { return strings.EqualFold(s.QueryLanguage, JSONata) }
