package expr

import (
	"regexp"
	"testing"
)

func TestMarshal(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"b":1,"a":[true,false,null],"c":{}}`, `{"b":1,"a":[true,false,null],"c":{}}`},
		{`{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`},
		{`"<a href=\"x\">&amp;</a> / \u2028 é 🆗"`, "\"<a href=\\\"x\\\">&amp;</a> / \u2028 é 🆗\""},
		{`"tab\tnl\ncr\rbs\bff\f\u0001\u001f"`, `"tab\tnl\ncr\rbs\bff\f\u0001\u001F"`},
		{`[1, -0, 1.0, 1.10, 1e2, 1.5e300, 12345678.9, 0.0001, 0.001, -2.5E-3, 123456789012345678901234567890]`,
			`[1,0,1.0,1.1,100.0,1.5E300,1.23456789E7,1.0E-4,0.001,-0.0025,123456789012345678901234567890]`},
	} {
		v, err := ParseJSON(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if got := Marshal(v); got != tc.want {
			t.Errorf("Marshal(%s)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	if got := Marshal(map[string]any{"b": 1.5, "a": []string{"x"}}); got != `{"a":["x"],"b":1.5}` {
		t.Errorf("Marshal(Go map) = %s", got)
	}
	for _, bad := range []string{``, `{`, `{"a":1} x`, `[1,]`} {
		if _, err := ParseJSON(bad); err == nil {
			t.Errorf("ParseJSON(%q) succeeded", bad)
		}
	}
}

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		eq   bool
	}{
		{`{"a":1,"b":[1,2]}`, `{"b":[1,2],"a":1}`, true},
		{`1`, `1.0`, false},
		{`1.0`, `1.00`, true},
		{`[1,2]`, `[2,1]`, false},
		{`null`, `{}`, false},
		{`"1"`, `1`, false},
	} {
		if got := Equal(MustParseJSON(tc.a), MustParseJSON(tc.b)); got != tc.eq {
			t.Errorf("Equal(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}

var testInput = MustParseJSON(`{"store":{"book":[
 {"category":"ref","author":"Rees","price":8.95},
 {"category":"fiction","author":"Waugh","price":12.99,"isbn":"x"},
 {"category":"fiction","author":"Tolkien","price":22.99,"isbn":"y"}],
 "bicycle":{"color":"red","price":19.95}},
 "a-b":1, "Test\\\"\"Name\"":"v", "n":null, "s":"str"}`)

func TestQuery(t *testing.T) {
	env := Env{
		Input:   testInput,
		Context: MustParseJSON(`{"Execution":{"Input":{"x":1},"Name":"e-1"}}`),
		Vars:    map[string]any{"v": MustParseJSON(`{"k":[10,20,30]}`), "s": "hi"},
	}
	for _, tc := range []struct{ path, want string }{
		{`$`, Marshal(testInput)},
		{`$.store.bicycle`, `{"color":"red","price":19.95}`},
		{`$.store.book[0].author`, `"Rees"`},
		{`$.store.book[-1].author`, `"Tolkien"`},
		{`$['store']["bicycle"]['color']`, `"red"`},
		{`$.a-b`, `1`},
		{`$['Test\""Name"']`, `"v"`},
		{`$.n`, `null`},
		{`$.store.book[*].author`, `["Rees","Waugh","Tolkien"]`},
		{`$.store.book[1:].price`, `[12.99,22.99]`},
		{`$.store.book[:-1].price`, `[8.95,12.99]`},
		{`$.store.book[0:3:2].price`, `[8.95,22.99]`},
		{`$.store.book[0,2].author`, `["Rees","Tolkien"]`},
		{`$.store.book[?(@.price > 10)].author`, `["Waugh","Tolkien"]`},
		{`$.store.book[?(@.isbn)].isbn`, `["x","y"]`},
		{`$.store.book[?(@.category == 'ref')]`, `[{"category":"ref","author":"Rees","price":8.95}]`},
		{`$..price`, `[8.95,12.99,22.99,19.95]`},
		{`$.store.*.color`, `["red"]`},
		{`$.store.bicycle['color','price']`, `["red",19.95]`},
		{`$.nothing[*]`, `[]`},
		{`$.store.book[5:]`, `[]`},
		{`$$`, `{"Execution":{"Input":{"x":1},"Name":"e-1"}}`},
		{`$$.Execution.Input.x`, `1`},
		{`$v`, `{"k":[10,20,30]}`},
		{`$v.k[1]`, `20`},
		{`$v.k[1:]`, `[20,30]`},
		{`$s`, `"hi"`},
	} {
		got, err := Query(tc.path, env)
		if err != nil {
			t.Errorf("Query(%s): %v", tc.path, err)
			continue
		}
		if Marshal(got) != tc.want {
			t.Errorf("Query(%s) = %s, want %s", tc.path, Marshal(got), tc.want)
		}
	}
	for _, tc := range []struct {
		path, cause string
		notFound    bool
	}{
		{`$.nope`, `Invalid path '$.nope' : No results for path: $['nope']`, true},
		{`$.store.nope.x`, `Invalid path '$.store.nope.x' : Missing property in path $['store']['nope']`, true},
		{`$.store.book[7]`, `Invalid path '$.store.book[7]' : No results for path: $['store']['book'][7]`, true},
		{`$.s.x`, `Invalid path '$.s.x' : Expected to find an object with property ['x'] in path $['s'] but found 'com.fasterxml.jackson.databind.node.TextNode'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'.`, true},
		{`$undefinedVar`, `Invalid path '$undefinedVar' : No results for variable: $undefinedVar`, true},
		{`$.`, ``, false},
		{`$.a[`, ``, false},
		{`x`, ``, false},
	} {
		_, err := Query(tc.path, env)
		e := AsError(err)
		if e == nil {
			t.Errorf("Query(%s): no *Error (%v)", tc.path, err)
			continue
		}
		if e.Name != ErrNameRuntime || (tc.cause != "" && e.Cause != tc.cause) {
			t.Errorf("Query(%s) error = %s: %s\n want cause %s", tc.path, e.Name, e.Cause, tc.cause)
		}
		if IsNotFound(err) != tc.notFound || IsSyntaxError(err) == tc.notFound {
			t.Errorf("Query(%s): IsNotFound=%v IsSyntaxError=%v", tc.path, IsNotFound(err), IsSyntaxError(err))
		}
	}
	if _, found, err := Lookup(`$.nope`, env); found || err != nil {
		t.Errorf("Lookup miss = %v, %v", found, err)
	}
	if !IsReferencePath(`$.a.b[0]`) || IsReferencePath(`$.a[*]`) || IsReferencePath(`$..a`) || !IsPath(`$..a`) || IsPath(`$.`) {
		t.Error("IsReferencePath/IsPath")
	}
	if VarName(`$myVar.x[0]`) != "myVar" || VarName(`$.x`) != "" || VarName(`$$.x`) != "" {
		t.Error("VarName")
	}
}

