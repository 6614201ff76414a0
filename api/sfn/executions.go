package sfn

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/google/uuid"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/asl/validate"
	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/projections"
)

// maxPayload is AWS's limit on execution input and task output (256 KiB).
const maxPayload = 256 * 1024

// startWait bounds how long StartExecution waits for the execution's first events, so
// that a client that starts and at once reads its history sees it.
const startWait = 5 * time.Second

// EnableExecutions adds the execution operations, served by engine and execs.
func (s *Server) EnableExecutions(engine *actors.Engine, store *jsstore.Store, execs *projections.Executions) {
	s.engine, s.hist, s.execs = engine, store, execs
	s.ops["StartExecution"] = s.startExecution
	s.ops["DescribeExecution"] = s.describeExecution
	s.ops["StopExecution"] = s.stopExecution
	s.ops["ListExecutions"] = s.listExecutions
	s.ops["GetExecutionHistory"] = s.getExecutionHistory
	s.ops["DescribeStateMachineForExecution"] = s.describeStateMachineForExecution
	s.ops["RedriveExecution"] = s.redriveExecution
	// State machines left DELETING by an earlier run finish when their executions end.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if all, err := s.res.StateMachines(ctx); err == nil {
		for _, sm := range all {
			if sm.Status == "DELETING" {
				s.deleting.Store(sm.ARN, struct{}{})
				go func(arn string) { // its last execution may have ended before a crash
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					if err := s.FinishDeleting(ctx, arn); err != nil {
						s.cfg.Logger.Warn("finish deleting state machine", "stateMachine", arn, "err", err)
					}
				}(sm.ARN)
			}
		}
	} else {
		s.cfg.Logger.Warn("list state machines being deleted", "err", err)
	}
}

type startExecutionInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	Name            *string `json:"name"`
	Input           *string `json:"input"`
	TraceHeader     *string `json:"traceHeader"`
}

func (s *Server) startExecution(ctx context.Context, r *request) (any, error) {
	var in startExecutionInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	start, rec, err := s.reserveStart(ctx, in, nil)
	if errors.Is(err, events.ErrConflict) {
		if rec.Status == "RUNNING" && rec.Start != nil && rec.Start.Input == start.Input {
			return startExecutionOutput{ExecutionArn: rec.ARN, StartDate: Time(rec.StartDate)}, nil
		}
		return nil, fault.New(fault.ExecutionAlreadyExists, "Execution Already Exists: '%s'", rec.ARN)
	}
	if err != nil {
		return nil, err
	}
	execARN, now := rec.ARN, rec.StartDate
	progress, stop := s.launch(rec)
	defer stop()
	wait, cancel := context.WithTimeout(ctx, startWait)
	defer cancel()
	select {
	case <-progress:
	case <-wait.Done():
		s.cfg.Logger.Warn("execution did not record its start in time", "execution", execARN)
	}
	return startExecutionOutput{ExecutionArn: execARN, StartDate: Time(now)}, nil
}

// reserveStart validates a start request and reserves the execution (its record holds
// the start command: the durable record of the request). It returns the start command
// and the new record; when the name is taken, an error marked events.ErrConflict with
// the existing record. parent names the Task state starting a nested execution.
func (s *Server) reserveStart(ctx context.Context, in startExecutionInput, parent *events.ParentTask) (*events.StartCommand, events.ExecutionRecord, error) {
	var none events.ExecutionRecord
	var v violations
	in.check(&v)
	if err := v.Err(); err != nil {
		return nil, none, err
	}
	// "<stateMachineArn>#<TestCase>" runs a test case of the mock configuration (mocks.go).
	smArg, testCase := s.splitTestCase(*in.StateMachineArn)
	if _, err := parseARN(smArg, "stateMachine"); err != nil {
		return nil, none, err
	}
	name, input, err := in.nameAndInput()
	if err != nil {
		return nil, none, err
	}
	// A version or alias ARN runs that version (versions.go, aliases.go, express.go).
	target, err := s.resolveStart(ctx, smArg)
	if err != nil {
		return nil, none, err
	}
	if err := s.checkTestCase(target.sm.Name, testCase); err != nil {
		return nil, none, err
	}
	start, rec := s.newStart(target, name, input, in.TraceHeader)
	start.Parent, start.MockTestCase = parent, testCase
	existing, err := s.execs.Reserve(ctx, rec)
	if errors.Is(err, events.ErrConflict) {
		return start, existing, err
	}
	if err != nil {
		return nil, none, err
	}
	return start, rec, nil
}

