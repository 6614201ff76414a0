package expr

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// corpusCase is one execution recorded on AWS (testdata/corpus_pass.json, extracted from
// the conformance corpus): a chain of Pass/Fail/Succeed states exercising InputPath,
// Parameters, intrinsic functions, ResultPath, OutputPath, ErrorPath and CausePath.
type corpusCase struct {
	Name       string            `json:"name"`
	Definition string            `json:"definition"`
	Input      string            `json:"input"`
	Outputs    []json.RawMessage `json:"outputs"` // a string (JSON text AWS printed) or {"json": "..."} (parsed, key-sorted)
	Fail       *struct {
		Error string `json:"error"`
		Cause string `json:"cause"`
	} `json:"fail"`
}

// runStates interprets the JSONPath data flow of Pass, Fail and Succeed states the way the
// decider does, with this package's functions.
func runStates(t *testing.T, def *Object, input any) (outputs []any, failErr, failCause string) {
	t.Helper()
	states, _ := def.Get("States")
	name, _ := def.Get("StartAt")
	ctx := ObjectOf("Execution", ObjectOf("Input", input))
	cur := input
	for steps := 0; steps < 20; steps++ {
		sv, _ := states.(*Object).Get(name.(string))
		st := sv.(*Object)
		typ, _ := st.Get("Type")
		env := Env{Input: cur, Context: ctx}
		optPath := func(field string) (*string, bool) {
			v, ok := st.Get(field)
			if !ok {
				return nil, false
			}
			if v == nil {
				return nil, true
			}
			s := v.(string)
			return &s, false
		}
		fail := func(err error) ([]any, string, string) {
			e := AsError(err)
			if e == nil {
				t.Fatalf("error without AWS name: %v", err)
			}
			return outputs, e.Name, e.Cause
		}
		switch typ {
		case "Fail":
			errV, _ := st.Get("Error")
			causeV, _ := st.Get("Cause")
			if p, ok := st.Get("ErrorPath"); ok {
				v, err := EvalPathField(p.(string), "ErrorPath", env)
				if err != nil {
					return fail(err)
				}
				errV = v
			}
			if p, ok := st.Get("CausePath"); ok {
				v, err := EvalPathField(p.(string), "CausePath", env)
				if err != nil {
					return fail(err)
				}
				causeV = v
			}
			es, _ := errV.(string)
			cs, _ := causeV.(string)
			return outputs, es, cs
		case "Pass", "Succeed":
			effective := cur
			p, isNull := optPath("InputPath")
			if isNull {
				effective = NewObject(0)
			} else {
				v, err := ApplyPath(p, env)
				if err != nil {
					return fail(err)
				}
				effective = v
			}
			result := effective
			if tmpl, ok := st.Get("Parameters"); ok {
				v, err := EvalTemplate(tmpl, Env{Input: effective, Context: ctx})
				if err != nil {
					return fail(err)
				}
				result = v
			}
			if r, ok := st.Get("Result"); ok {
				result = r
			}
			out := cur
			if rp, isNull := optPath("ResultPath"); !isNull {
				v, err := ApplyResultPath(cur, rp, result)
				if err != nil {
					return fail(err)
				}
				out = v
			}
			op, isNull := optPath("OutputPath")
			if isNull {
				out = NewObject(0)
			} else {
				v, err := ApplyPath(op, Env{Input: out, Context: ctx})
				if err != nil {
					return fail(err)
				}
				out = v
			}
			outputs = append(outputs, out)
			cur = out
			if next, ok := st.Get("Next"); ok {
				name = next
				continue
			}
			return outputs, "", ""
		default:
			t.Fatalf("unsupported state type %v", typ)
		}
	}
	t.Fatal("too many steps")
	return nil, "", ""
}

func TestCorpusPassStates(t *testing.T) {
	raw, err := os.ReadFile("testdata/corpus_pass.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("only %d corpus cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			def := MustParseJSON(c.Definition).(*Object)
			input := MustParseJSON(c.Input)
			outs, errName, cause := runStates(t, def, input)
			if len(outs) != len(c.Outputs) {
				t.Fatalf("got %d state outputs %v, want %d", len(outs), outs, len(c.Outputs))
			}
			for i, want := range c.Outputs {
				got := outs[i]
				var text string
				if json.Unmarshal(want, &text) == nil {
					if Marshal(got) != text {
						t.Errorf("output %d = %s, want %s", i, Marshal(got), text)
					}
					continue
				}
				var w struct{ JSON string }
				if err := json.Unmarshal(want, &w); err != nil {
					t.Fatal(err)
				}
				if !Equal(got, MustParseJSON(w.JSON)) {
					t.Errorf("output %d = %s, want %s", i, Marshal(got), w.JSON)
				}
			}
			if c.Fail == nil {
				if errName != "" {
					t.Fatalf("failed with %s: %s", errName, cause)
				}
				return
			}
			if errName != c.Fail.Error {
				t.Errorf("error = %q, want %q (cause %q)", errName, c.Fail.Error, cause)
			}
			// The corpus normaliser replaced JSON quoted in causes by <json-input:1>.
			want := c.Fail.Cause
			if i := strings.Index(want, "'<json-input:1>'"); i >= 0 {
				if j := strings.LastIndex(cause, "'{"); j >= 0 && strings.HasSuffix(cause, "}'") {
					if _, err := ParseJSON(cause[j+1 : len(cause)-1]); err == nil {
						cause = cause[:j] + "'<json-input:1>'"
					}
				}
			}
			if cause != want {
				t.Errorf("cause = %q\n want %q", cause, want)
			}
		})
	}
}