func ptr(s string) *string { return &s }

func TestApplyResultPath(t *testing.T) {
	in := MustParseJSON(`{"b":1,"a":{"x":[1,2]}}`)
	res := MustParseJSON(`{"r":true}`)
	for _, tc := range []struct {
		rp   *string
		want string
	}{
		{nil, `{"r":true}`},
		{ptr("$"), `{"r":true}`},
		{ptr("$.c"), `{"b":1,"a":{"x":[1,2]},"c":{"r":true}}`},
		{ptr("$.b"), `{"b":{"r":true},"a":{"x":[1,2]}}`},
		{ptr("$.a.new.deep"), `{"b":1,"a":{"x":[1,2],"new":{"deep":{"r":true}}}}`},
		{ptr("$.a.x[1]"), `{"b":1,"a":{"x":[1,{"r":true}]}}`},
		{ptr("$['q']"), `{"b":1,"a":{"x":[1,2]},"q":{"r":true}}`},
	} {
		got, err := ApplyResultPath(in, tc.rp, res)
		if err != nil {
			t.Fatalf("%v: %v", tc.rp, err)
		}
		if Marshal(got) != tc.want {
			t.Errorf("ResultPath %v = %s, want %s", *ptrOr(tc.rp), Marshal(got), tc.want)
		}
	}
	if Marshal(in) != `{"b":1,"a":{"x":[1,2]}}` {
		t.Fatalf("input modified: %s", Marshal(in))
	}
	for _, rp := range []string{"$.b.c", "$.a.x[5]", "$.a.x.y"} {
		_, err := ApplyResultPath(in, &rp, res)
		if e := AsError(err); e == nil || e.Name != ErrNameResultPathMatchFailure {
			t.Errorf("ResultPath %s: %v", rp, err)
		}
	}
	_, err := ApplyResultPath(MustParseJSON(`"str"`), ptr("$.x"), res)
	if e := AsError(err); e == nil || e.Cause != `Unable to apply ResultPath "$.x" to input "str"` {
		t.Errorf("string input: %v", err)
	}
	for _, rp := range []string{"$.a[*]", "$$.x", "$..a"} {
		if _, err := ApplyResultPath(in, &rp, res); err == nil {
			t.Errorf("ResultPath %s accepted", rp)
		}
	}
}