// check records the violations of a StartExecution or StartSyncExecution request.
func (in startExecutionInput) check(v *violations) {
	v.RequiredString("stateMachineArn", in.StateMachineArn, 1, 256)
	v.OptionalString("name", in.Name, 1, 80)
	if in.Input != nil && len(*in.Input) > maxPayload {
		v.Add("Value at 'input' failed to satisfy constraint: Member must have length less than or equal to %d", maxPayload)
	}
	v.OptionalString("traceHeader", in.TraceHeader, 0, 256)
	if in.TraceHeader != nil && !isASCII(*in.TraceHeader) {
		v.Add("Value '%s' at 'traceHeader' failed to satisfy constraint: Member must satisfy regular expression pattern: \\p{ASCII}*", *in.TraceHeader)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// nameAndInput returns the name of the execution a start request starts (a new UUID
// when none is given) and its input ("{}" when none is given), or InvalidName or
// InvalidExecutionInput.
func (in startExecutionInput) nameAndInput() (name, input string, err error) {
	name = uuid.NewString()
	if in.Name != nil {
		name = *in.Name
		if err := validName(name); err != nil {
			return "", "", err
		}
	}
	input = "{}"
	if in.Input != nil {
		input = *in.Input
	}
	if msg, bad := validate.JSONSyntaxError(input); bad {
		return "", "", fault.New(fault.InvalidExecutionInput, "Invalid State Machine Execution Input: '%s'", msg)
	}
	return name, input, nil
}

// newStart is the start command of a new execution named name of target, starting
// now, and the RUNNING record that reserves it.
func (s *Server) newStart(target startTarget, name, input string, traceHeader *string) (*events.StartCommand, events.ExecutionRecord) {
	now := s.cfg.Now().UTC()
	start := &events.StartCommand{
		Name: name, Input: input, StateMachineARN: target.smARN, StateMachineName: target.sm.Name,
		StateMachineVersionARN: target.versionARN, StateMachineAliasARN: target.aliasARN,
		Definition: target.sm.Definition, RoleARN: target.sm.RoleARN, StartDate: now,
		TraceHeader: deref(traceHeader),
	}
	rec := events.ExecutionRecord{
		ARN: executionARNFor(target, name), StateMachineARN: target.smARN, Name: name, Status: "RUNNING",
		StartDate: now, Start: start,
	}
	return start, rec
}

// launch delivers the start command of a reserved execution to the engine. It returns
// the execution's progress, watched from before the delivery, and the function that
// stops watching.
func (s *Server) launch(rec events.ExecutionRecord) (<-chan actors.Progress, func()) {
	progress, stop := s.engine.Watch(rec.ARN)
	s.engine.Deliver(events.Command{Kind: events.CmdStart, ExecARN: rec.ARN, Time: rec.StartDate, Start: rec.Start}, nil)
	return progress, stop
}

type startExecutionOutput struct {
	ExecutionArn string `json:"executionArn"`
	StartDate    Time   `json:"startDate"`
}

// executionARN decodes and checks the executionArn member.
func executionARN(r *request, in *executionARNInput) (string, error) {
	if err := r.Decode(in); err != nil {
		return "", err
	}
	var v violations
	v.RequiredString("executionArn", in.ExecutionArn, 1, 256)
	// Express executions keep no history: AWS refuses their ARNs here (express.go).
	return checkedARN(v, in.ExecutionArn, "execution")
}

type executionARNInput struct {
	ExecutionArn         *string `json:"executionArn"`
	Error                *string `json:"error"`
	Cause                *string `json:"cause"`
	MaxResults           *int    `json:"maxResults"`
	NextToken            *string `json:"nextToken"`
	ReverseOrder         bool    `json:"reverseOrder"`
	IncludeExecutionData *bool   `json:"includeExecutionData"`
	IncludedData         *string `json:"includedData"`
}

func (s *Server) lookupExecution(ctx context.Context, execARN string) (events.ExecutionRecord, error) {
	rec, err := s.execution(ctx, execARN)
	if errors.Is(err, events.ErrNotFound) {
		return rec, fault.New(fault.ExecutionDoesNotExist, "Execution Does Not Exist: '%s'", execARN)
	}
	return rec, err
}

type dataDetails struct {
	Included bool `json:"included"`
}

type describeExecutionOutput struct {
	ExecutionArn           string       `json:"executionArn"`
	StateMachineArn        string       `json:"stateMachineArn"`
	Name                   string       `json:"name"`
	Status                 string       `json:"status"`
	StartDate              Time         `json:"startDate"`
	StopDate               *Time        `json:"stopDate,omitempty"`
	Input                  *string      `json:"input,omitempty"`
	InputDetails           *dataDetails `json:"inputDetails,omitempty"`
	Output                 *string      `json:"output,omitempty"`
	OutputDetails          *dataDetails `json:"outputDetails,omitempty"`
	Error                  *string      `json:"error,omitempty"`
	Cause                  *string      `json:"cause,omitempty"`
	TraceHeader            *string      `json:"traceHeader,omitempty"`
	StateMachineVersionArn *string      `json:"stateMachineVersionArn,omitempty"`
	StateMachineAliasArn   *string      `json:"stateMachineAliasArn,omitempty"`
	RedriveCount           int          `json:"redriveCount"`
	RedriveDate            *Time        `json:"redriveDate,omitempty"`
	RedriveStatus          string       `json:"redriveStatus"`
	RedriveStatusReason    *string      `json:"redriveStatusReason,omitempty"`
	MapRunArn              *string      `json:"mapRunArn,omitempty"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) describeExecution(ctx context.Context, r *request) (any, error) {
	var in executionARNInput
	execARN, err := executionARN(r, &in)
	if err != nil {
		return nil, err
	}
	var v violations
	metaOnly := metadataOnly(&v, in.IncludedData)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec, err := s.lookupExecution(ctx, execARN)
	if err != nil {
		return nil, err
	}
	out := describeExecutionOutput{
		ExecutionArn: rec.ARN, StateMachineArn: rec.StateMachineARN, Name: rec.Name, Status: rec.Status,
		StartDate: Time(rec.StartDate), StopDate: api.TimePtr(rec.StopDate),
		InputDetails: &dataDetails{Included: true},
		Error:        optString(rec.Error), Cause: optString(rec.Cause),
		RedriveCount: rec.RedriveCount, RedriveDate: api.TimePtr(rec.RedriveDate),
	}
	status, reason := s.redriveStatus(rec)
	out.RedriveStatus, out.RedriveStatusReason = status, optString(reason)
	if rec.Start != nil {
		out.Input = &rec.Start.Input
		out.TraceHeader = optString(rec.Start.TraceHeader)
		out.StateMachineVersionArn = optString(rec.Start.StateMachineVersionARN)
		out.StateMachineAliasArn = optString(rec.Start.StateMachineAliasARN)
		if rec.Start.MapRun != nil {
			out.MapRunArn = optString(rec.Start.MapRun.ARN)
		}
	}
	if rec.Status == "SUCCEEDED" {
		out.Output, out.OutputDetails = rec.Output, &dataDetails{Included: true}
	}
	if metaOnly {
		out.Input, out.Output = nil, nil
		out.InputDetails = &dataDetails{Included: false}
		if out.OutputDetails != nil {
			out.OutputDetails = &dataDetails{Included: false}
		}
	}
	return out, nil
}

func (s *Server) stopExecution(ctx context.Context, r *request) (any, error) {
	var in executionARNInput
	execARN, err := executionARN(r, &in)
	if err != nil {
		return nil, err
	}
	var v violations
	v.OptionalString("error", in.Error, 0, 256)
	v.OptionalString("cause", in.Cause, 0, 32768)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec, err := s.lookupExecution(ctx, execARN)
	if err != nil {
		return nil, err
	}
	if rec.Status != "RUNNING" {
		stop := rec.StartDate
		if rec.StopDate != nil {
			stop = *rec.StopDate
		}
		return struct {
			StopDate Time `json:"stopDate"`
		}{Time(stop)}, nil
	}
	now := s.cfg.Now().UTC()
	cmd := events.Command{Kind: events.CmdStop, ExecARN: execARN, Time: now, Error: deref(in.Error), Cause: deref(in.Cause)}
	progress, stop := s.engine.Watch(execARN)
	defer stop()
	if err := s.hist.PublishCommand(ctx, cmd, ""); err != nil {
		return nil, err
	}
	// The durable command may be taken by another node's engine (a cluster shares the
	// command consumer); this node's engine also gets it at once, so the wait below
	// sees the stop. Whichever copy comes second finds the execution ended: no events.
	s.engine.Deliver(cmd, nil)
	wait, cancel := context.WithTimeout(ctx, startWait)
	defer cancel()
	for done := false; !done; {
		select {
		case p := <-progress:
			done = p.Status != "RUNNING" && p.Settled
		case <-wait.Done():
			done = true
		}
	}
	// The settled report may come from this node's engine finding the end another
	// node's engine wrote (nothing left to decide), while that node still updates the
	// read model: wait for the read model too, so a DescribeExecution after the stop
	// shows the end on every node.
	for tick := 5 * time.Millisecond; wait.Err() == nil; tick = min(2*tick, 100*time.Millisecond) {
		if rec, err := s.lookupExecution(wait, execARN); err != nil || rec.Status != "RUNNING" {
			break
		}
		select {
		case <-time.After(tick):
		case <-wait.Done():
		}
	}
	return struct {
		StopDate Time `json:"stopDate"`
	}{Time(now)}, nil
}

type executionListItem struct {
	ExecutionArn           string  `json:"executionArn"`
	StateMachineArn        string  `json:"stateMachineArn"`
	Name                   string  `json:"name"`
	Status                 string  `json:"status"`
	StartDate              Time    `json:"startDate"`
	StopDate               *Time   `json:"stopDate,omitempty"`
	StateMachineVersionArn *string `json:"stateMachineVersionArn,omitempty"`
	StateMachineAliasArn   *string `json:"stateMachineAliasArn,omitempty"`
	RedriveCount           int     `json:"redriveCount"`
	RedriveDate            *Time   `json:"redriveDate,omitempty"`
	MapRunArn              *string `json:"mapRunArn,omitempty"`
}

func (s *Server) listExecutions(ctx context.Context, r *request) (any, error) {
	var in struct {
		page
		StateMachineArn *string `json:"stateMachineArn"`
		StatusFilter    *string `json:"statusFilter"`
		MapRunArn       *string `json:"mapRunArn"`
		RedriveFilter   *string `json:"redriveFilter"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	in.page.checkToken(&v, 3096) // ListExecutions allows longer tokens than most List* calls
	if in.StatusFilter != nil {
		switch *in.StatusFilter {
		case "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE":
		default:
			v.Add("Value '%s' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]", *in.StatusFilter)
		}
	}
	if in.StatusFilter != nil && *in.StatusFilter == "PENDING_REDRIVE" && in.StateMachineArn != nil && v.Err() == nil {
		// AWS: a PENDING_REDRIVE statusFilter needs a mapRunArn (our wording).
		return nil, fault.New(fault.ValidationException, "The statusFilter PENDING_REDRIVE can only be used with a mapRunArn")
	}
	if in.RedriveFilter != nil && *in.RedriveFilter != "REDRIVEN" && *in.RedriveFilter != "NOT_REDRIVEN" {
		v.Add("Value '%s' at 'redriveFilter' failed to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]", *in.RedriveFilter)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	filter := projections.ExecutionFilter{Status: deref(in.StatusFilter), Redrive: deref(in.RedriveFilter)}
	if in.StateMachineArn == nil && in.MapRunArn == nil {
		return nil, fault.New(fault.ValidationException, "Must provide a StateMachine ARN or a MapRun ARN")
	}
	var items []events.ExecutionRecord
	var next *string
	smARN := ""
	if in.StateMachineArn != nil {
		smARN = *in.StateMachineArn
	}
	if in.StateMachineArn == nil {
		// A Map Run's child executions (mapruns.go).
		var err error
		if items, next, err = s.pageMapRunExecutions(ctx, *in.MapRunArn, filter, in.page); err != nil {
			return nil, err
		}
	} else if a, err := parseARN(smARN, "stateMachine"); err == nil && a.qualifier == "" {
		// A state machine's own executions: read from the list index, one page at a time.
		if items, next, err = s.pageExecutions(ctx, smARN, filter, in.page); err != nil {
			return nil, err
		}
	} else {
		all, err := s.listExecutionsOf(ctx, smARN) // a version or alias ARN lists its executions
		if err != nil {
			return nil, err
		}
		kept := all[:0]
		for _, rec := range all {
			if filter.Keeps(&rec) {
				kept = append(kept, rec)
			}
		}
		all = kept
		// Newest first: the sort key inverts the start time.
		if items, next, err = paginate("ListExecutions", all, func(rec events.ExecutionRecord) string {
			return sortKey(1<<62-rec.StartDate.UnixNano(), rec.ARN)
		}, in.page); err != nil {
			return nil, err
		}
	}
	out := struct {
		Executions []executionListItem `json:"executions"`
		NextToken  *string             `json:"nextToken,omitempty"`
	}{Executions: []executionListItem{}, NextToken: next}
	for _, rec := range items {
		item := executionListItem{
			ExecutionArn: rec.ARN, StateMachineArn: rec.StateMachineARN, Name: rec.Name, Status: rec.Status,
			StartDate: Time(rec.StartDate), StopDate: api.TimePtr(rec.StopDate),
			RedriveCount: rec.RedriveCount, RedriveDate: api.TimePtr(rec.RedriveDate),
			MapRunArn: in.MapRunArn,
		}
		if rec.Start != nil {
			item.StateMachineVersionArn = optString(rec.Start.StateMachineVersionARN)
			item.StateMachineAliasArn = optString(rec.Start.StateMachineAliasARN)
		}
		out.Executions = append(out.Executions, item)
	}
	return out, nil
}

// pageExecutions is one ListExecutions page of a state machine's executions, newest
// first, read from the execution list index (projections.Executions.Page): its cost
// does not grow with the number of executions.
func (s *Server) pageExecutions(ctx context.Context, smARN string, filter projections.ExecutionFilter, p page) ([]events.ExecutionRecord, *string, error) {
	sm, err := s.lookupStateMachine(ctx, smARN)
	if err != nil {
		return nil, nil, err
	}
	if sm.Type == "EXPRESS" {
		return nil, nil, typeNotSupported()
	}
	after, err := decodeToken("ListExecutions", p.NextToken)
	if err != nil {
		return nil, nil, err
	}
	items, cur, err := s.execs.Page(ctx, smARN, filter, after, p.limit())
	if errors.Is(err, projections.ErrBadCursor) {
		return nil, nil, invalidToken()
	}
	if err != nil || cur == "" {
		return items, nil, err
	}
	return items, encodeToken("ListExecutions", cur), nil
}

// historyEvent is a HistoryEvent on the wire: epoch-seconds timestamp, no sfnd extension.
type historyEvent struct {
	events.HistoryEvent
	Timestamp Time      `json:"timestamp"`
	Ext       *struct{} `json:"sfnd,omitempty"`
}

func (s *Server) getExecutionHistory(ctx context.Context, r *request) (any, error) {
	var in executionARNInput
	execARN, err := executionARN(r, &in)
	if err != nil {
		return nil, err
	}
	var v violations
	page{MaxResults: in.MaxResults, NextToken: in.NextToken}.check(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := s.lookupExecution(ctx, execARN); err != nil {
		return nil, err
	}
	hist, _, err := s.hist.ReadHistory(ctx, execARN)
	if err != nil {
		return nil, err
	}
	if in.ReverseOrder {
		for i, j := 0, len(hist)-1; i < j; i, j = i+1, j-1 {
			hist[i], hist[j] = hist[j], hist[i]
		}
	}
	p := page{MaxResults: in.MaxResults, NextToken: in.NextToken}
	items, next, err := paginate("GetExecutionHistory", hist, func(ev events.HistoryEvent) string {
		id := ev.ID
		if in.ReverseOrder {
			id = 1<<40 - id
		}
		return strconv.FormatInt(1<<41+id, 10)
	}, p)
	if err != nil {
		return nil, err
	}
	include := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	out := struct {
		Events    []historyEvent `json:"events"`
		NextToken *string        `json:"nextToken,omitempty"`
	}{Events: make([]historyEvent, 0, len(items)), NextToken: next}
	for _, ev := range items {
		if !include {
			ev = withoutData(ev)
		}
		out.Events = append(out.Events, historyEvent{HistoryEvent: ev, Timestamp: Time(ev.Timestamp)})
	}
	return out, nil
}

// withoutData strips inputs and outputs from an event (includeExecutionData=false).
func withoutData(ev events.HistoryEvent) events.HistoryEvent {
	if d := ev.ExecutionStartedEventDetails; d != nil {
		c := *d
		c.Input, c.InputDetails = nil, nil
		ev.ExecutionStartedEventDetails = &c
	}
	if d := ev.StateEnteredEventDetails; d != nil {
		c := *d
		c.Input, c.InputDetails = nil, nil
		ev.StateEnteredEventDetails = &c
	}
	if d := ev.StateExitedEventDetails; d != nil {
		c := *d
		c.Output, c.OutputDetails = nil, nil
		ev.StateExitedEventDetails = &c
	}
	for _, p := range []**events.OutputDetails{&ev.ExecutionSucceededEventDetails, &ev.ActivitySucceededEventDetails, &ev.LambdaFunctionSucceededEventDetails} {
		if *p != nil {
			*p = &events.OutputDetails{}
		}
	}
	for _, p := range []**events.TaskOutputDetails{&ev.TaskSucceededEventDetails, &ev.TaskSubmittedEventDetails} {
		if *p != nil {
			c := **p
			c.Output, c.OutputDetails = nil, nil
			*p = &c
		}
	}
	if d := ev.ActivityScheduledEventDetails; d != nil {
		c := *d
		c.Input, c.InputDetails = nil, nil
		ev.ActivityScheduledEventDetails = &c
	}
	return ev
}

func (s *Server) describeStateMachineForExecution(ctx context.Context, r *request) (any, error) {
	var in executionARNInput
	execARN, err := executionARN(r, &in)
	if err != nil {
		return nil, err
	}
	var v violations
	metaOnly := metadataOnly(&v, in.IncludedData)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec, err := s.lookupExecution(ctx, execARN)
	if err != nil {
		return nil, err
	}
	sm, err := s.stateMachine(ctx, rec.StateMachineARN)
	if err != nil && !errors.Is(err, events.ErrNotFound) {
		return nil, err
	}
	updated := sm.CreationDate
	if sm.UpdateDate != nil {
		updated = *sm.UpdateDate
	}
	out := struct {
		StateMachineArn         string                       `json:"stateMachineArn"`
		Name                    string                       `json:"name"`
		Definition              *string                      `json:"definition,omitempty"`
		RoleArn                 string                       `json:"roleArn"`
		UpdateDate              Time                         `json:"updateDate"`
		LoggingConfiguration    *events.LoggingConfiguration `json:"loggingConfiguration,omitempty"`
		TracingConfiguration    *events.TracingConfiguration `json:"tracingConfiguration,omitempty"`
		RevisionID              string                       `json:"revisionId,omitempty"`
		VariableReferences      map[string][]string          `json:"variableReferences,omitempty"`
		EncryptionConfiguration map[string]any               `json:"encryptionConfiguration"`
		MapRunArn               *string                      `json:"mapRunArn,omitempty"`
		Label                   *string                      `json:"label,omitempty"`
	}{
		StateMachineArn: rec.StateMachineARN, Name: sm.Name, UpdateDate: Time(updated),
		LoggingConfiguration: sm.Logging, TracingConfiguration: sm.Tracing, RevisionID: sm.RevisionID,
		EncryptionConfiguration: encryptionOrDefault(sm.Encryption),
	}
	if rec.Start != nil {
		if !metaOnly {
			out.Definition = &rec.Start.Definition
		}
		out.RoleArn = rec.Start.RoleARN
		out.VariableReferences = validate.VariableReferences(rec.Start.Definition)
		if vARN := rec.Start.StateMachineVersionARN; vARN != "" {
			if v, err := s.version(ctx, vARN); err == nil {
				out.RevisionID = v.RevisionID // the revision the version was published from
				out.EncryptionConfiguration = encryptionOrDefault(v.Encryption)
			}
		}
		if out.Name == "" {
			out.Name = rec.Start.StateMachineName
		}
		if mr := rec.Start.MapRun; mr != nil {
			// A Map Run's child: the state machine "<name>/<label>".
			out.MapRunArn = optString(mr.ARN)
			if i := strings.LastIndexByte(rec.Start.StateMachineName, '/'); i >= 0 {
				out.Label = optString(rec.Start.StateMachineName[i+1:])
			}
		}
	}
	if out.Name == "" {
		out.Name = rec.StateMachineARN[strings.LastIndex(rec.StateMachineARN, ":")+1:]
	}
	return out, nil
}

// checkToken is page.check with the operation's own nextToken length limit.
func (p page) checkToken(v *violations, maxToken int) {
	tok := p.NextToken
	p.NextToken = nil
	p.check(v)
	v.OptionalString("nextToken", tok, 1, maxToken)
}
