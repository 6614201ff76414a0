package sfn

import (
	"context"
	"encoding/json"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/events/fault"
)

// testStateInput is the TestState request.
type testStateInput struct {
	Definition      *string            `json:"definition"`
	RoleArn         *string            `json:"roleArn"`
	Input           *string            `json:"input"`
	InspectionLevel *string            `json:"inspectionLevel"`
	RevealSecrets   *bool              `json:"revealSecrets"`
	Variables       *string            `json:"variables"`
	StateName       *string            `json:"stateName"`
	Mock            *asl.TestStateMock `json:"mock"`
	Context         *string            `json:"context"`
	StateConfig     *json.RawMessage   `json:"stateConfiguration"`
}

// testState runs one state without an execution (AWS TestState).
func (s *Server) testState(_ context.Context, r *request) (any, error) {
	var in testStateInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("definition", in.Definition, 1, maxDefinition)
	v.OptionalString("roleArn", in.RoleArn, 1, 256)
	v.OptionalString("input", in.Input, 0, 262144)
	level := asl.InspectionInfo
	if in.InspectionLevel != nil {
		level = *in.InspectionLevel
		switch level {
		case asl.InspectionInfo, asl.InspectionDebug, asl.InspectionTrace:
		default:
			v.Add("Value '%s' at 'inspectionLevel' failed to satisfy constraint: Member must satisfy enum value set: [INFO, DEBUG, TRACE]", level)
		}
	}
	v.OptionalString("stateName", in.StateName, 1, 80)
	if err := v.Err(); err != nil {
		return nil, err
	}
	opts := asl.TestStateOptions{
		InspectionLevel: level,
		Mock:            in.Mock,
		Region:          r.Region,
		Account:         r.Account,
		Time:            s.cfg.Now().UTC(),
		Seed:            uint64(s.cfg.Random(1<<31))<<32 | uint64(s.cfg.Random(1<<31)),
		StateName:       deref(in.StateName),
		Variables:       deref(in.Variables),
		Context:         deref(in.Context),
		RoleArn:         deref(in.RoleArn),
	}
	if in.RevealSecrets != nil {
		opts.RevealSecrets = *in.RevealSecrets
	}
	res, err := asl.TestState(*in.Definition, deref(in.Input), opts)
	if err != nil {
		if _, ok := fault.As(err); ok {
			return nil, err
		}
		return nil, fault.New(fault.InvalidDefinition, "%s", err.Error())
	}
	return res, nil
}
