package testutil

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

// Role is the IAM role ARN the end-to-end tests give their state machines.
const Role = "arn:aws:iam::123456789012:role/test"

// CreateStateMachine creates a STANDARD state machine named name with definition def
// and returns its ARN, failing the test on any error.
func CreateStateMachine(t testing.TB, c *sfn.Client, name, def string) string {
	t.Helper()
	out, err := c.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(Role),
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return *out.StateMachineArn
}

// StartExecution starts an execution of the state machine sm with input and returns
// the execution's ARN, failing the test on any error.
func StartExecution(t testing.TB, c *sfn.Client, sm, input string) string {
	t.Helper()
	out, err := c.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(input)})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return *out.ExecutionArn
}

// WaitDone polls DescribeExecution every 10 ms until the execution is no longer
// RUNNING and returns that description. It fails the test when a DescribeExecution
// call fails, or when the execution still runs after within (the message then carries
// the history in HistoryTypes form).
func WaitDone(t testing.TB, c *sfn.Client, arn string, within time.Duration) *sfn.DescribeExecutionOutput {
	t.Helper()
	return waitDone(t, c, arn, within, false)
}

// WaitDoneRetrying is WaitDone for a node that may be restarting meanwhile: a failed
// DescribeExecution call is retried until the deadline instead of failing the test.
func WaitDoneRetrying(t testing.TB, c *sfn.Client, arn string, within time.Duration) *sfn.DescribeExecutionOutput {
	t.Helper()
	return waitDone(t, c, arn, within, true)
}

func waitDone(t testing.TB, c *sfn.Client, arn string, within time.Duration, retryErrors bool) *sfn.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		out, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil && !retryErrors {
			t.Fatalf("describe: %v", err)
		}
		if err == nil && out.Status != types.ExecutionStatusRunning {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s not done after %v (last error %v); history %s", arn, within, err, HistoryTypes(t, c, arn))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// History returns an execution's events (up to 1000, oldest first), failing the test
// on any error.
func History(t testing.TB, c *sfn.Client, arn string) []types.HistoryEvent {
	t.Helper()
	h, err := c.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return h.Events
}

// HistoryTypes is the compact form of an execution's history, its events as
// "id:Type<previousEventId" joined by spaces, e.g. "1:ExecutionStarted<0
// 2:PassStateEntered<0". It fails the test when the event ids are not 1, 2, 3...
func HistoryTypes(t testing.TB, c *sfn.Client, arn string) string {
	t.Helper()
	var out []string
	for i, ev := range History(t, c, arn) {
		if ev.Id != int64(i+1) {
			t.Fatalf("event %d has id %d", i, ev.Id)
		}
		out = append(out, fmt.Sprintf("%d:%s<%d", ev.Id, ev.Type, ev.PreviousEventId))
	}
	return strings.Join(out, " ")
}

// WantHistory fails the test unless the execution's history in HistoryTypes form is
// want, and returns the history's events.
func WantHistory(t testing.TB, c *sfn.Client, arn, want string) []types.HistoryEvent {
	t.Helper()
	if got := HistoryTypes(t, c, arn); got != want {
		t.Fatalf("history of %s\n got %s\nwant %s", arn, got, want)
	}
	return History(t, c, arn)
}

// WantCode fails the test unless err is an API error (smithy.APIError) whose code is
// code, such as "ExecutionDoesNotExist".
func WantCode(t testing.TB, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("got error %v, want %s", err, code)
	}
}

// WantCodeContaining is WantCode that also requires the error's message to contain
// msgPart.
func WantCodeContaining(t testing.TB, err error, code, msgPart string) {
	t.Helper()
	WantCode(t, err, code)
	var ae smithy.APIError
	errors.As(err, &ae)
	if !strings.Contains(ae.ErrorMessage(), msgPart) {
		t.Fatalf("%s message %q does not contain %q", code, ae.ErrorMessage(), msgPart)
	}
}
