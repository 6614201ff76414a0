package expr

import (
	"strings"
	"testing"
	"time"
)

var fuzzInput = MustParseJSON(`{"a":{"b":[1,2,{"c":"d"}],"n":3.5,"s":"x,y,z"},"list":[3,1,2],"t":true}`)

// FuzzJSONPath evaluates any path (and any ResultPath) over a fixed input: an error,
// never a panic.
func FuzzJSONPath(f *testing.F) {
	for _, s := range []string{"$", "$.a.b[2].c", "$..b", "$.list[?(@ > 1)]", "$[?(@ == @)]", "$.a.b[?(@ == @[?(@.c)])]", "$.a.b[-1:]", "$.a['s']", "$$.Execution.Id", "$v.x", "$.a.b[*]", "$.list.length()"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		env := Env{Input: fuzzInput, Context: ObjectOf("Execution", ObjectOf("Id", "x")), Vars: map[string]any{"v": ObjectOf("x", 1)}}
		_, _ = Query(path, env)
		_, _, _ = Lookup(path, env)
		p := path
		_, _ = ApplyResultPath(fuzzInput, &p, "r")
	})
}

type fuzzRand struct{ n uint64 }

func (r *fuzzRand) Uint64() uint64 { r.n = r.n*6364136223846793005 + 1442695040888963407; return r.n }

// FuzzIntrinsic parses and evaluates any intrinsic function call: an error, never a
// panic, and bounded (the functions cap what they produce).
func FuzzIntrinsic(f *testing.F) {
	for _, s := range []string{
		"States.Format('{} and {}', $.a.s, $.a.n)", "States.StringToJson('{\"x\":1}')", "States.JsonToString($.a)",
		"States.Array(1, $.t, 'x')", "States.ArrayPartition($.list, 2)", "States.ArrayContains($.list, 3)",
		"States.ArrayRange(1, 9, 2)", "States.ArrayGetItem($.list, 1)", "States.ArrayLength($.list)", "States.ArrayUnique($.list)",
		"States.Base64Encode('abc')", "States.Base64Decode('YWJj')", "States.Hash('x', 'SHA-256')", "States.JsonMerge($.a, $.a, false)",
		"States.MathRandom(1, 9)", "States.MathAdd(1, -2)", "States.StringSplit($.a.s, ',')", "States.UUID()",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ParseIntrinsic(s) != nil {
			return
		}
		env := Env{Input: fuzzInput, Context: NewObject(0), Vars: map[string]any{}, Rand: &fuzzRand{}}
		_, _ = EvalIntrinsic(s, env)
	})
}

// FuzzJSONata parses any JSONata expression and evaluates it against a fixed $states:
// an error, never a panic. Expressions with a range operator ("..") are only parsed:
// evaluation is not yet bounded in size (issue 10, item 8).
func FuzzJSONata(f *testing.F) {
	for _, s := range []string{
		"{% $states.input.a.b[2].c %}", "{% $count($states.input.list) %}", "{% $sum($states.input.list) * 2 %}",
		"{% $states.input.a.s ~> $split(',') %}", "{% $map($states.input.list, function($v){ $v + 1 }) %}",
		"{% $states.input.t ? 'yes' : 'no' %}", "{% $string($states.input) %}", "{% $now() %}", "{% $uuid() %}",
		"{% $states.input.list[$ > 1] %}", "{% {'k': $states.input.a.n} %}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !IsJSONata(s) || CheckJSONata(s) != nil || strings.Contains(s, "..") {
			return
		}
		env := JSONataEnv{States: ObjectOf("input", fuzzInput), Vars: map[string]any{}, Rand: &fuzzRand{}, Now: time.Unix(0, 0)}
		_, _ = EvalJSONata(s, "Output", env)
	})
}
