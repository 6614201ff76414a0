package evaluator

// sfnd: bounds on the memory one evaluation produces (see SFND.md at the module root).

import "encoding/json"

// Meter is implemented by the context.Context an evaluation runs with when the caller
// bounds the memory it may produce. Charge accounts for about n bytes the evaluation is
// about to produce and returns an error (which ends the evaluation) once the total is
// over the caller's budget; Left is what remains of that budget.
type Meter interface {
	Charge(n int) error
	Left() int
}

// itemSize is what one array item or map entry is charged.
const itemSize = 16

func meterOf(env *Environment) Meter {
	if env == nil {
		return nil
	}
	m, _ := env.Context().(Meter)
	return m
}

// charge accounts for n bytes with the evaluation's meter, if it has one.
func charge(env *Environment, n int) error {
	if m := meterOf(env); m != nil {
		return m.Charge(n)
	}
	return nil
}

// ChargeText is chargeText for the standard library.
func ChargeText(env *Environment, v any) error { return chargeText(env, v) }

// chargeText accounts for the text of v (a string, or the JSON of any other value)
// before it is produced. The JSON's size is measured without producing it and
// without walking further than the budget left.
func chargeText(env *Environment, v any) error {
	m := meterOf(env)
	if m == nil {
		return nil
	}
	if s, ok := v.(string); ok {
		return m.Charge(len(s))
	}
	return m.Charge(textSize(v, m.Left()))
}

// textSize is about the size of v's JSON text, or a number over limit once it is
// known to be over limit.
func textSize(v any, limit int) int {
	n := 0
	var walk func(v any) bool
	walk = func(v any) bool {
		if n > limit {
			return false
		}
		switch t := v.(type) {
		case string:
			n += len(t) + 2
		case json.Number:
			n += len(t)
		case []any:
			n += 2 + len(t)
			for _, e := range t {
				if !walk(e) {
					return false
				}
			}
		case *Sequence:
			n += 2 + len(t.Values)
			for _, e := range t.Values {
				if !walk(e) {
					return false
				}
			}
		case *OrderedMap:
			n += 2
			t.Range(func(k string, e any) bool {
				n += len(k) + 4
				return walk(e)
			})
		case map[string]any:
			n += 2
			for k, e := range t {
				n += len(k) + 4
				if !walk(e) {
					return false
				}
			}
		default:
			n += 8
		}
		return n <= limit
	}
	walk(v)
	return n
}

// shallowSize is what producing v costs at least: its text, or one item per element.
func shallowSize(v any) int {
	switch t := v.(type) {
	case string:
		return len(t)
	case []any:
		return itemSize * len(t)
	case *Sequence:
		return itemSize * len(t.Values)
	case *OrderedMap:
		return itemSize * t.Len()
	case map[string]any:
		return itemSize * len(t)
	}
	return 0
}

// argsSize is what a built-in function call is charged before it runs: the strings
// and items of its arguments, one level deep (what $join, $append, $zip and their
// kind can turn into new text or new arrays).
func argsSize(args []any) int {
	n := 0
	for _, a := range args {
		n += shallowSize(a)
		arr, ok := a.([]any)
		if seq, isSeq := a.(*Sequence); isSeq {
			arr, ok = seq.Values, true
		}
		if ok {
			for _, e := range arr {
				if s, ok := e.(string); ok {
					n += len(s)
				}
			}
		}
	}
	return n
}

// chargeWork accounts for an operation whose work grows with the size of its
// non-scalar operands (deep comparison, flattening, merging): their text size, as for
// text produced, so that repeating it on large values exhausts the budget.
func chargeWork(env *Environment, vals ...any) error {
	m := meterOf(env)
	if m == nil {
		return nil
	}
	for _, v := range vals {
		switch v.(type) {
		case []any, *Sequence, *OrderedMap, map[string]any:
			if err := m.Charge(textSize(v, m.Left())); err != nil {
				return err
			}
		}
	}
	return nil
}

// ChargeWork is chargeWork for the standard library.
func ChargeWork(env *Environment, vals ...any) error { return chargeWork(env, vals...) }
