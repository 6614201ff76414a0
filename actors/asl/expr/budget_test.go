package expr

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfnd/sfnd/test/hostile"
)

// hostileJSONata are expressions that would run for minutes or take gigabytes without
// limits: each must fail with States.QueryEvaluationError, within hostile's limits.
var hostileJSONata = []string{
	// Issue 10: past 30 s and 3.7 GB before the limits.
	`$count([1..10000000].([1..5]))`,
	`$count([1..9999999])`,
	`[[1..9999999],[1..9999999],[1..9999999],[1..9999999],[1..9999999]]`,
	// Text doubling: 2^40 bytes in 40 calls.
	`($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f("xx", 40)))`,
	// Array doubling through $append.
	`($f := function($a, $n){ $n = 0 ? $a : $f($append($a, $a), $n - 1) }; $count($f([1,2], 40)))`,
	// Flattening many references to one large array.
	`($a := [1..100000]; $count($flatten($map([1..100000], function($x){ $a }))))`,
	// $string and $join of many references to one large value.
	`($a := [1..100000]; $length($string($map([1..1000], function($x){ $a }))))`,
	`($s := $join([1..100000].$string()); $length($join($map([1..10000], function($x){ $s }))))`,
	`($a := [1..100000]; $length("x" & $map([1..1000], function($x){ $a })))`,
	// Steps: a loop that produces nothing large.
	`$count([1..5000000].($ * 2)[$ > 3])`,
	`$reduce([1..3000000], function($a, $b){ $a + $b })`,
	// Tail recursion (gnata allows 1,000,000 iterations).
	`($f := function($n){ $n = 0 ? 0 : $f($n - 1) }; $f(900000))`,
	// Sorting a large array with a comparator.
	`$count($sort([1..2000000], function($a, $b){ $a < $b }))`,
}

func TestJSONataLimits(t *testing.T) {
	st := NewObject(1)
	st.Set("input", NewObject(0))
	env := JSONataEnv{States: st, Now: time.Unix(0, 0)}
	for _, src := range hostileJSONata {
		var err error
		wall, cpu := hostile.Cost(func() { _, err = EvalJSONata("{% "+src+" %}", "Output", env) })
		t.Logf("%v (CPU %v): %s", wall, cpu, src)
		if why := hostile.TooCostly(wall, cpu); why != "" {
			t.Errorf("%s: %s", src, why)
		}
		e := AsError(err)
		if e == nil || e.Name != ErrNameQueryEvaluation || !strings.Contains(e.Cause, "exceeded its limit") {
			t.Errorf("%s: got %v", src, err)
		}
	}
}

// TestJSONataLimitsAreDeterministic checks that an evaluation over its limits fails in
// the same words every time (a replay re-decides it), and that the limits passed in
// are the ones applied.
func TestJSONataLimitsAreDeterministic(t *testing.T) {
	st := NewObject(1)
	st.Set("input", NewObject(0))
	env := JSONataEnv{States: st, Limits: Limits{Steps: 1000, Bytes: 1 << 20}}
	var first string
	for i := 0; i < 3; i++ {
		_, err := EvalJSONata("{% $count([1..400].($ + 1)) %}", "Output", env)
		e := AsError(err)
		if e == nil {
			t.Fatalf("no error")
		}
		if i == 0 {
			first = e.Cause
		} else if e.Cause != first {
			t.Errorf("cause %q, then %q", first, e.Cause)
		}
	}
	if !strings.Contains(first, "limit of 1000 steps") {
		t.Errorf("cause %q", first)
	}
	// Within the limits the same expression evaluates.
	env.Limits = Limits{}
	if v, err := EvalJSONata("{% $count([1..400].($ + 1)) %}", "Output", env); err != nil || Marshal(v) != "400" {
		t.Errorf("got %v, %v", v, err)
	}
	env.Limits = Limits{Bytes: 1000}
	_, err := EvalJSONata("{% $join([1..100].$string(), 'abc') %}", "Output", env)
	if e := AsError(err); e == nil || !strings.Contains(e.Cause, "limit of 1000 bytes") {
		t.Errorf("got %v", err)
	}
}

