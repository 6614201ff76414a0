package validate

import (
	"reflect"
	"testing"

	"github.com/sfnd/sfnd/test/hostile"
)

// BenchmarkJSONSyntaxError measures the syntax check of execution inputs on the worst
// cases of each kind (issue 10: it was quadratic, 128 s for 87,000 "{}" items).
func BenchmarkJSONSyntaxError(b *testing.B) {
	for _, c := range hostile.Inputs() {
		b.Run(c.Name, func(b *testing.B) {
			b.SetBytes(int64(len(c.Text)))
			for i := 0; i < b.N; i++ {
				JSONSyntaxError(c.Text)
			}
		})
	}
}

// BenchmarkValidate measures the whole static validation of the largest definitions.
func BenchmarkValidate(b *testing.B) {
	for _, c := range hostile.Definitions() {
		b.Run(c.Name, func(b *testing.B) {
			b.SetBytes(int64(len(c.Text)))
			for i := 0; i < b.N; i++ {
				Validate(c.Text)
			}
		})
	}
}

// TestHostileInputsAreLinear runs each worst-case input through the syntax check once at
// full size, and checks the verdict.
func TestHostileInputsAreLinear(t *testing.T) {
	for _, c := range hostile.Inputs() {
		var msg string
		var bad bool
		if why := hostile.TooCostly(hostile.Cost(func() { msg, bad = JSONSyntaxError(c.Text) })); why != "" {
			t.Errorf("%s (%d bytes): syntax check %s", c.Name, len(c.Text), why)
		}
		if bad == c.Valid {
			t.Errorf("%s: syntax check says bad=%v (%q), want valid=%v", c.Name, bad, msg, c.Valid)
		}
	}
}

// TestHostileDefinitionsAreLinear validates each worst-case definition once at full size.
func TestHostileDefinitionsAreLinear(t *testing.T) {
	for _, c := range hostile.Definitions() {
		var diags []Diagnostic
		if why := hostile.TooCostly(hostile.Cost(func() { diags = Validate(c.Text) })); why != "" {
			t.Errorf("%s (%d bytes): validation %s", c.Name, len(c.Text), why)
		}
		if c.Valid && HasErrors(diags) {
			t.Errorf("%s: %s", c.Name, InvalidDefinitionMessage(diags))
		}
		if !c.Valid && (len(diags) != 1 || diags[0].Code != CodeInvalidJSON) {
			t.Errorf("%s: want one %s, got %v", c.Name, CodeInvalidJSON, diags)
		}
	}
}

// TestNestingDepthLimit checks the limit on nesting: MaxNestingDepth levels are valid
// JSON, one more is refused in Jackson's words, without a location, by both the syntax
// check of inputs and the validation of definitions.
func TestNestingDepthLimit(t *testing.T) {
	tooDeep := "Document nesting depth (10001) exceeds the maximum allowed (10000, from `StreamReadConstraints.getMaxNestingDepth()`)"
	if msg, bad := JSONSyntaxError(hostile.DeepArrays(MaxNestingDepth)); bad {
		t.Errorf("depth %d refused: %s", MaxNestingDepth, msg)
	}
	for _, s := range []string{hostile.DeepArrays(MaxNestingDepth + 1), hostile.DeepObjects(MaxNestingDepth + 1), hostile.OpenArrays(MaxNestingDepth + 5)} {
		if msg, bad := JSONSyntaxError(s); !bad || msg != tooDeep {
			t.Errorf("depth %d: got %v %q", MaxNestingDepth+1, bad, msg)
		}
	}
	def := func(depth int) string {
		return `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true,"Result":` + hostile.DeepObjects(depth-3) + `}}}`
	}
	if diags := Validate(def(MaxNestingDepth)); len(diags) != 0 {
		t.Errorf("definition of depth %d: %v", MaxNestingDepth, diags)
	}
	want := []Diagnostic{{Severity: SeverityError, Code: CodeInvalidJSON, Message: tooDeep}}
	if diags := Validate(def(MaxNestingDepth + 1)); !reflect.DeepEqual(diags, want) {
		t.Errorf("definition of depth %d: %v", MaxNestingDepth+1, diags)
	}
	if got, want := InvalidDefinitionMessage(want), "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: "+tooDeep+"'"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

// TestUnclosedNestingLocation checks the message for input that ends inside nested
// containers: the start marker is the innermost one, as Jackson reports it.
func TestUnclosedNestingLocation(t *testing.T) {
	for src, want := range map[string]string{
		`[[`:          `Unexpected end-of-input: expected close marker for Array (start marker at [Source: (String)"[["; line: 1, column: 2])`,
		`{"a":[{"b":`: `Unexpected end-of-input: expected close marker for Object (start marker at [Source: (String)"{"a":[{"b":"; line: 1, column: 7])`,
		"[\n {":       `Unexpected end-of-input: expected close marker for Object (start marker at [Source: (String)"[` + "\n" + ` {"; line: 2, column: 2])`,
	} {
		if msg, bad := JSONSyntaxError(src); !bad || msg != want {
			t.Errorf("%q: got %q\nwant %q", src, msg, want)
		}
	}
}
