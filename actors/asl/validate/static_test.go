package validate

import (
	"strings"
	"testing"
)

// TestIntrinsicArgumentTypes: intrinsic function calls whose argument count, or the type of
// an argument known at definition time, contradicts the function's documentation are refused
// in every field that takes an intrinsic function, with the message AWS gives for a call it
// does not accept (recorded: the illegal-escape case of the conformance corpus).
func TestIntrinsicArgumentTypes(t *testing.T) {
	pass := func(fields string) string {
		return `{"StartAt":"P","States":{"P":{"Type":"Pass",` + fields + `,"End":true}}}`
	}
	fail := func(fields string) string {
		return `{"StartAt":"F","States":{"F":{"Type":"Fail",` + fields + `}}}`
	}
	const bad = "must be a valid JSONPath or a valid intrinsic function call"
	for def, want := range map[string]string{
		pass(`"Parameters":{"sum.$":"States.MathAdd(1, '-1')"}`):                    "SCHEMA_VALIDATION_FAILED: The value for the field 'sum.$' " + bad + " at /States/P/Parameters",
		pass(`"Parameters":{"a":{"r.$":"States.ArrayRange('a', 1, 2)"}}`):           "SCHEMA_VALIDATION_FAILED: The value for the field 'r.$' " + bad + " at /States/P/Parameters",
		pass(`"Parameters":{"u.$":"States.UUID(1)"}`):                               "SCHEMA_VALIDATION_FAILED: The value for the field 'u.$' " + bad + " at /States/P/Parameters",
		pass(`"Parameters":{"f.$":"States.Format('{} {}', $.a)"}`):                  "SCHEMA_VALIDATION_FAILED: The value for the field 'f.$' " + bad + " at /States/P/Parameters",
		pass(`"Assign":{"h.$":"States.Hash($.a, 'SHA-3')"}`):                        "SCHEMA_VALIDATION_FAILED: The value for the field 'h.$' " + bad + " at /States/P/Assign",
		pass(`"Parameters":{"m.$":"States.JsonMerge($.a, $.b, true)"}`):             "SCHEMA_VALIDATION_FAILED: The value for the field 'm.$' " + bad + " at /States/P/Parameters",
		pass(`"Parameters":{"n.$":"States.ArrayLength(States.Format('{}', $.a))"}`): "SCHEMA_VALIDATION_FAILED: The value for the field 'n.$' " + bad + " at /States/P/Parameters",
		fail(`"CausePath":"States.Format('{}')"`):                                   "SCHEMA_VALIDATION_FAILED: The value for the field 'CausePath' " + bad + " at /States/F/CausePath",
		fail(`"ErrorPath":"States.StringSplit($.a, 1)"`):                            "SCHEMA_VALIDATION_FAILED: The value for the field 'ErrorPath' " + bad + " at /States/F/ErrorPath",
		`{"StartAt":"M","States":{"M":{"Type":"Map","ItemSelector":{"i.$":"States.ArrayGetItem('abc', 0)"},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`: "SCHEMA_VALIDATION_FAILED: The value for the field 'i.$' " + bad + " at /States/M/ItemSelector",
	} {
		if got := InvalidDefinitionMessage(Validate(def)); !strings.Contains(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", def, got, want)
		}
	}
	for _, def := range []string{
		pass(`"Parameters":{"sum.$":"States.MathAdd($.a, -1)","r.$":"States.ArrayRange(1, 9, 2)","f.$":"States.Format('{} {}', $.a, States.UUID())"}`),
		pass(`"Parameters":{"g.$":"States.ArrayGetItem(States.StringSplit($.s, ','), States.MathAdd(States.ArrayLength($.a), -1))"}`),
		pass(`"Assign":{"m.$":"States.JsonMerge($.a, States.StringToJson($.b), false)"}`),
		fail(`"CausePath":"States.Format('{}', $.c)"`),
	} {
		if diags := Validate(def); HasErrors(diags) {
			t.Errorf("%s: %s", def, InvalidDefinitionMessage(diags))
		}
	}
	// A mistyped call in a field without ".$" is a plain string: it still gets the
	// NO_DOLLAR warning, as a well-formed call does.
	diags := Validate(pass(`"Parameters":{"sum":"States.MathAdd(1, '-1')"}`))
	if HasErrors(diags) || len(diags) != 1 || diags[0].Code != CodeNoDollar {
		t.Errorf("plain string: %+v", diags)
	}
}
