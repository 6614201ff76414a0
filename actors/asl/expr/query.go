package expr

import (
	"strings"
	"sync"

	"github.com/cockroachdb/errors"
)

type rootKind int

const (
	rootInput rootKind = iota
	rootContext
	rootVar
)

// ref is a compiled path expression: "$...", "$$..." or "$name...".
type ref struct {
	root rootKind
	name string // variable name for rootVar
	path *jsonPath
}

var refCache sync.Map // string -> *ref

func compileRef(text string) (*ref, *pathErr) {
	if r, ok := refCache.Load(text); ok {
		return r.(*ref), nil
	}
	r := &ref{}
	var jpText string
	switch {
	case strings.HasPrefix(text, "$$"):
		r.root, jpText = rootContext, "$"+text[2:]
	case text == "$" || strings.HasPrefix(text, "$.") || strings.HasPrefix(text, "$["):
		r.root, jpText = rootInput, text
	case strings.HasPrefix(text, "$"):
		name, rest := readName(text[1:])
		if !isVarName(name) {
			return nil, &pathErr{msg: "Invalid variable name '" + name + "'"}
		}
		r.root, r.name, jpText = rootVar, name, "$"+rest
	default:
		return nil, &pathErr{msg: "Path must start with '$'"}
	}
	p, err := compilePath(jpText)
	if err != nil {
		return nil, err
	}
	r.path = p
	refCache.Store(text, r)
	return r, nil
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 ||
			(i > 0 && c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// IsPath reports whether s is a well-formed path expression ("$...", "$$..." or
// "$var..."), for definition validation.
func IsPath(s string) bool {
	_, err := compileRef(s)
	return err == nil
}

// IsReferencePath reports whether s is a well-formed Reference Path: a path selecting a
// single node (only names and single indexes, no wildcards, filters, slices or "..").
func IsReferencePath(s string) bool {
	r, err := compileRef(s)
	return err == nil && r.path.definite
}

// IsResultPath reports whether s is a path ApplyResultPath accepts: a Reference Path
// into the state's input ("$", "$.a", "$['a'][0]", not "$$..." or "$var...").
func IsResultPath(s string) bool {
	r, err := compileRef(s)
	return err == nil && r.root == rootInput && r.path.definite
}

// VarName returns the variable a "$name..." path reads, or "" for "$" and "$$" paths.
func VarName(path string) string {
	r, err := compileRef(path)
	if err != nil || r.root != rootVar {
		return ""
	}
	return r.name
}

// eval evaluates a compiled path; the *pathErr tells a miss from a syntax problem.
func (r *ref) eval(env Env) (any, *pathErr) {
	var root any
	switch r.root {
	case rootInput:
		root = env.Input
	case rootContext:
		root = env.context()
	case rootVar:
		v, ok := env.vars()[r.name]
		if !ok {
			return nil, &pathErr{notFound: true, msg: "No results for variable: $" + r.name}
		}
		root = v
	}
	root = canon(root)
	if r.path.definite {
		return r.path.get(root)
	}
	return r.path.find(root), nil
}

// Query evaluates a path against env: "$..." reads the input, "$$..." the context object
// and "$name..." the variable name. A definite path (names and single indexes only)
// yields the selected value; any other path yields an array of every match (possibly
// empty), as AWS does.
//
// Errors are *Error (States.Runtime) whose cause is the text AWS gives for InputPath and
// OutputPath, e.g. "Invalid path '$.x' : No results for path: $['x']", marked ErrNotFound
// when nothing was selected and ErrSyntax when the path does not parse.
func Query(path string, env Env) (any, error) {
	r, perr := compileRef(path)
	if perr != nil {
		return nil, errors.Mark(newError(ErrNameRuntime, "Invalid path '%s' : %s", path, perr.msg), ErrSyntax)
	}
	v, perr := r.eval(env)
	if perr != nil {
		return nil, errors.Mark(newError(ErrNameRuntime, "Invalid path '%s' : %s", path, perr.msg), ErrNotFound)
	}
	return v, nil
}

// Lookup is Query for callers that treat a miss as a value (Choice rules, IsPresent):
// found is false when a definite path selects nothing; err is only for a bad path.
func Lookup(path string, env Env) (v any, found bool, err error) {
	v, err = Query(path, env)
	if err != nil {
		if IsNotFound(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return v, true, nil
}

// ApplyPath applies an InputPath or OutputPath: nil (field absent) means "$" and returns
// env.Input unchanged. A JSON null InputPath/OutputPath is the caller's case: AWS then
// uses an empty object (NewObject(0)) without evaluating anything.
func ApplyPath(path *string, env Env) (any, error) {
	if path == nil {
		return env.Input, nil
	}
	return Query(*path, env)
}

// EvalPathField evaluates the value of a field that holds a path or an intrinsic function
// call: a "key.$" entry of a payload template, ErrorPath/CausePath of a Fail state, etc.
// field names the field in AWS's message, e.g. "value.$" or "ErrorPath". A path that
// selects nothing fails with States.Runtime and AWS's cause
// "The JSONPath '$.x' specified for the field 'value.$' could not be found in the input '{...}'".
func EvalPathField(value, field string, env Env) (any, error) {
	if strings.HasPrefix(value, "States.") {
		v, err := evalIntrinsic(value, env)
		if err != nil {
			var nf *argNotFound
			if errors.As(err, &nf) {
				return nil, errors.Mark(fieldNotFound(nf.path, field, env), ErrNotFound)
			}
			return nil, err
		}
		return v, nil
	}
	v, err := Query(value, env)
	if err != nil {
		if IsNotFound(err) {
			return nil, errors.Mark(fieldNotFound(value, field, env), ErrNotFound)
		}
		return nil, err
	}
	return v, nil
}

func fieldNotFound(path, field string, env Env) *Error {
	return newError(ErrNameRuntime, "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'",
		path, field, Marshal(env.Input))
}

// EvalTemplate evaluates a JSONPath payload template (Parameters, ResultSelector,
// ItemSelector, Assign in JSONPath states): in every object, a key "name.$" is replaced by
// "name" with the value of its path or intrinsic function call (EvalPathField); other
// values are copied, nested objects and arrays are evaluated recursively. Key order is
// the template's.
func EvalTemplate(tmpl any, env Env) (any, error) {
	switch t := canon(tmpl).(type) {
	case *Object:
		out := NewObject(t.Len())
		for k, v := range t.All() {
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				s, isStr := v.(string)
				if !isStr {
					return nil, newError(ErrNameRuntime, "The value for the field '%s' must be a STRING that contains a JSONPath but was an %s", k, strings.ToUpper(TypeName(v)))
				}
				r, err := EvalPathField(s, k, env)
				if err != nil {
					return nil, err
				}
				out.Set(name, r)
				continue
			}
			r, err := EvalTemplate(v, env)
			if err != nil {
				return nil, err
			}
			out.Set(k, r)
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			r, err := EvalTemplate(v, env)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	default:
		return t, nil
	}
}

// ApplyResultPath merges a state's result into its input as ResultPath says:
// nil (field absent) or "$" returns result; "$.a.b" returns a copy of input with result
// stored at a.b, creating missing intermediate objects; "$.a[2]" replaces an existing
// array element. A JSON null ResultPath is the caller's case: AWS then discards the
// result and keeps the input (no call needed).
//
// Fails with States.ResultPathMatchFailure when the path runs into a value that is not
// an object (or an array for an index), and States.Runtime for a path that is not a
// reference path.
func ApplyResultPath(input any, resultPath *string, result any) (any, error) {
	if resultPath == nil || *resultPath == "$" {
		return result, nil
	}
	rp := *resultPath
	r, perr := compileRef(rp)
	if perr != nil || r.root != rootInput || !r.path.definite {
		msg := "ResultPath must be a reference path"
		if perr != nil {
			msg = perr.msg
		}
		return nil, errors.Mark(newError(ErrNameRuntime, "Invalid path '%s' : %s", rp, msg), ErrSyntax)
	}
	input = canon(input)
	out, ok := setAt(input, r.path.segs, result)
	if !ok {
		return nil, newError(ErrNameResultPathMatchFailure, "Unable to apply ResultPath \"%s\" to input %s", rp, Marshal(input))
	}
	return out, nil
}

// setAt returns a copy of cur with v stored at segs (copying only the containers on the
// path), or false when the path cannot be applied.
func setAt(cur any, segs []segment, v any) (any, bool) {
	if len(segs) == 0 {
		return v, true
	}
	s := segs[0]
	switch s.kind {
	case segChild:
		o, ok := cur.(*Object)
		if !ok {
			return nil, false
		}
		child, exists := o.Get(s.names[0])
		if !exists && len(segs) > 1 {
			child = NewObject(0)
		}
		nv, ok := setAt(child, segs[1:], v)
		if !ok {
			return nil, false
		}
		c := o.shallowCopy()
		c.Set(s.names[0], nv)
		return c, true
	case segIndex:
		a, ok := cur.([]any)
		n := s.idx[0]
		if ok && n < 0 {
			n += len(a)
		}
		if !ok || n < 0 || n >= len(a) {
			return nil, false
		}
		nv, ok := setAt(a[n], segs[1:], v)
		if !ok {
			return nil, false
		}
		c := append([]any(nil), a...)
		c[n] = nv
		return c, true
	}
	return nil, false
}
