// Package modern tests, end to end with aws-sdk-go-v2, the operations AWS added in
// 2023-2024: TestState and JSONata executions with variables.
package modern

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

// sameJSON compares JSON texts by value (TestState prints payloads with spaces, as the
// AWS-recorded corpus shows).
func sameJSON(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("not JSON: %q", got)
	}
	_ = json.Unmarshal([]byte(want), &w)
	return reflect.DeepEqual(g, w)
}

func TestTestState(t *testing.T) {
	ctx := context.Background()
	c := testutil.Client(testutil.StartServer(t))

	pass, err := c.TestState(ctx, &sfn.TestStateInput{
		Definition: aws.String(`{"Type":"Pass","InputPath":"$.a","Parameters":{"x.$":"$.b"},"ResultPath":"$.r","Next":"N"}`),
		RoleArn:    aws.String(testutil.Role), Input: aws.String(`{"a":{"b":7}}`), InspectionLevel: types.InspectionLevelDebug,
	})
	if err != nil {
		t.Fatal(err)
	}
	// ResultPath merges into the state's raw input, not the InputPath's selection.
	if pass.Status != types.TestExecutionStatusSucceeded || aws.ToString(pass.NextState) != "N" ||
		!sameJSON(t, aws.ToString(pass.Output), `{"a":{"b":7},"r":{"x":7}}`) {
		t.Fatalf("pass: %s next %s output %s", pass.Status, aws.ToString(pass.NextState), aws.ToString(pass.Output))
	}
	if pass.InspectionData == nil || !sameJSON(t, aws.ToString(pass.InspectionData.AfterInputPath), `{"b":7}`) {
		t.Fatalf("inspection data: %+v", pass.InspectionData)
	}

	choice, err := c.TestState(ctx, &sfn.TestStateInput{
		Definition: aws.String(`{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"Big"}],"Default":"Small"}`),
		RoleArn:    aws.String(testutil.Role), Input: aws.String(`{"n":2}`),
	})
	if err != nil || aws.ToString(choice.NextState) != "Big" {
		t.Fatalf("choice: %v %+v", err, choice)
	}

	fail, err := c.TestState(ctx, &sfn.TestStateInput{
		Definition: aws.String(`{"Type":"Fail","Error":"Oops","Cause":"bad"}`), RoleArn: aws.String(testutil.Role),
	})
	if err != nil || fail.Status != types.TestExecutionStatusFailed || aws.ToString(fail.Error) != "Oops" || aws.ToString(fail.Cause) != "bad" {
		t.Fatalf("fail: %v %+v", err, fail)
	}

	jsonata, err := c.TestState(ctx, &sfn.TestStateInput{
		Definition: aws.String(`{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input.v * 2 %}","End":true}`),
		RoleArn:    aws.String(testutil.Role), Input: aws.String(`{"v":21}`),
	})
	if err != nil || !sameJSON(t, aws.ToString(jsonata.Output), "42") {
		t.Fatalf("jsonata: %v %+v", err, jsonata)
	}

	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(`{"Type":"Nope"}`), RoleArn: aws.String(testutil.Role)})
	testutil.WantCode(t, err, "InvalidDefinition")
	_, err = c.TestState(ctx, &sfn.TestStateInput{
		Definition: aws.String(`{"Type":"Pass","End":true}`), RoleArn: aws.String(testutil.Role), Input: aws.String("{oops"),
	})
	if err == nil {
		t.Fatal("TestState accepted malformed input")
	}
}

func TestJSONataExecutionWithVariables(t *testing.T) {
	ctx := context.Background()
	c := testutil.Client(testutil.StartServer(t))
	def := `{"QueryLanguage":"JSONata","StartAt":"A","States":{
	  "A":{"Type":"Pass","Assign":{"total":"{% $sum($states.input.items) %}"},"Next":"M"},
	  "M":{"Type":"Map","Items":"{% $states.input.items %}",
	       "ItemProcessor":{"StartAt":"D","States":{"D":{"Type":"Pass","Output":"{% $states.input * $total %}","End":true}}},
	       "Next":"C"},
	  "C":{"Type":"Choice","Choices":[{"Condition":"{% $count($states.input) = 3 %}","Next":"Done"}],"Default":"Bad"},
	  "Bad":{"Type":"Fail","Error":"Bad"},
	  "Done":{"Type":"Succeed","Output":"{% {'scaled': $states.input, 'total': $total} %}"}}}`
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("jsonata"), Definition: aws.String(def), RoleArn: aws.String(testutil.Role)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"items":[1,2,3]}`)})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != types.ExecutionStatusRunning {
			if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"scaled":[6,12,18],"total":6}` {
				t.Fatalf("jsonata execution: %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Cause))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("execution still running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: out.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range h.Events {
		if ev.Type == types.HistoryEventTypePassStateExited && ev.StateExitedEventDetails != nil &&
			aws.ToString(ev.StateExitedEventDetails.Name) == "A" {
			if got := ev.StateExitedEventDetails.AssignedVariables["total"]; got != "6" {
				t.Fatalf("assignedVariables: %v", ev.StateExitedEventDetails.AssignedVariables)
			}
			return
		}
	}
	t.Fatalf("no PassStateExited for A in %d events", len(h.Events))
}
