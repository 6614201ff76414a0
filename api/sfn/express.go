package sfn

import (
	"context"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/google/uuid"

	"github.com/sfnd/sfnd/actors/asl/validate"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// EXPRESS state machines and StartSyncExecution. Express executions run on the same
// engine as standard ones (one actor, the same decider); what differs is at the edge:
// their ARNs ("arn:...:express:<stateMachine>:<name>:<uuid>"), that AWS keeps no
// history of them (DescribeExecution, GetExecutionHistory, StopExecution and
// ListExecutions refuse them as AWS does), and StartSyncExecution, which runs one to its
// end and answers with its outcome.

// syncWait bounds StartSyncExecution: an express execution lasts at most five minutes.
const syncWait = 5 * time.Minute

// checkExpressDefinition answers InvalidDefinition for what an EXPRESS state machine
// cannot run (.sync and .waitForTaskToken integrations, activities).
func checkExpressDefinition(def string) error {
	if diags := validate.ValidateExpress(def); len(diags) > 0 {
		return fault.New(fault.InvalidDefinition, "%s", validate.InvalidDefinitionMessage(diags))
	}
	return nil
}

// startTarget is what an execution runs: the state machine, or a version of it picked by
// a version or alias ARN.
type startTarget struct {
	sm         events.StateMachineRecord // the definition to run (a version's snapshot)
	smARN      string                    // the unqualified state machine ARN
	versionARN string
	aliasARN   string
}

// resolveStart finds what StartExecution/StartSyncExecution run for stateMachineArn:
// a state machine, a version ("...:7"), or an alias, which picks one of its versions.
func (s *Server) resolveStart(ctx context.Context, raw string) (startTarget, error) {
	a, err := parseARN(raw, "stateMachine")
	if err != nil {
		return startTarget{}, err
	}
	notFound := stateMachineNotFound(raw)
	t := startTarget{smARN: baseARN(a)}
	base, err := s.stateMachine(ctx, t.smARN)
	if errors.Is(err, events.ErrNotFound) {
		return t, notFound
	} else if err != nil {
		return t, err
	}
	if base.Status == "DELETING" {
		return t, stateMachineDeleting(t.smARN)
	}
	switch {
	case a.qualifier == "":
		t.sm = base
		return t, nil
	case versionNumber(a) > 0:
		t.versionARN = raw
	default:
		al := base.Versioning.Alias(raw)
		if al == nil || len(al.Routing) == 0 {
			return t, notFound
		}
		t.aliasARN = raw
		t.versionARN = pickVersion(al.Routing, s.cfg.Random)
	}
	t.sm, err = s.version(ctx, t.versionARN)
	if errors.Is(err, events.ErrNotFound) {
		return t, notFound
	}
	return t, err
}

// executionARNFor is the ARN of a new execution named name of target: an execution ARN,
// or an express one with a fresh id.
func executionARNFor(target startTarget, name string) string {
	a, _ := parseARN(target.smARN, "stateMachine")
	a.resourceType, a.qualifier = "execution", name
	if target.sm.Type == "EXPRESS" {
		a.resourceType, a.more = "express", uuid.NewString()
	}
	return a.String()
}

type startSyncExecutionOutput struct {
	ExecutionArn    string          `json:"executionArn"`
	StateMachineArn string          `json:"stateMachineArn"`
	Name            string          `json:"name"`
	StartDate       Time            `json:"startDate"`
	StopDate        Time            `json:"stopDate"`
	Status          string          `json:"status"`
	Error           *string         `json:"error,omitempty"`
	Cause           *string         `json:"cause,omitempty"`
	Input           *string         `json:"input,omitempty"`
	InputDetails    *dataDetails    `json:"inputDetails,omitempty"`
	Output          *string         `json:"output,omitempty"`
	OutputDetails   *dataDetails    `json:"outputDetails,omitempty"`
	TraceHeader     *string         `json:"traceHeader,omitempty"`
	BillingDetails  *billingDetails `json:"billingDetails,omitempty"`
}

type billingDetails struct {
	BilledMemoryUsedInMB         int64 `json:"billedMemoryUsedInMB"`
	BilledDurationInMilliseconds int64 `json:"billedDurationInMilliseconds"`
}

func (s *Server) startSyncExecution(ctx context.Context, r *request) (any, error) {
	if s.engine == nil {
		return nil, &fault.Error{Code: fault.UnknownOperation}
	}
	var in struct {
		startExecutionInput
		IncludedData *string `json:"includedData"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	in.check(&v)
	metaOnly := metadataOnly(&v, in.IncludedData)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, input, err := in.nameAndInput()
	if err != nil {
		return nil, err
	}
	target, err := s.resolveStart(ctx, *in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if target.sm.Type != "EXPRESS" {
		return nil, typeNotSupported()
	}
	start, rec := s.newStart(target, name, input, in.TraceHeader)
	if _, err := s.execs.Reserve(ctx, rec); err != nil {
		return nil, err
	}
	execARN, now := rec.ARN, rec.StartDate
	progress, stop := s.launch(rec)
	defer stop()
	wait, cancel := context.WithTimeout(ctx, syncWait)
	defer cancel()
	for done := false; !done; {
		select {
		case p := <-progress:
			done = p.Status != "" && p.Status != "RUNNING"
		case <-wait.Done():
			return nil, errors.Wrapf(wait.Err(), "wait for express execution %s", execARN)
		}
	}
	hist, _, err := s.hist.ReadHistory(ctx, execARN)
	if err != nil {
		return nil, err
	}
	out := startSyncExecutionOutput{
		ExecutionArn: execARN, StateMachineArn: target.smARN, Name: name, StartDate: Time(now),
		Input: &input, InputDetails: &dataDetails{Included: true},
		OutputDetails: &dataDetails{Included: true},
		TraceHeader:   optString(start.TraceHeader),
	}
	stopDate := now
	for i := len(hist) - 1; i >= 0; i-- {
		ev := hist[i]
		var d *events.ErrorDetails
		switch ev.Type {
		case events.ExecutionSucceeded:
			out.Status = "SUCCEEDED"
			if ev.ExecutionSucceededEventDetails != nil {
				out.Output = ev.ExecutionSucceededEventDetails.Output
			}
		case events.ExecutionFailed:
			out.Status, d = "FAILED", ev.ExecutionFailedEventDetails
		case events.ExecutionTimedOut:
			out.Status, d = "TIMED_OUT", ev.ExecutionTimedOutEventDetails
		case events.ExecutionAborted:
			out.Status, d = "FAILED", ev.ExecutionAbortedEventDetails
		default:
			continue
		}
		if d != nil {
			out.Error, out.Cause = optString(d.Error), optString(d.Cause)
		}
		stopDate = ev.Timestamp
		break
	}
	if out.Status == "" {
		return nil, errors.Newf("express execution %s ended without a terminal event", execARN)
	}
	out.StopDate = Time(stopDate)
	billed := max(100, (stopDate.Sub(now).Milliseconds()+99)/100*100)
	out.BillingDetails = &billingDetails{BilledMemoryUsedInMB: 64, BilledDurationInMilliseconds: billed}
	if metaOnly {
		out.Input, out.Output = nil, nil
		out.InputDetails, out.OutputDetails = &dataDetails{Included: false}, &dataDetails{Included: false}
	}
	return out, nil
}

// listExecutionsOf returns the executions ListExecutions lists for stateMachineArn: all
// of a state machine's, or those started through one of its versions or aliases.
func (s *Server) listExecutionsOf(ctx context.Context, raw string) ([]events.ExecutionRecord, error) {
	a, err := parseARN(raw, "stateMachine")
	if err != nil {
		return nil, err
	}
	notFound := stateMachineNotFound(raw)
	sm, err := s.stateMachine(ctx, baseARN(a))
	if errors.Is(err, events.ErrNotFound) {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	switch {
	case a.qualifier == "":
	case versionNumber(a) > 0:
		if sm.Versioning.Version(versionNumber(a)) == nil {
			return nil, notFound
		}
	case sm.Versioning.Alias(raw) == nil:
		return nil, notFound
	}
	if sm.Type == "EXPRESS" {
		return nil, typeNotSupported()
	}
	all, err := s.execs.List(ctx, sm.ARN)
	if err != nil || a.qualifier == "" {
		return all, err
	}
	kept := all[:0]
	for _, rec := range all {
		if rec.Start != nil && (rec.Start.StateMachineVersionARN == raw || rec.Start.StateMachineAliasARN == raw) {
			kept = append(kept, rec)
		}
	}
	return kept, nil
}