// TestJSONataWithinLimits evaluates large but reasonable expressions: the limits must
// not refuse what real definitions do with inputs of up to 256 KiB.
func TestJSONataWithinLimits(t *testing.T) {
	in, err := ParseJSON(hostile.Realistic(250000))
	if err != nil {
		t.Fatal(err)
	}
	st := NewObject(1)
	st.Set("input", in)
	env := JSONataEnv{States: st}
	for src, want := range map[string]string{
		`$count($states.input.items)`: "",
		`$count($states.input.items[active].{"id": id, "total": price * 2, "tags": $join(tags, ",")})`: "",
		`$sum($states.input.items.dims.w) > 0`:                                                         "true",
		`$count($distinct($states.input.items.dims.unit))`:                                             "1",
		`$count([1..100000])`: "100000",
		`$length($join($states.input.items.name, ";")) > 1000`:                        "true",
		`$count($sort($states.input.items, function($a, $b){ $a.price > $b.price }))`: "",
	} {
		v, err := EvalJSONata("{% "+src+" %}", "Output", env)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got := Marshal(v); want != "" && got != want {
			t.Errorf("%s = %s, want %s", src, got, want)
		}
	}
}

// TestIntrinsicLimits checks intrinsic calls that would be quadratic or produce
// gigabytes: each answers within hostile's limits, with States.IntrinsicFailure when it
// is over the limits.
func TestIntrinsicLimits(t *testing.T) {
	big, err := ParseJSON(hostile.Realistic(250000))
	if err != nil {
		t.Fatal(err)
	}
	ints := make([]any, 80000)
	for i := range ints {
		ints[i] = MustParseJSON(strconv.Itoa(i))
	}
	in := NewObject(2)
	in.Set("big", big)
	in.Set("ints", ints)
	env := Env{Input: in}
	many := func(fn, arg string, n int) string {
		return fn + "(" + strings.Repeat(arg+", ", n-1) + arg + ")"
	}
	format := "States.Format('" + strings.Repeat("{}", 2000) + "', " + strings.Repeat("$.big, ", 1999) + "$.big)"
	for _, c := range []struct {
		expr string
		fail bool
	}{
		{"States.ArrayLength(States.ArrayUnique($.ints))", false},
		{"States.ArrayLength(States.ArrayUnique(States.Array(" + strings.Repeat("$.big, ", 999) + "$.big)))", true},
		{"States.ArrayContains(States.Array(" + strings.Repeat("$.big, ", 999) + "$.big), $.ints)", true},
		{format, true},
		{"States.JsonToString(" + many("States.Array", "$.big", 2000) + ")", true},
		{"States.ArrayLength(States.ArrayPartition(" + many("States.Array", "$.ints", 2000) + ", 1))", true},
	} {
		var err error
		wall, cpu := hostile.Cost(func() { _, err = EvalIntrinsic(c.expr, env) })
		t.Logf("%v (CPU %v): %.80s", wall, cpu, c.expr)
		if why := hostile.TooCostly(wall, cpu); why != "" {
			t.Errorf("%.80s: %s", c.expr, why)
		}
		e := AsError(err)
		switch {
		case !c.fail && err != nil:
			t.Errorf("%.80s: %v", c.expr, err)
		case c.fail && (e == nil || e.Name != ErrNameIntrinsicFailure || !strings.Contains(e.Cause, "exceeded its limit")):
			t.Errorf("%.80s: got %v", c.expr, err)
		}
	}
	// ArrayUnique keeps the first of equal values (as Equal judges them), objects
	// whatever their member order.
	v, err := EvalIntrinsic(`States.ArrayUnique(States.StringToJson('[1, 1.0, "1", {"a":1,"b":2}, {"b":2,"a":1}, [1], [1.0], null, null]'))`, Env{})
	if err != nil || Marshal(v) != `[1,1.0,"1",{"a":1,"b":2},[1],[1.0],null]` {
		t.Errorf("ArrayUnique: %s, %v", Marshal(v), err)
	}
}