func ptrOr(p *string) *string {
	if p == nil {
		return ptr("<nil>")
	}
	return p
}

func TestEvalTemplate(t *testing.T) {
	env := Env{Input: MustParseJSON(`{"x":{"y":[1,2]},"name":"Ann"}`), Vars: map[string]any{"v": "var"}}
	tmpl := MustParseJSON(`{"z.$":"$.x.y","const":"$.x","nested":{"n.$":"$v","arr":[{"a.$":"$.name"},"lit"]},
		"f.$":"States.Format('{} is {}', $.name, $.x)","a":1}`)
	got, err := EvalTemplate(tmpl, env)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"z":[1,2],"const":"$.x","nested":{"n":"var","arr":[{"a":"Ann"},"lit"]},"f":"Ann is {y=[1, 2]}","a":1}`
	if Marshal(got) != want {
		t.Errorf("got  %s\nwant %s", Marshal(got), want)
	}
	_, err = EvalTemplate(MustParseJSON(`{"p":{"v.$":"$.missing"}}`), env)
	e := AsError(err)
	if e == nil || e.Name != ErrNameRuntime || e.Cause != `The JSONPath '$.missing' specified for the field 'v.$' could not be found in the input '{"x":{"y":[1,2]},"name":"Ann"}'` {
		t.Errorf("missing path: %v", err)
	}
	_, err = EvalTemplate(MustParseJSON(`{"v.$":"States.Array($.missing)"}`), env)
	if e := AsError(err); e == nil || !IsNotFound(err) || e.Cause != `The JSONPath '$.missing' specified for the field 'v.$' could not be found in the input '{"x":{"y":[1,2]},"name":"Ann"}'` {
		t.Errorf("missing path in intrinsic: %v", err)
	}
}

type seqRand struct{ n uint64 }

func (r *seqRand) Uint64() uint64 { r.n = r.n*6364136223846793005 + 1442695040888963407; return r.n }

func TestIntrinsics(t *testing.T) {
	env := Env{
		Input: MustParseJSON(`{"a":[1,2,3,4,5],"s":"a,b,,c","o1":{"a":1,"b":2},"o2":{"b":3,"c":4},"tmpl":"x={}","n":null,"f":1.5}`),
		Rand:  &seqRand{},
	}
	for _, tc := range []struct{ expr, want string }{
		{`States.Format('a\{\}b{}c\\d\'e', 1)`, `"a{}b1c\\d'e"`},
		{`States.Format($.tmpl, $.n)`, `"x=null"`},
		{`States.Format('{}{}', $.a, $.f)`, `"[1, 2, 3, 4, 5]1.5"`},
		{`States.StringToJson('{"k": [1, 2.50]}')`, `{"k":[1,2.5]}`},
		{`States.StringToJson('  ')`, `null`},
		{`States.JsonToString($.o1)`, `"{\"a\":1,\"b\":2}"`},
		{`States.Array(1, 'two', true, null, $.o1, States.Array())`, `[1,"two",true,null,{"a":1,"b":2},[]]`},
		{`States.ArrayPartition($.a, 2)`, `[[1,2],[3,4],[5]]`},
		{`States.ArrayPartition(States.Array(), 2)`, `[]`},
		{`States.ArrayContains($.a, 3)`, `true`},
		{`States.ArrayContains($.a, 3.0)`, `false`},
		{`States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{`States.ArrayRange(5, 1, -2)`, `[5,3,1]`},
		{`States.ArrayRange(1, 0, 1)`, `[]`},
		{`States.ArrayGetItem($.a, 4)`, `5`},
		{`States.ArrayLength($.a)`, `5`},
		{`States.ArrayUnique(States.Array(1, 2, 1, 'x', 'x', $.o1, $.o1))`, `[1,2,"x",{"a":1,"b":2}]`},
		{`States.Base64Encode('Data to encode')`, `"RGF0YSB0byBlbmNvZGU="`},
		{`States.Base64Decode('RGF0YSB0byBlbmNvZGU=')`, `"Data to encode"`},
		{`States.Hash('input data', 'SHA-1')`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{`States.JsonMerge($.o1, $.o2, false)`, `{"a":1,"b":3,"c":4}`},
		{`States.MathAdd(-1.5, 2.5)`, `2`},
		{`States.MathAdd(States.ArrayLength($.a), -1)`, `4`},
		{`States.StringSplit($.s, ',')`, `["a","b","c"]`},
		{`States.MathRandom(0, 10, 42)`, `0`},   // java.util.Random(42).nextInt(10) == 0
		{`States.MathRandom(5, 15.4, 42)`, `5`}, // bounds rounded half up
	} {
		got, err := EvalIntrinsic(tc.expr, env)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if Marshal(got) != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, Marshal(got), tc.want)
		}
	}

	// Randomness comes from Env.Rand only: same source, same values.
	u1, _ := EvalIntrinsic(`States.UUID()`, Env{Rand: &seqRand{n: 7}})
	u2, _ := EvalIntrinsic(`States.UUID()`, Env{Rand: &seqRand{n: 7}})
	u3, _ := EvalIntrinsic(`States.UUID()`, Env{Rand: &seqRand{n: 8}})
	if u1 != u2 || u1 == u3 || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u1.(string)) {
		t.Errorf("UUID: %v %v %v", u1, u2, u3)
	}
	for i := 0; i < 50; i++ {
		r, err := EvalIntrinsic(`States.MathRandom(-5, 5)`, env)
		n, _ := intArg(r)
		if err != nil || n < -5 || n >= 5 {
			t.Fatalf("MathRandom = %v, %v", r, err)
		}
	}

	for _, expr := range []string{
		`States.Format('{} {}', 1)`,
		`States.StringToJson('{bad')`,
		`States.ArrayRange(0, 1000, 1)`,
		`States.ArrayRange(0, 10, 0)`,
		`States.ArrayGetItem($.a, 5)`,
		`States.ArrayGetItem($.a, -1)`,
		`States.ArrayLength($.s)`,
		`States.Hash('x', 'SHA-999')`,
		`States.JsonMerge($.o1, $.o2, true)`,
		`States.MathAdd('1', 2)`,
		`States.MathRandom(5, 5)`,
		`States.Base64Decode('***')`,
		`States.ArrayPartition($.a, 0)`,
		`States.UUID(1)`,
	} {
		_, err := EvalIntrinsic(expr, env)
		if e := AsError(err); e == nil || e.Name != ErrNameIntrinsicFailure {
			t.Errorf("%s: want States.IntrinsicFailure, got %v", expr, err)
		}
	}
	if v, err := EvalIntrinsic(`States.ArrayRange(1, 1000, 1)`, env); err != nil || len(v.([]any)) != 1000 {
		t.Errorf("ArrayRange 1000 items: %v", err)
	}
}

