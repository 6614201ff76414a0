package validate

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// pass is a one-state machine around the given state body.
func one(state string) string {
	return `{"StartAt":"S","States":{"S":` + state + `}}`
}

// TestInvalidDefinitionMessages pins whole InvalidDefinition messages. The first cases are
// messages real AWS returned as quoted in public bug reports; the rest follow the same
// grammar.
func TestInvalidDefinitionMessages(t *testing.T) {
	tests := []struct {
		name, def, want string
	}{
		{
			// AWS's answer quoted in localstack/localstack#12487.
			name: "dangling next and unreachable state",
			def:  `{"StartAt":"pass1","States":{"pass1":{"Type":"Pass","Next":"pass3"},"pass2":{"Type":"Pass","End":true}}}`,
			want: `Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2'`,
		},
		{
			// AWS's answer quoted in serverless-operations/serverless-step-functions#250.
			name: "dangling StartAt",
			def:  `{"StartAt":"aws_own.run_step","States":{"run_step":{"Type":"Pass","End":true}}}`,
			want: `Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: aws_own.run_step at /StartAt, MISSING_TRANSITION_TARGET: State "run_step" is not reachable. at /States/run_step'`,
		},
		{
			name: "loop without terminal state",
			def:  `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`,
			want: `Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'`,
		},
		{
			name: "timeout on parallel",
			def: `{"StartAt":"P","States":{"P":{"Type":"Parallel","TimeoutSeconds":5,` +
				`"Branches":[{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":25,"End":true}}}],"End":true}}}`,
			want: `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/P'`,
		},
		{
			name: "two schema errors",
			def:  `{"StartAt":"S","States":{"S":{"Type":"Pass","End":true,"Next":"S","Seconds":1}}}`,
			want: `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Field 'Seconds' is not supported at /States/S, ` +
				`SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [Next, End] at /States/S'`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diags := Validate(tt.def)
			if got := InvalidDefinitionMessage(diags); got != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

// TestDiagnostics checks single findings: code, message and location.
func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name string
		def  string
		want []string // "CODE|message|location"
	}{
		{"dangling choice next",
			`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"Ghost"}],"Default":"Z"},"Z":{"Type":"Pass","End":true}}}`,
			[]string{"MISSING_TRANSITION_TARGET|Missing 'Next' target: Ghost|/States/C/Choices[0]/Next"}},
		{"dangling default",
			`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"Z"}],"Default":"Ghost"},"Z":{"Type":"Pass","End":true}}}`,
			[]string{"MISSING_TRANSITION_TARGET|Missing 'Next' target: Ghost|/States/C/Default"}},
		{"dangling catch",
			one(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Ghost"}],"End":true}`),
			[]string{"MISSING_TRANSITION_TARGET|Missing 'Next' target: Ghost|/States/S/Catch[0]/Next"}},
		{"dangling next plus no end state",
			`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"NOPE"}}}`,
			[]string{"MISSING_TRANSITION_TARGET|Missing 'Next' target: NOPE|/States/A/Next", "MISSING_END_STATE|Workflow has no terminal state|"}},
		{"no end state suppresses unreachable",
			`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"},"U":{"Type":"Pass","Next":"A"}}}`,
			[]string{"MISSING_END_STATE|Workflow has no terminal state|"}},
		{"branch cannot transition out",
			`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Next":"Done"}}}],"Next":"Done"},"Done":{"Type":"Succeed"}}}`,
			[]string{"MISSING_TRANSITION_TARGET|Missing 'Next' target: Done|/States/P/Branches[0]/States/B/Next"}},
		{"unreachable in item processor",
			`{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Pass","End":true},"Ghost":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{`MISSING_TRANSITION_TARGET|State "Ghost" is not reachable.|/States/M/ItemProcessor/States/Ghost`}},
		{"nested loop is fine",
			`{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}},"End":true}}}`,
			nil},
		{"catch on pass", one(`{"Type":"Pass","End":true,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"S"}]}`),
			[]string{"SCHEMA_VALIDATION_FAILED|Field 'Catch' is not supported|/States/S"}},
		{"unknown type", one(`{"Type":"Nope","End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]|/States/S/Type"}},
		{"missing type", one(`{"End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|These fields are required: [Type]|/States/S"}},
		{"neither next nor end", one(`{"Type":"Pass"}`),
			[]string{"SCHEMA_VALIDATION_FAILED|This object should have only one of the following fields: [Next, End]|/States/S"}},
		{"task without resource", one(`{"Type":"Task","End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|These fields are required: [Resource]|/States/S"}},
		{"empty choices", one(`{"Type":"Choice","Choices":[]}`),
			[]string{"SCHEMA_VALIDATION_FAILED|Value cannot be empty|/States/S/Choices"}},
		{"wait with two timers", one(`{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|There should only be one of the following fields: [SecondsPath, Seconds, TimestampPath, Timestamp]|/States/S"}},
		{"wait without timer", one(`{"Type":"Wait","End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|This object should have only one of the following fields: [SecondsPath, Seconds, TimestampPath, Timestamp]|/States/S"}},
		{"wait negative", one(`{"Type":"Wait","Seconds":-1,"End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|Minimum value is 0|/States/S/Seconds"}},
		{"wait timestamp with offset", one(`{"Type":"Wait","Timestamp":"2016-03-14T01:59:00+02:00","End":true}`), nil},
		{"fail error and errorpath", one(`{"Type":"Fail","Error":"E","ErrorPath":"$.e"}`),
			[]string{"SCHEMA_VALIDATION_FAILED|There should only be one of the following fields: [Error, ErrorPath]|/States/S"}},
		{"fail with next", one(`{"Type":"Fail","Next":"S"}`),
			[]string{"SCHEMA_VALIDATION_FAILED|Field 'Next' is not supported|/States/S"}},
		{"states.all not last",
			one(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}]}`),
			[]string{"SCHEMA_VALIDATION_FAILED|States.ALL must appear alone and at end of list|/States/S/Retry[0]/ErrorEquals"}},
		{"states.all not alone",
			one(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"Retry":[{"ErrorEquals":["X","States.ALL"]}]}`),
			[]string{"SCHEMA_VALIDATION_FAILED|States.ALL must appear alone and at end of list|/States/S/Retry[0]/ErrorEquals"}},
		{"retry ranges",
			one(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"Retry":[{"ErrorEquals":["X"],"MaxAttempts":-1,"IntervalSeconds":0,"BackoffRate":0.5,"MaxDelaySeconds":0,"JitterStrategy":"SOME"}]}`),
			[]string{
				"SCHEMA_VALIDATION_FAILED|Minimum value is 1|/States/S/Retry[0]/IntervalSeconds",
				"SCHEMA_VALIDATION_FAILED|Minimum value is 0|/States/S/Retry[0]/MaxAttempts",
				"SCHEMA_VALIDATION_FAILED|Minimum value is 1|/States/S/Retry[0]/MaxDelaySeconds",
				"SCHEMA_VALIDATION_FAILED|Minimum value is 1.0|/States/S/Retry[0]/BackoffRate",
				"SCHEMA_VALIDATION_FAILED|Value should be one of the following: [NONE, FULL]|/States/S/Retry[0]/JitterStrategy",
			}},
		{"catch without next",
			one(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"Catch":[{"ErrorEquals":["States.ALL"]}]}`),
			[]string{"SCHEMA_VALIDATION_FAILED|These fields are required: [Next]|/States/S/Catch[0]"}},
		{"heartbeat not below timeout",
			one(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"TimeoutSeconds":10,"HeartbeatSeconds":10}`),
			[]string{"SCHEMA_VALIDATION_FAILED|HeartbeatSeconds must be smaller than TimeoutSeconds|/States/S/HeartbeatSeconds"}},
		{"timeout zero",
			one(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"TimeoutSeconds":0}`),
			[]string{"SCHEMA_VALIDATION_FAILED|Minimum value is 1|/States/S/TimeoutSeconds"}},
		{"bad input path", one(`{"Type":"Pass","InputPath":"a.b","End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|The value for the field 'InputPath' must be a valid JSONPath|/States/S/InputPath"}},
		{"wildcard result path", one(`{"Type":"Pass","ResultPath":"$.a[*]","End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|The value for the field 'ResultPath' must be a valid ReferencePath|/States/S/ResultPath"}},
		{"null paths are fine", one(`{"Type":"Pass","InputPath":null,"ResultPath":null,"OutputPath":null,"End":true}`), nil},
		{"bad dollar value", one(`{"Type":"Pass","Parameters":{"a":{"b.$":"nope"}},"End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call|/States/S/Parameters"}},
		{"unknown intrinsic", one(`{"Type":"Pass","Parameters":{"b.$":"States.Nope(1)"},"End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call|/States/S/Parameters"}},
		{"good intrinsics and paths",
			one(`{"Type":"Pass","Parameters":{"a.$":"States.Format('x {} {} \\' \\{', States.ArrayLength($.a[*]), $$.Execution.Id)","b.$":"$varName.x","c.$":"$..a[?(@.b > 1)]","d.$":"States.UUID()"},"End":true}`),
			nil},
		{"jsonata field on jsonpath state", one(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"a":1},"End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|The QueryLanguage is set to 'JSONPath', but field 'Arguments' is only supported for the 'JSONata' QueryLanguage|/States/S"}},
		{"jsonpath fields on jsonata state",
			`{"QueryLanguage":"JSONata","StartAt":"X","States":{"X":{"Type":"Pass","End":true,"InputPath":"$.a","OutputPath":"$.b","ResultPath":"$.c"}}}`,
			[]string{
				"SCHEMA_VALIDATION_FAILED|The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage|/States/X",
				"SCHEMA_VALIDATION_FAILED|The QueryLanguage is set to 'JSONata', but field 'OutputPath' is only supported for the 'JSONPath' QueryLanguage|/States/X",
				"SCHEMA_VALIDATION_FAILED|The QueryLanguage is set to 'JSONata', but field 'ResultPath' is only supported for the 'JSONPath' QueryLanguage|/States/X",
			}},
		{"query language outside the enum",
			`{"QueryLanguage":"jsonata","StartAt":"X","States":{"X":{"Type":"Pass","Output":{"v":"{% 1 %}"},"End":true}}}`,
			[]string{"SCHEMA_VALIDATION_FAILED|Value should be one of the following: [JSONPath, JSONata]|/QueryLanguage"}},
		{"branch declares query language",
			`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"QueryLanguage":"JSONata","StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"End":true}}}`,
			[]string{"SCHEMA_VALIDATION_FAILED|Field 'QueryLanguage' is not supported|/States/P/Branches[0]"}},
		{"unclosed jsonata", `{"QueryLanguage":"JSONata","StartAt":"X","States":{"X":{"Type":"Pass","Output":"{% $states.input","End":true}}}`,
			[]string{"SCHEMA_VALIDATION_FAILED|JSONata string must start with {% and end with %}|/States/X/Output"}},
		{"jsonata choice with variable",
			`{"QueryLanguage":"JSONata","StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Condition":"{% true %}","Variable":"$.x","Next":"D"}]},"D":{"Type":"Succeed"}}}`,
			[]string{"SCHEMA_VALIDATION_FAILED|The QueryLanguage is set to 'JSONata', but field 'Variable' is only supported for the 'JSONPath' QueryLanguage|/States/C/Choices[0]"}},
		{"choice with two operators",
			`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"IsNull":false,"Next":"D"}]},"D":{"Type":"Succeed"}}}`,
			[]string{"SCHEMA_VALIDATION_FAILED|There should only be one of the following fields: " + operatorList + "|/States/C/Choices[0]"}},
		{"nested choice rule with next",
			`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.x","IsPresent":true,"Next":"D"},"Next":"D"}]},"D":{"Type":"Succeed"}}}`,
			[]string{"SCHEMA_VALIDATION_FAILED|Field 'Next' is not supported|/States/C/Choices[0]/Not"}},
		{"choice operand type",
			`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":"1","Next":"D"}]},"D":{"Type":"Succeed"}}}`,
			[]string{"SCHEMA_VALIDATION_FAILED|Expected value of type [NUMBER]|/States/C/Choices[0]/NumericEquals"}},
		{"map without processor", one(`{"Type":"Map","End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|This object should have only one of the following fields: [ItemProcessor, Iterator]|/States/S"}},
		{"map negative concurrency",
			one(`{"Type":"Map","MaxConcurrency":-1,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|Minimum value is 0|/States/S/MaxConcurrency"}},
		{"distributed map without execution type",
			one(`{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|These fields are required: [ExecutionType]|/States/S/ItemProcessor/ProcessorConfig"}},
		{"item reader resource",
			one(`{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:unknown"},"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|The field 'Resource' does not match any of the allowed values. Examples: [arn:<partition>:states:::s3:getObject, arn:<partition>:states:::s3:listObjectsV2]|/States/S/ItemReader/Resource"}},
		{"distributed map fields",
			one(`{"Type":"Map","Label":"L1","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"},"Parameters":{"Bucket.$":"$.b","Key":"k"}},` +
				`"ItemBatcher":{"MaxItemsPerBatch":10},"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b","Prefix":"p"}},"ToleratedFailurePercentage":5,` +
				`"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`),
			nil},
		{"duplicate label",
			`{"StartAt":"A","States":{"A":{"Type":"Map","Label":"L","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"Next":"B"},"B":{"Type":"Map","Label":"L","ItemProcessor":{"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{"DUPLICATE_LABEL_NAME|Duplicate Label name: L|/States/B/Label"}},
		{"duplicate state name across branches",
			`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}],"End":true}}}`,
			[]string{"DUPLICATE_STATE_NAME|Duplicate State name: P|/States/P/Branches[0]/States/P"}},
		{"long state name", one(`{"Type":"Pass","End":true}`)[:0] +
			`{"StartAt":"` + strings.Repeat("a", 81) + `","States":{"` + strings.Repeat("a", 81) + `":{"Type":"Pass","End":true}}}`,
			[]string{"INVALID_STATE_NAME|State name '" + strings.Repeat("a", 81) + "' exceeds the 80-character limit allowed by the service|/States/" + strings.Repeat("a", 81)}},
		{"unknown top level field", `{"StartAt":"S","Foo":1,"States":{"S":{"Type":"Succeed"}}}`,
			[]string{"SCHEMA_VALIDATION_FAILED|Field 'Foo' is not supported|/"}},
		{"not an object", `[1]`, []string{"SCHEMA_VALIDATION_FAILED|Definition must be a valid JSON object|"}},
		{"invalid variable name", one(`{"Type":"Pass","Assign":{"a-b":1},"End":true}`),
			[]string{"SCHEMA_VALIDATION_FAILED|Invalid variable name 'a-b': the variable name contains invalid characters|/States/S/Assign"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range Validate(tt.def) {
				if d.Severity == SeverityError {
					got = append(got, d.Code+"|"+d.Message+"|"+d.Location)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

// TestJSONSyntax checks INVALID_JSON_DESCRIPTION, worded as Jackson words it.
func TestJSONSyntax(t *testing.T) {
	tests := []struct{ def, msg, loc string }{
		{"not a definition",
			"Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
			`[Source: (String)"not a definition"; line: 1, column: 4]`},
		{`{"a":1,}`,
			"Unexpected character ('}' (code 125)): was expecting double-quote to start field name",
			`[Source: (String)"{"a":1,}"; line: 1, column: 9]`},
		{"{\n\"a\" 1}",
			"Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value",
			"[Source: (String)\"{\n\"a\" 1}\"; line: 2, column: 6]"},
		{`{"a":1`,
			`Unexpected end-of-input: expected close marker for Object (start marker at [Source: (String)"{"a":1"; line: 1, column: 1])`,
			`[Source: (String)"{"a":1"; line: 1, column: 7]`},
	}
	for _, tt := range tests {
		diags := Validate(tt.def)
		want := []Diagnostic{{Severity: "ERROR", Code: CodeInvalidJSON, Message: tt.msg + "\n at " + tt.loc, Location: tt.loc}}
		if !reflect.DeepEqual(diags, want) {
			t.Errorf("%q:\n got: %+v\nwant: %+v", tt.def, diags, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	diags := []Diagnostic{
		{Severity: SeverityWarning, Code: CodeNoDollar, Message: "w"},
		{Severity: SeverityError, Code: CodeSchemaValidationFailed, Message: "e1"},
		{Severity: SeverityError, Code: CodeSchemaValidationFailed, Message: "e2"},
	}
	rep := Summarize(diags, "", 0)
	if rep.Result != "FAIL" || len(rep.Diagnostics) != 2 || rep.Truncated {
		t.Errorf("errors only: %+v", rep)
	}
	rep = Summarize(diags, SeverityWarning, 0)
	if len(rep.Diagnostics) != 3 || rep.Diagnostics[0].Message != "e1" || rep.Diagnostics[2].Message != "w" {
		t.Errorf("with warnings: %+v", rep)
	}
	rep = Summarize(diags, SeverityWarning, 1)
	if len(rep.Diagnostics) != 1 || !rep.Truncated || rep.Result != "FAIL" {
		t.Errorf("capped: %+v", rep)
	}
	rep = Summarize(diags[:1], "", 0)
	if rep.Result != "OK" || len(rep.Diagnostics) != 0 || rep.Diagnostics == nil {
		t.Errorf("warning only: %+v", rep)
	}
	many := make([]Diagnostic, 150)
	for i := range many {
		many[i] = Diagnostic{Severity: SeverityError, Message: fmt.Sprint(i)}
	}
	if rep = Summarize(many, "", 0); len(rep.Diagnostics) != DefaultMaxResults || !rep.Truncated {
		t.Errorf("default cap: %d %v", len(rep.Diagnostics), rep.Truncated)
	}
}

func TestWarnings(t *testing.T) {
	diags := Validate(one(`{"Type":"Pass","Parameters":{"a":"$.x"},"Result":{"b.$":"$.y"},"End":true}`))
	if HasErrors(diags) {
		t.Fatalf("unexpected errors: %+v", diags)
	}
	var codes []string
	for _, d := range diags {
		codes = append(codes, d.Code)
	}
	if !reflect.DeepEqual(codes, []string{CodeNoDollar, CodePassResultIsStatic}) {
		t.Errorf("codes %v", codes)
	}
}
