// Package expr evaluates the data-processing parts of the Amazon States Language in its
// JSONPath flavour: reference paths, JSONPath queries, payload templates (Parameters,
// ResultSelector, ItemSelector with ".$" keys), intrinsic functions and ResultPath merging.
// It also owns the JSON value representation and the JSON text format every other
// package uses for payloads.
//
// It is pure: no clock, no I/O. Randomness (States.UUID, States.MathRandom) comes from
// Env.Rand, which the decider seeds from a value recorded in the history.
//
// # Values
//
// JSON values are nil, bool, json.Number (the literal text), string, []any and *Object.
// *Object is an insertion-ordered object: AWS keeps key order (Jackson LinkedHashMap)
// and the order shows in every payload it prints, e.g. a template
// {"b.$": "$.x", "a": 1} produces {"b":...,"a":1}, and ResultPath "$.r" appends "r"
// after the existing keys. Parse payloads with ParseJSON and print them with Marshal;
// FromGo converts values built elsewhere (map[string]any gets sorted keys).
// Values are never modified in place by this package; results may share unchanged
// sub-trees with the arguments.
//
// # Example
//
//	in, _ := expr.ParseJSON(`{"user":{"name":"Ann"},"n":[1,2,3]}`)
//	env := expr.Env{Input: in, Context: ctxObject, Vars: vars, Rand: rnd}
//	v, _ := expr.Query("$.n[1:]", env)                              // [2,3]
//	p, _ := expr.EvalTemplate(expr.MustParseJSON(
//	    `{"who.$":"$.user.name","msg.$":"States.Format('hi {}', $.user.name)"}`), env)
//	expr.Marshal(p)                                                  // {"who":"Ann","msg":"hi Ann"}
//	out, _ := expr.ApplyResultPath(in, ptr("$.result"), p)          // input + "result"
//
// # Errors
//
// Runtime failures are *Error values carrying the AWS error name and the cause text
// without AWS's state prefix ("An error occurred while executing the state 'S' (entered
// at the event id #N). "), which the decider prepends. ErrNotFound / ErrSyntax marks
// (IsNotFound, IsSyntaxError) tell why a path failed.
package expr

// Env is what an expression can see.
type Env struct {
	Input   any            // "$"
	Context any            // "$$" (the context object)
	Vars    map[string]any // "$name" variables (JSONPath states referencing Assign'ed variables)
	Rand    Rand           // source for States.UUID / States.MathRandom without a seed

	// Lazy, when set, supplies the context object and the variables on first use
	// wherever Context or Vars is nil: the caller builds them only for an expression
	// that refers to "$$" or to a variable.
	Lazy LazyEnv

	// Limits bound an intrinsic function call (zero fields: DefaultLimits).
	Limits Limits
	budget *budget // one evaluation's, set by EvalIntrinsic
}

// LazyEnv builds the context object and the variables of an Env on demand.
type LazyEnv interface {
	Context() any
	Vars() map[string]any
}

// context is the context object ("$$") of env.
func (env Env) context() any {
	if env.Context == nil && env.Lazy != nil {
		return env.Lazy.Context()
	}
	return env.Context
}

// vars are the variables of env.
func (env Env) vars() map[string]any {
	if env.Vars == nil && env.Lazy != nil {
		return env.Lazy.Vars()
	}
	return env.Vars
}

// Rand is a deterministic source of randomness supplied by the decider.
type Rand interface {
	Uint64() uint64
}