func TestParseIntrinsic(t *testing.T) {
	for _, ok := range []string{
		`States.UUID()`,
		` States.Format( 'a' , $.x ) `,
		`States.Format('He said, \'Hello, {}!\'', 'x')`,
		`States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))`,
		`States.Array($.a[?(@.x == 1)], $['a,b'], $var.x, -1.5e3, true, false, null)`,
		"States.StringSplit('Hello\nWorld', '\n')",
	} {
		if err := ParseIntrinsic(ok); err != nil {
			t.Errorf("ParseIntrinsic(%s): %v", ok, err)
		}
	}
	for _, bad := range []string{
		`States.Format('He said, \"Hello, {}!\"', 'Test \"Name\" Here')`, // corpus: illegal escape
		`States.Nope(1)`,
		`States.Format('x'`,
		`States.Format('x') trailing`,
		`States.Array(1,)`,
		`States.Array(tru)`,
		`States.Array($.)`,
		`$.x`,
		`States.Array('unterminated)`,
	} {
		if err := ParseIntrinsic(bad); err == nil || !IsSyntaxError(err) {
			t.Errorf("ParseIntrinsic(%s) = %v, want a syntax error", bad, err)
		}
	}
}

func TestJavaRandom(t *testing.T) {
	// Known values of java.util.Random(42).
	if got := newJavaRandom(42).next(32); got != -1170105035 {
		t.Errorf("nextInt() = %d", got)
	}
	if got := newJavaRandom(42).nextInt(10); got != 0 {
		t.Errorf("nextInt(10) = %d", got)
	}
}

