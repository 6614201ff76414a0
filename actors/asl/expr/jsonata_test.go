package expr

import (
	"testing"
	"time"
)

type fixedRand uint64

func (f *fixedRand) Uint64() uint64 { *f += 0x9e3779b97f4a7c15; return uint64(*f) }

func TestEvalJSONata(t *testing.T) {
	in := MustParseJSON(`{"a":{"z":1,"b":[1,2,3]},"s":"x"}`)
	st := NewObject(2)
	st.Set("input", in)
	r := fixedRand(1)
	env := JSONataEnv{States: st, Vars: map[string]any{"v": MustParseJSON(`{"k":"val"}`)}, Rand: &r, Now: time.Unix(0, 0)}
	cases := []struct{ expr, want string }{
		{`{% $states.input.a %}`, `{"z":1,"b":[1,2,3]}`},
		{`{% $sum($states.input.a.b) + 1 %}`, `7`},
		{`{% $v.k %}`, `"val"`},
		{`{% $range(1, 9, 9) %}`, `1`},
		{`{% $range(0, 10, 3) %}`, `[0,3,6,9]`},
		{`{% $partition([0,1,2], 2) %}`, `[[0,1],[2]]`},
		{`{% $partition([0], 1) %}`, `[[0]]`},
		{`{% $parse('{"b":1,"a":2}') %}`, `{"b":1,"a":2}`},
		{`{% $hash('a', 'SHA-256') %}`, `"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"`},
		{`{% 0.1 + 0.2 %}`, `0.30000000000000004`},
		{`{% $states.input.a.b[0] %}`, `1`},
		{`{% [1, 'two', 3] %}`, `[1,"two",3]`},
		{`{% $contains('hello$world', /^hello\$/) %}`, `true`},
		{`{% null %}`, `null`},
	}
	for _, c := range cases {
		v, err := EvalJSONata(c.expr, "Output", env)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := Marshal(v); got != c.want {
			t.Errorf("%s = %s, want %s", c.expr, got, c.want)
		}
	}
	errs := []struct{ expr, cause string }{
		{`{% $nope %}`, `The JSONata expression '$nope' specified for the field 'Output' returned nothing (undefined).`},
		{`{% $fn := function($x){$x} %}`, `The JSONata expression '$fn := function($x){$x}' specified for the field 'Output' returned an unsupported result type.`},
	}
	for _, c := range errs {
		_, err := EvalJSONata(c.expr, "Output", env)
		e := AsError(err)
		if e == nil || e.Name != ErrNameQueryEvaluation || e.Cause != c.cause {
			t.Errorf("%s: got %v", c.expr, err)
		}
	}
	u1, _ := EvalJSONata(`{% $uuid() %}`, "Output", env)
	u2, _ := EvalJSONata(`{% $uuid() %}`, "Output", env)
	if u1 == u2 || len(u1.(string)) != 36 {
		t.Errorf("uuid: %v %v", u1, u2)
	}
	tmpl := MustParseJSON(`{"x":"{% $states.input.s %}","y":[1,"{% 2 %}"],"z":" {% 1 %} "}`)
	v, err := EvalJSONataTemplate(tmpl, "Output", env)
	if err != nil || Marshal(v) != `{"x":"x","y":[1,2],"z":" {% 1 %} "}` {
		t.Errorf("template: %s %v", Marshal(v), err)
	}
	_, err = EvalJSONataTemplate(MustParseJSON(`{"result":"{% $nope %}"}`), "Assign", env)
	if e := AsError(err); e == nil || e.Location != "Assign/result" {
		t.Errorf("location: %v", err)
	}
}
