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

// TestTaskResourceForms: a Task resource of one of the documented kinds (Lambda function,
// service integration, activity) that is malformed is refused with the message the
// validator gives for any resource it does not recognise; well-formed ones, and resources
// of kinds AWS's verdict on is not known, are accepted.
func TestTaskResourceForms(t *testing.T) {
	task := func(resource string) string {
		return `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + resource + `","End":true}}}`
	}
	for _, r := range []string{
		"arn:aws:lambda:us-east-1:123456789012:function:",
		"arn:aws:lambda:us-east-1:123456789012:function:f:",
		"arn:aws:lambda:us-east-1:123456789012:function:f:$*#$7485",
		"arn:aws:lambda:us-east-1:123456789012:function:f:1:2",
		"arn:aws:lambda:us-east-1:123456789012:function:my func",
		"arn:aws:lambda:us-east-1:123456789012:function:" + strings.Repeat("f", 65),
		"arn:aws:lambda:us-east-1:123456789012:function:f:" + strings.Repeat("a", 129),
		"arn:aws:lambda:us-east-1:123456789012:MyFunction",
		"arn:aws:lambda:us-east-1:123456789012:layer:l:1",
		"arn:aws:states:::lambda:invoke.waitForTaskToken1",
		"arn:aws:states:::lambda:invoke.sync:3",
		"arn:aws:states:::lambda:invoke:foo",
		"arn:aws:states:::lambda:",
		"arn:aws:states:::lambda",
		"arn:aws:states:::Lambda:invoke",
		"arn:aws:states:::sns:publish.",
		"arn:aws:states:::aws-sdk:s3",
		"arn:aws:states:::aws-sdk:s3:get-object",
		"arn:aws:states:::aws-sdk::getObject",
		"arn:aws:states:::activity:worker",
		"arn:aws:states:us-east-1:123456789012:activity:",
		"arn:aws:states:us-east-1:123456789012:activity:a b",
		"arn:aws:states:us-east-1:123456789012:activity:a:b",
		"arn:aws:states:us-east-1::activity:a",
		"lambda:invoke",
		"arn:aws:states",
	} {
		want := "SCHEMA_VALIDATION_FAILED: The resource provided " + r + " is not recognized. The value is not a valid resource ARN, or the resource is not available in this region. at /States/T/Resource"
		if got := InvalidDefinitionMessage(Validate(task(r))); !strings.Contains(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", r, got, want)
		}
	}
	for _, r := range []string{
		"arn:aws:lambda:us-east-1:123456789012:function:my-function_1",
		"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
		"arn:aws:lambda:us-east-1:123456789012:function:f:7",
		"arn:aws:lambda:us-east-1:123456789012:function:f:prod-Alias_2",
		"arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
		"arn:aws:lambda:::function:publish-to-slack-lambda", // region and account are not judged
		"arn:aws:states:::lambda:invoke",
		"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"arn:aws:states:::states:startExecution.sync:2",
		"arn:aws:states:::states:startExecution.sync",
		"arn:aws:states:::ecs:runTask.sync",
		"arn:aws:states:::emr-containers:startJobRun.sync",
		"arn:aws:states:::elasticmapreduce:createCluster.sync",
		"arn:aws:states:::http:invoke",
		"arn:aws:states:::eks:call",
		"arn:aws:states:::events:putEvents.waitForTaskToken",
		"arn:aws:states:::aws-sdk:s3:listObjectsV2",
		"arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
		"arn:aws:states:::aws-sdk:ec2:describeInstances.waitForTaskToken",
		"arn:aws:states:us-east-1:123456789012:activity:my-activity_1",
		"arn:aws:states:us-east-1:123456789012:aws-sdk:s3:getObject", // not a documented form: left alone
		"arn:aws:sns:us-east-1:123456789012:topic",                   // another service: left alone
	} {
		if diags := Validate(task(r)); HasErrors(diags) {
			t.Errorf("%s: %s", r, InvalidDefinitionMessage(diags))
		}
	}
}

// TestFieldKeyCollisions: "A JSON object MUST NOT have duplicate field names after fields
// ending with the characters ".$" are renamed to strip the ".$" suffix" (ASL
// specification, Payload Template): x and x.$ in one object of a payload template or an
// Assign block are refused, at the template field, in the words the validator uses for
// other fields that exclude each other.
func TestFieldKeyCollisions(t *testing.T) {
	pass := func(fields string) string {
		return `{"StartAt":"P","States":{"P":{"Type":"Pass",` + fields + `,"End":true}}}`
	}
	for def, want := range map[string]string{
		pass(`"Parameters":{"x":1,"x.$":"$.a"}`):                  "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [x, x.$] at /States/P/Parameters",
		pass(`"Parameters":{"a":[{"b":{"y.$":"$.a","y":null}}]}`): "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [y, y.$] at /States/P/Parameters",
		pass(`"Assign":{"v.$":"$.a","v":2}`):                      "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [v, v.$] at /States/P/Assign",
		`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultSelector":{"p":{"q.$":"$.a","q":"x"}},"End":true}}}`: "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [q, q.$] at /States/T/ResultSelector",
	} {
		if got := InvalidDefinitionMessage(Validate(def)); !strings.Contains(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", def, got, want)
		}
	}
	for _, def := range []string{
		pass(`"Parameters":{"x":1,"y.$":"$.a","z":{"x.$":"$.b"}}`), // the same name in another object
		pass(`"Parameters":{"x.$$":"$.a","x.":1,"x$":2}`),          // only the ".$" suffix is stripped
		pass(`"Result":{"x":1,"x.$":"$.a"}`),                       // a Result is not a template
	} {
		if diags := Validate(def); HasErrors(diags) {
			t.Errorf("%s: %s", def, InvalidDefinitionMessage(diags))
		}
	}
}
