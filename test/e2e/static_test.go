package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// staticCase is a definition refused at definition time (issue 18: what AWS checks
// statically), with the diagnostic it gets.
type staticCase struct {
	name, definition, code, message, location string
}

// TestStaticDefinitionChecks sends definitions that can never run (mistyped intrinsic
// function arguments, malformed Task resources, x with x.$) through CreateStateMachine,
// UpdateStateMachine and ValidateStateMachineDefinition: each is refused with the same
// diagnostic, and a refused update leaves the stored definition as it was.
func TestStaticDefinitionChecks(t *testing.T) {
	pass := func(params string) string {
		return `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":` + params + `,"End":true}}}`
	}
	const badCall = "must be a valid JSONPath or a valid intrinsic function call"
	cases := []staticCase{
		{"MathAdd string", pass(`{"sum.$":"States.MathAdd(1, '-1')"}`), "SCHEMA_VALIDATION_FAILED",
			"The value for the field 'sum.$' " + badCall, "/States/P/Parameters"},
		{"ArrayRange string", pass(`{"r.$":"States.ArrayRange('a', 1, 2)"}`), "SCHEMA_VALIDATION_FAILED",
			"The value for the field 'r.$' " + badCall, "/States/P/Parameters"},
		{"UUID arity", pass(`{"u.$":"States.UUID($.a)"}`), "SCHEMA_VALIDATION_FAILED",
			"The value for the field 'u.$' " + badCall, "/States/P/Parameters"},
		{"x and x.$", pass(`{"x":1,"x.$":"$.a"}`), "SCHEMA_VALIDATION_FAILED",
			"There should only be one of the following fields: [x, x.$]", "/States/P/Parameters"},
	}
	task := func(resource string) string {
		return `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + resource + `","End":true}}}`
	}
	notRecognized := func(resource string) string {
		return "The resource provided " + resource + " is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."
	}
	for _, r := range []string{
		"arn:aws:lambda:us-east-1:123456789012:function:f:",
		"arn:aws:lambda:us-east-1:123456789012:MyFunction",
		"arn:aws:states:::lambda:invoke.waitForTaskToken1",
		"arn:aws:states:::activity:worker",
	} {
		cases = append(cases, staticCase{"resource " + r, task(r), "SCHEMA_VALIDATION_FAILED", notRecognized(r), "/States/T/Resource"})
	}
	c := client(region)
	name := uniq("static")
	good := passDefinition("s")
	sm := createSM(t, c, name, good)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := "Invalid State Machine Definition: '" + tc.code + ": " + tc.message + " at " + tc.location + "'"
			_, err := c.CreateStateMachine(ctx(t), &sfn.CreateStateMachineInput{Name: aws.String(uniq("static")),
				Definition: aws.String(tc.definition), RoleArn: aws.String(roleArn)})
			wantErr(t, err, "InvalidDefinition", want)
			_, err = c.UpdateStateMachine(ctx(t), &sfn.UpdateStateMachineInput{StateMachineArn: sm.StateMachineArn,
				Definition: aws.String(tc.definition)})
			wantErr(t, err, "InvalidDefinition", want)
			d, err := c.DescribeStateMachine(ctx(t), &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn})
			ok(t, err)
			if aws.ToString(d.Definition) != good {
				t.Fatalf("a refused update changed the definition to %s", aws.ToString(d.Definition))
			}
			v, err := c.ValidateStateMachineDefinition(ctx(t), &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(tc.definition)})
			ok(t, err)
			if v.Result != types.ValidateStateMachineDefinitionResultCodeFail || len(v.Diagnostics) != 1 {
				t.Fatalf("validate: %s %+v", v.Result, v.Diagnostics)
			}
			dg := v.Diagnostics[0]
			if dg.Severity != types.ValidateStateMachineDefinitionSeverityError || aws.ToString(dg.Code) != tc.code ||
				aws.ToString(dg.Message) != tc.message || aws.ToString(dg.Location) != tc.location {
				t.Fatalf("validate diagnostic %s %s %q at %s", dg.Severity, aws.ToString(dg.Code), aws.ToString(dg.Message), aws.ToString(dg.Location))
			}
		})
	}
}
