package validate

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/sfnd/sfnd/actors/asl/expr"
)

// TestValidatorAndInterpreterAgree checks issue 18's disagreements: definitions the
// validator accepted although the interpreter could never evaluate them. Each is now
// refused at validation.
func TestValidatorAndInterpreterAgree(t *testing.T) {
	pass := func(fields string) string {
		return `{"StartAt":"P","States":{"P":{"Type":"Pass",` + fields + `,"End":true}}}`
	}
	for def, want := range map[string]string{
		pass(`"ResultPath":"$foo"`):                                            "SCHEMA_VALIDATION_FAILED: The value for the field 'ResultPath' must be a valid ReferencePath at /States/P/ResultPath",
		pass(`"ResultPath":"$$.Execution"`):                                    "SCHEMA_VALIDATION_FAILED: The value for the field 'ResultPath' must be a valid ReferencePath at /States/P/ResultPath",
		pass(`"InputPath":"$.items[?(@.k == FooBar)]"`):                        "SCHEMA_VALIDATION_FAILED: The value for the field 'InputPath' must be a valid JSONPath at /States/P/InputPath",
		pass(`"Parameters":{"x.$":"$.items[(@.length-1)]"}`):                   "SCHEMA_VALIDATION_FAILED: The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call at /States/P/Parameters",
		pass(`"Parameters":{"x.$":"States.Array($.items[?(@.k == FooBar)])"}`): "SCHEMA_VALIDATION_FAILED: The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call at /States/P/Parameters",
	} {
		diags := Validate(def)
		if got := InvalidDefinitionMessage(diags); !strings.Contains(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", def, got, want)
		}
	}
	// What the interpreter evaluates stays accepted.
	for _, fields := range []string{
		`"ResultPath":"$.a.b[0]"`, `"ResultPath":"$"`, `"ResultPath":null`,
		`"InputPath":"$.items[?(@.k == 'FooBar')]"`, `"InputPath":"$.items[-1:]"`,
		`"Parameters":{"x.$":"$.items[?(@.n > 2)].k", "y.$":"States.ArrayLength($.items)"}`,
	} {
		if diags := Validate(pass(fields)); HasErrors(diags) {
			t.Errorf("%s: %s", fields, InvalidDefinitionMessage(diags))
		}
	}
}