func TestJavaDouble(t *testing.T) {
	for f, want := range map[float64]string{
		0.1: "0.1", 100: "100.0", 1e7: "1.0E7", 9999999.5: "9999999.5", 0.001: "0.001",
		0.00099: "9.9E-4", -1.5e-10: "-1.5E-10", 1.7976931348623157e308: "1.7976931348623157E308",
	} {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %s, want %s", f, got, want)
		}
	}
}

// TestTemplateKeyOrder mirrors test_map_state_config_inline_item_selector: AWS printed the
// Map output array verbatim as
// [{"constantValue":"constant","mapValue":"Hello","fromInput":["Hello","World"]},...],
// i.e. in the template's key order.
func TestTemplateKeyOrder(t *testing.T) {
	def := MustParseJSON(`{"constantValue": "constant", "mapValue.$": "$$.Map.Item.Value", "fromInput.$": "$"}`)
	input := MustParseJSON(`["Hello", "World"]`)
	var out []any
	for i, item := range input.([]any) {
		ctx := ObjectOf("Map", ObjectOf("Item", ObjectOf("Index", i, "Value", item)))
		v, err := EvalTemplate(def, Env{Input: input, Context: ctx})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	want := `[{"constantValue":"constant","mapValue":"Hello","fromInput":["Hello","World"]},{"constantValue":"constant","mapValue":"World","fromInput":["Hello","World"]}]`
	if got := Marshal(out); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestFilterComparisonsOjgDoesNotDefine runs filters whose scripts make ojg panic (an
// object or array compared with ==, a nested filter on null): the node is not selected,
// the path still answers, nothing panics. FuzzSharedGrammar found the first of them.
func TestFilterComparisonsOjgDoesNotDefine(t *testing.T) {
	in := MustParseJSON(`{"a":{"b":1},"l":[{"k":1},[1,2],null,3,{"k":{"x":1}}]}`)
	for path, want := range map[string]string{
		"$[?(@ == @)]":               `[]`,
		"$.l[?(@ == @)]":             `[null,3]`,
		"$.l[?(@.k == @.k)]":         `[{"k":1},[1,2],null,3]`,
		"$.l[?(@ == @[?(@.k)])]":     `[]`,
		"$.l[?(!(@ == @))]":          `[]`,
		"$.l[?(@.k == 1 || @ == @)]": `[null,3]`, // the whole script fails on an object
	} {
		got, err := Query(path, Env{Input: in})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if s := Marshal(got); s != want {
			t.Errorf("%s = %s, want %s", path, s, want)
		}
	}
}
