package validate

import (
	"reflect"
	"testing"
)

func TestVariableReferences(t *testing.T) {
	for _, tc := range []struct {
		name, def string
		want      map[string][]string
	}{
		{"paths and templates", `{"StartAt":"A","States":{
			"A":{"Type":"Pass","InputPath":"$in.x","OutputPath":"$in","Parameters":{"a.$":"$p","b":"$literal","c":{"d.$":"$$.Execution.Id","e.$":"$.x"}},"ResultPath":"$.r","Next":"W"},
			"W":{"Type":"Wait","SecondsPath":"$secs","Next":"F"},
			"F":{"Type":"Fail","ErrorPath":"$err","CausePath":"States.Format('{} $no', $cause)"}}}`,
			map[string][]string{"A": {"in", "p"}, "W": {"secs"}, "F": {"err", "cause"}}},
		{"choice rules and nesting", `{"StartAt":"C","States":{
			"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$a","IsPresent":true},{"Not":{"Variable":"$.b","StringEqualsPath":"$c"}}],"Next":"M"}],"Default":"M"},
			"M":{"Type":"Map","ItemsPath":"$items","MaxConcurrencyPath":"$mc","ItemProcessor":{"StartAt":"I","States":{
				"I":{"Type":"Pass","Assign":{"x.$":"$outer"},"Result":{"y.$":"$notref"},"End":true}}},"End":true}}}`,
			map[string][]string{"C": {"a", "c"}, "M": {"items", "mc"}, "I": {"outer"}}},
		{"jsonata", `{"QueryLanguage":"JSONata","StartAt":"J","States":{
			"J":{"Type":"Pass","Output":"{% $states.input.a & $x & $string($y) & ($z := 1; $z) & 'lit $q' %}",
				"Assign":{"v":"{% $map($arr, function($e) { $e + $w }) %}"},"Next":"K"},
			"K":{"Type":"Choice","Choices":[{"Condition":"{% $not($states.input.done) %}","Next":"J"}],"Default":"J"}}}`,
			map[string][]string{"J": {"x", "y", "arr", "w"}}},
		{"none", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a":"$x"},"End":true}}}`, nil},
		{"not json", `{`, nil},
	} {
		if got := VariableReferences(tc.def); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidateExpress(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{
		"A":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:x","End":true}}}],"Next":"M"},
		"M":{"Type":"Map","ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}}},"End":true}}}`
	got := ValidateExpress(def)
	want := []Diagnostic{
		{SeverityError, CodeSchemaValidationFailed, "Express state machine does not support Activity ARN", "/States/P/Branches[0]/States/A/Resource"},
		{SeverityError, CodeSchemaValidationFailed, "Express state machine does not support '.waitForTaskToken' service integration", "/States/M/ItemProcessor/States/T/Resource"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	if d := ValidateExpress(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`); d != nil {
		t.Fatalf("plain task flagged: %+v", d)
	}
}
