package sfn

import (
	"context"
	"strings"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// StartChild reserves a nested execution for a Task state on states:startExecution
// (actors.StatesIntegration launches it). It validates and refuses exactly as
// StartExecution does. A name already taken by an execution of the same parent task
// is that task's child (a re-dispatch after a crash): it is returned with a nil Start.
// Other taken names follow StartExecution: a running execution with the same input is
// the idempotent answer for fire-and-forget and callback tasks, anything else
// ExecutionAlreadyExists.
func (s *Server) StartChild(ctx context.Context, req actors.ChildStart) (actors.ChildStarted, error) {
	in := startExecutionInput{StateMachineArn: req.StateMachineARN, Name: req.Name, Input: req.Input,
		TraceHeader: req.TraceHeader}
	parent := req.Parent
	start, rec, err := s.reserveStart(ctx, in, &parent)
	if errors.Is(err, events.ErrConflict) {
		if rec.Start != nil && rec.Start.Parent != nil && *rec.Start.Parent == parent {
			return actors.ChildStarted{ExecutionARN: rec.ARN, StartDate: rec.StartDate, Reserved: rec.Start}, nil
		}
		sync := parent.Pattern == "sync" || parent.Pattern == "sync:2"
		if !sync && rec.Status == "RUNNING" && rec.Start != nil && rec.Start.Input == start.Input {
			return actors.ChildStarted{ExecutionARN: rec.ARN, StartDate: rec.StartDate}, nil
		}
		return actors.ChildStarted{}, fault.New(fault.ExecutionAlreadyExists, "Execution Already Exists: '%s'", rec.ARN)
	}
	if err != nil {
		return actors.ChildStarted{}, err
	}
	return actors.ChildStarted{ExecutionARN: rec.ARN, StartDate: rec.StartDate, Start: start}, nil
}

// splitTestCase splits "<stateMachineArn>#<TestCase>" (AWS Step Functions Local's way
// of running a mock configuration test case). Without a mock configuration the ARN is
// left whole, so it is refused as AWS refuses it.
func (s *Server) splitTestCase(arn string) (smARN, testCase string) {
	if s.engine == nil || s.engine.Mocks() == nil {
		return arn, ""
	}
	if i := strings.LastIndexByte(arn, '#'); i >= 0 {
		return arn[:i], arn[i+1:]
	}
	return arn, ""
}

// checkTestCase refuses a test case the mock configuration does not define for the
// state machine.
func (s *Server) checkTestCase(stateMachine, testCase string) error {
	if testCase == "" {
		return nil
	}
	if _, ok := s.engine.Mocks().TestCase(stateMachine, testCase); !ok {
		return fault.New(fault.ValidationException,
			"Test case '%s' is not defined for state machine '%s' in the mock configuration", testCase, stateMachine)
	}
	return nil
}
