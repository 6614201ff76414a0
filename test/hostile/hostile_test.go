package hostile_test

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/hostile"
	"github.com/sfnd/sfnd/test/testutil"
)

// runLimit is what a whole execution of a worst-case input may take, from
// StartExecution to its final status.
const runLimit = 10 * time.Second

// passThrough looks into its input with a path and returns it unchanged.
const passThrough = `{"StartAt":"Look","States":{
  "Look":{"Type":"Choice","Choices":[{"Variable":"$.nothing","IsPresent":true,"Next":"Odd"}],"Default":"Same"},
  "Odd":{"Type":"Fail","Error":"Unexpected"},
  "Same":{"Type":"Pass","InputPath":"$","Parameters":{"n.$":"States.ArrayLength(States.Array($))"},"ResultPath":null,"End":true}}}`

// profile writes a CPU profile of the test to $SFND_HOSTILE_PROFILE, when set.
func profile(t *testing.T, suffix string) {
	path := os.Getenv("SFND_HOSTILE_PROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path + "." + suffix)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pprof.StopCPUProfile(); f.Close() })
}

// TestHostileInputs starts an execution with each worst-case input once, at full size:
// StartExecution answers within hostile's limits (invalid JSON with InvalidExecutionInput),
// and a valid input runs to its end within runLimit with the input as its output.
func TestHostileInputs(t *testing.T) {
	c := testutil.Client(testutil.StartServer(t))
	ctx := context.Background()
	sm := testutil.CreateStateMachine(t, c, "hostile-inputs", passThrough)
	profile(t, "inputs")
	for i, tc := range hostile.Inputs() {
		t.Run(tc.Name, func(t *testing.T) {
			start := time.Now()
			var out *sfn.StartExecutionOutput
			var err error
			wall, cpu := hostile.Cost(func() {
				out, err = c.StartExecution(ctx, &sfn.StartExecutionInput{
					StateMachineArn: aws.String(sm), Name: aws.String(fmt.Sprint("e", i)), Input: aws.String(tc.Text),
				})
			})
			t.Logf("StartExecution (%d bytes): %v (CPU %v)", len(tc.Text), wall, cpu)
			if why := hostile.TooCostly(wall, cpu); why != "" {
				t.Errorf("StartExecution %s", why)
			}
			if !tc.Valid {
				testutil.WantCode(t, err, "InvalidExecutionInput")
				return
			}
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			d := testutil.WaitDone(t, c, *out.ExecutionArn, runLimit)
			t.Logf("execution done after %v", time.Since(start))
			if d.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("status %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
			if len(aws.ToString(d.Output)) == 0 {
				t.Errorf("no output")
			}
		})
	}
}

// TestHostileDefinitions creates, validates and updates a state machine with each
// worst-case definition once, at full size, each request within hostile's limits.
func TestHostileDefinitions(t *testing.T) {
	c := testutil.Client(testutil.StartServer(t))
	ctx := context.Background()
	profile(t, "definitions")
	for i, tc := range hostile.Definitions() {
		t.Run(tc.Name, func(t *testing.T) {
			timed := func(what string, f func() error) error {
				var err error
				wall, cpu := hostile.Cost(func() { err = f() })
				t.Logf("%s (%d bytes): %v (CPU %v)", what, len(tc.Text), wall, cpu)
				if why := hostile.TooCostly(wall, cpu); why != "" {
					t.Errorf("%s %s", what, why)
				}
				return err
			}
			var arn string
			err := timed("CreateStateMachine", func() error {
				out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
					Name: aws.String(fmt.Sprint("hostile-", i)), Definition: aws.String(tc.Text), RoleArn: aws.String(testutil.Role),
				})
				if err == nil {
					arn = *out.StateMachineArn
				}
				return err
			})
			if !tc.Valid {
				testutil.WantCode(t, err, "InvalidDefinition")
			} else if err != nil {
				t.Fatalf("create: %v", err)
			}
			err = timed("ValidateStateMachineDefinition", func() error {
				out, err := c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(tc.Text)})
				if err == nil && (out.Result == types.ValidateStateMachineDefinitionResultCodeOk) != tc.Valid {
					t.Errorf("validation result %s: %+v", out.Result, out.Diagnostics)
				}
				return err
			})
			if err != nil {
				t.Fatalf("validate: %v", err)
			}
			if arn == "" {
				return
			}
			err = timed("UpdateStateMachine", func() error {
				_, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(tc.Text), Publish: true})
				return err
			})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			err = timed("DescribeStateMachine", func() error {
				_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
				return err
			})
			if err != nil {
				t.Fatalf("describe: %v", err)
			}
			start := time.Now()
			exec := testutil.StartExecution(t, c, arn, `{"v":1}`)
			d := testutil.WaitDone(t, c, exec, 4*runLimit)
			t.Logf("execution: %s after %v", d.Status, time.Since(start))
			if d.Status != types.ExecutionStatusSucceeded {
				t.Errorf("status %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
		})
	}
}

// BenchmarkStartExecution starts an execution with each worst-case input (invalid ones
// are refused by the syntax check).
func BenchmarkStartExecution(b *testing.B) {
	c := testutil.Client(testutil.StartServer(b))
	ctx := context.Background()
	sm := testutil.CreateStateMachine(b, c, "hostile-bench", passThrough)
	for _, tc := range hostile.Inputs() {
		b.Run(tc.Name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.Text)))
			for i := 0; i < b.N; i++ {
				_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(tc.Text)})
				if (err == nil) != tc.Valid {
					b.Fatalf("start: %v", err)
				}
			}
		})
	}
}

// BenchmarkCreateStateMachine creates a state machine with each worst-case definition
// (invalid ones are refused by validation).
func BenchmarkCreateStateMachine(b *testing.B) {
	c := testutil.Client(testutil.StartServer(b))
	ctx := context.Background()
	n := 0
	for _, tc := range hostile.Definitions() {
		b.Run(tc.Name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.Text)))
			for i := 0; i < b.N; i++ {
				n++
				_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
					Name: aws.String(fmt.Sprint("bench-", n)), Definition: aws.String(tc.Text), RoleArn: aws.String(testutil.Role),
				})
				if (err == nil) != tc.Valid {
					b.Fatalf("create: %v", err)
				}
			}
		})
	}
}