// TestJSONataSyntaxIsChecked checks that a "{% %}" expression the interpreter cannot
// compile is refused at validation.
func TestJSONataSyntaxIsChecked(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"a":"{% 10 + * 2 %}"},"End":true}}}`
	diags := Validate(def)
	if len(diags) != 1 || diags[0].Code != "INVALID_JSONATA_EXPRESSION" || diags[0].Location != "/States/P/Output/a" {
		t.Errorf("got %+v", diags)
	}
	ok := `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"a":"{% 10 + 2 * $states.input.n %}"},"End":true}}}`
	if diags := Validate(ok); HasErrors(diags) {
		t.Errorf("%s", InvalidDefinitionMessage(diags))
	}
}

// pathPieces are fragments the generators combine: valid and invalid steps, filters
// (quoted and unquoted literals, functions, nested paths), indexes, slices, script
// expressions, unions and stray characters.
var pathPieces = []string{
	".a", ".b", "['a']", `["b"]`, "['a','b']", "[0]", "[-1]", "[1,2]", "[1:]", "[:2]", "[::2]", "[0:2:0]",
	"[*]", ".*", "..a", "..[0]", "..*", "[?(@.k == 'x')]", "[?(@.k == x)]", "[?(@.n > 2)]",
	"[?(@.k)]", "[?(@.a.b == 1 && @.c != 'z')]", "[(@.length-1)]", "[?(@.k =~ /a.*/)]", "[?(@.k in ['a'])]",
	"[?(@ > 1)]", "[", "]", ".", "..", "[]", "['a", "[?(@.k == 'x']", " ", "[ 0 ]", ".a b", ".$", ".@", "[?(@.k == \"x\")]",
}

var roots = []string{"$", "$$", "$v", "$$.Execution", "$x1", "$.", "$9", "", "$$$"}

func genPath(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString(roots[r.Intn(len(roots))])
	for n := r.Intn(4); n > 0; n-- {
		b.WriteString(pathPieces[r.Intn(len(pathPieces))])
	}
	return b.String()
}

var intrinsicNames = []string{"Format", "Array", "ArrayLength", "ArrayGetItem", "JsonToString", "StringToJson",
	"MathAdd", "ArrayRange", "ArrayUnique", "Hash", "StringSplit", "UUID", "Base64Encode", "Nope"}

func genIntrinsic(r *rand.Rand, depth int) string {
	var b strings.Builder
	b.WriteString("States." + intrinsicNames[r.Intn(len(intrinsicNames))] + "(")
	for i, n := 0, r.Intn(4); i < n; i++ {
		if i > 0 {
			b.WriteString([]string{", ", ",", " ,"}[r.Intn(3)])
		}
		switch r.Intn(6) {
		case 0:
			b.WriteString(genPath(r))
		case 1:
			if depth < 3 {
				b.WriteString(genIntrinsic(r, depth+1))
			} else {
				b.WriteString("1")
			}
		case 2:
			b.WriteString([]string{"'a{}b'", "'it\\'s'", "'\\{\\}'", "'x", "''", "'a\\b'"}[r.Intn(6)])
		case 3:
			b.WriteString([]string{"1", "-2.5", "1e3", "true", "null", "01", "+1", "1.", "false"}[r.Intn(9)])
		default:
			b.WriteString("$.a")
		}
	}
	if r.Intn(10) > 0 {
		b.WriteString(")")
	}
	return b.String()
}

// checkShared is the property: whatever the validator accepts, the interpreter
// evaluates without a syntax error (it may still miss data or refuse argument values).
func checkShared(t *testing.T, s string) {
	t.Helper()
	in := expr.MustParseJSON(`{"a":{"b":[1,2,3]},"items":[{"k":"x","n":3,"a":{"b":1}}],"k":"x"}`)
	env := expr.Env{Input: in, Context: expr.MustParseJSON(`{"Execution":{"Id":"e"}}`),
		Vars: map[string]any{"v": in, "x1": in}}
	if validPath(s) {
		if _, err := expr.Query(s, env); expr.IsSyntaxError(err) {
			t.Errorf("path %q validates but does not evaluate: %v", s, err)
		}
	}
	if validResultPath(s) {
		if _, err := expr.ApplyResultPath(in, &s, "r"); expr.IsSyntaxError(err) {
			t.Errorf("ResultPath %q validates but does not apply: %v", s, err)
		}
	}
	if validIntrinsic(s) {
		if _, err := expr.EvalIntrinsic(s, env); expr.IsSyntaxError(err) {
			t.Errorf("intrinsic %q validates but does not evaluate: %v", s, err)
		}
	}
}

// TestSharedGrammarProperty generates paths, filters and intrinsic calls and checks
// the property on each.
func TestSharedGrammarProperty(t *testing.T) {
	r := rand.New(rand.NewSource(18))
	accepted := 0
	for i := 0; i < 20000; i++ {
		s := genPath(r)
		if i%2 == 1 {
			s = genIntrinsic(r, 0)
		}
		if validPath(s) || validIntrinsic(s) {
			accepted++
		}
		checkShared(t, s)
	}
	if accepted < 1000 {
		t.Errorf("only %d of 20000 generated expressions validate: the generator tests little", accepted)
	}
}

// FuzzSharedGrammar is the same property on fuzzed text.
func FuzzSharedGrammar(f *testing.F) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		f.Add(genPath(r))
		f.Add(genIntrinsic(r, 0))
	}
	f.Add("$.items[?(@.k == FooBar)]")
	f.Add("$.items[(@.length-1)]")
	f.Add("$foo")
	f.Add("$[?(@ == @)]")
	f.Fuzz(func(t *testing.T, s string) { checkShared(t, s) })
}

// TestEitherOrPairs checks the value/path pairs AWS documents as either-or in an
// ItemReader's ReaderConfig and in ItemBatcher.
func TestEitherOrPairs(t *testing.T) {
	mapState := func(fields string) string {
		return `{"StartAt":"M","States":{"M":{"Type":"Map",` + fields + `,"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},` +
			`"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
	}
	reader := `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON",%s},"Parameters":{"Bucket":"b","Key":"k"}}`
	for fields, want := range map[string]string{
		strings.Replace(reader, "%s", `"MaxItems":10,"MaxItemsPath":"$.n"`, 1):           "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [MaxItems, MaxItemsPath] at /States/M/ItemReader/ReaderConfig",
		`"ItemBatcher":{"MaxItemsPerBatch":10,"MaxItemsPerBatchPath":"$.n"}`:             "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [MaxItemsPerBatch, MaxItemsPerBatchPath] at /States/M/ItemBatcher",
		`"ItemBatcher":{"MaxInputBytesPerBatch":1000,"MaxInputBytesPerBatchPath":"$.n"}`: "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [MaxInputBytesPerBatch, MaxInputBytesPerBatchPath] at /States/M/ItemBatcher",
	} {
		if got := InvalidDefinitionMessage(Validate(mapState(fields))); !strings.Contains(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", fields, got, want)
		}
	}
	for _, fields := range []string{
		strings.Replace(reader, "%s", `"MaxItemsPath":"$.n"`, 1),
		`"ItemBatcher":{"MaxItemsPerBatch":10,"MaxInputBytesPerBatchPath":"$.n"}`,
	} {
		if diags := Validate(mapState(fields)); HasErrors(diags) {
			t.Errorf("%s: %s", fields, InvalidDefinitionMessage(diags))
		}
	}
}
