package sfn

import (
	"context"
	"math"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
	"github.com/sfnd/sfnd/projections"
)

// Map Runs (Distributed Map): DescribeMapRun, ListMapRuns, UpdateMapRun and
// ListExecutions(mapRunArn). The runs themselves live in actors.MapRuns.

// EnableMapRuns serves the Map Run operations.
func (s *Server) EnableMapRuns(mr *actors.MapRuns) {
	s.mapRuns = mr
	s.ops["DescribeMapRun"] = s.describeMapRun
	s.ops["ListMapRuns"] = s.listMapRuns
	s.ops["UpdateMapRun"] = s.updateMapRun
}

type mapRunCounts struct {
	Pending               int64  `json:"pending"`
	Running               int64  `json:"running"`
	Succeeded             int64  `json:"succeeded"`
	Failed                int64  `json:"failed"`
	TimedOut              int64  `json:"timedOut"`
	Aborted               int64  `json:"aborted"`
	Total                 int64  `json:"total"`
	ResultsWritten        int64  `json:"resultsWritten"`
	FailuresNotRedrivable *int64 `json:"failuresNotRedrivable"`
	PendingRedrive        *int64 `json:"pendingRedrive"`
}

func countsOut(c events.MapRunCounts) mapRunCounts {
	notRedrivable, pending := c.FailuresNotRedrivable, c.PendingRedrive
	return mapRunCounts{Pending: c.Pending, Running: c.Running, Succeeded: c.Succeeded, Failed: c.Failed,
		TimedOut: c.TimedOut, Aborted: c.Aborted, Total: c.Total, ResultsWritten: c.ResultsWritten,
		FailuresNotRedrivable: &notRedrivable, PendingRedrive: &pending}
}

// mapRunARN decodes and checks the mapRunArn member.
func mapRunARN(v violations, value *string) (string, error) {
	v.RequiredString("mapRunArn", value, 1, 2000)
	return checkedARN(v, value, "mapRun")
}

func (s *Server) lookupMapRun(ctx context.Context, arn string) (events.MapRunRecord, error) {
	rec, err := s.mapRuns.Describe(ctx, arn)
	if errors.Is(err, actors.ErrMapRunNotFound) {
		return rec, fault.New(fault.ResourceNotFound, "Resource not found: '%s'", arn)
	}
	return rec, err
}

func (s *Server) describeMapRun(ctx context.Context, r *request) (any, error) {
	var in struct {
		MapRunArn *string `json:"mapRunArn"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	arn, err := mapRunARN(violations{}, in.MapRunArn)
	if err != nil {
		return nil, err
	}
	rec, err := s.lookupMapRun(ctx, arn)
	if err != nil {
		return nil, err
	}
	out := struct {
		MapRunArn                  string       `json:"mapRunArn"`
		ExecutionArn               string       `json:"executionArn"`
		Status                     string       `json:"status"`
		StartDate                  Time         `json:"startDate"`
		StopDate                   *Time        `json:"stopDate,omitempty"`
		MaxConcurrency             int          `json:"maxConcurrency"`
		ToleratedFailurePercentage float64      `json:"toleratedFailurePercentage"`
		ToleratedFailureCount      int64        `json:"toleratedFailureCount"`
		ItemCounts                 mapRunCounts `json:"itemCounts"`
		ExecutionCounts            mapRunCounts `json:"executionCounts"`
		RedriveCount               int          `json:"redriveCount"`
		RedriveDate                *Time        `json:"redriveDate,omitempty"`
	}{
		MapRunArn: rec.ARN, ExecutionArn: rec.ExecutionARN, Status: rec.Status, StartDate: Time(rec.StartDate),
		StopDate: api.TimePtr(rec.StopDate), MaxConcurrency: rec.MaxConcurrency,
		ItemCounts: countsOut(rec.Items), ExecutionCounts: countsOut(rec.Executions),
		RedriveCount: rec.RedriveCount, RedriveDate: api.TimePtr(rec.RedriveDate),
	}
	if rec.ToleratedFailurePercentage != nil {
		out.ToleratedFailurePercentage = *rec.ToleratedFailurePercentage
	}
	if rec.ToleratedFailureCount != nil {
		out.ToleratedFailureCount = *rec.ToleratedFailureCount
	}
	return out, nil
}

type mapRunListItem struct {
	ExecutionArn    string `json:"executionArn"`
	MapRunArn       string `json:"mapRunArn"`
	StateMachineArn string `json:"stateMachineArn"`
	StartDate       Time   `json:"startDate"`
	StopDate        *Time  `json:"stopDate,omitempty"`
}

func (s *Server) listMapRuns(ctx context.Context, r *request) (any, error) {
	var in struct {
		page
		ExecutionArn *string `json:"executionArn"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("executionArn", in.ExecutionArn, 1, 256)
	in.page.check(&v)
	execARN, err := checkedARN(v, in.ExecutionArn, "execution")
	if err != nil {
		return nil, err
	}
	if _, err := s.lookupExecution(ctx, execARN); err != nil {
		return nil, err
	}
	runs, err := s.mapRuns.List(ctx, execARN)
	if err != nil {
		return nil, err
	}
	items, next, err := paginate("ListMapRuns", runs, func(rec events.MapRunRecord) string {
		return sortKey(rec.StartDate.UnixNano(), rec.ARN)
	}, in.page)
	if err != nil {
		return nil, err
	}
	out := struct {
		MapRuns   []mapRunListItem `json:"mapRuns"`
		NextToken *string          `json:"nextToken,omitempty"`
	}{MapRuns: []mapRunListItem{}, NextToken: next}
	for _, rec := range items {
		out.MapRuns = append(out.MapRuns, mapRunListItem{ExecutionArn: rec.ExecutionARN, MapRunArn: rec.ARN,
			StateMachineArn: rec.StateMachineARN, StartDate: Time(rec.StartDate), StopDate: api.TimePtr(rec.StopDate)})
	}
	return out, nil
}

func (s *Server) updateMapRun(ctx context.Context, r *request) (any, error) {
	var in struct {
		MapRunArn                  *string  `json:"mapRunArn"`
		MaxConcurrency             *int     `json:"maxConcurrency"`
		ToleratedFailurePercentage *float64 `json:"toleratedFailurePercentage"`
		ToleratedFailureCount      *int64   `json:"toleratedFailureCount"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("mapRunArn", in.MapRunArn, 1, 2000)
	if in.MaxConcurrency != nil && *in.MaxConcurrency < 0 {
		v.Add("Value '%d' at 'maxConcurrency' failed to satisfy constraint: Member must have value greater than or equal to 0", *in.MaxConcurrency)
	}
	if p := in.ToleratedFailurePercentage; p != nil && (*p < 0 || *p > 100 || math.IsNaN(*p)) {
		if *p < 0 {
			v.Add("Value '%v' at 'toleratedFailurePercentage' failed to satisfy constraint: Member must have value greater than or equal to 0", *p)
		} else {
			v.Add("Value '%v' at 'toleratedFailurePercentage' failed to satisfy constraint: Member must have value less than or equal to 100", *p)
		}
	}
	if in.ToleratedFailureCount != nil && *in.ToleratedFailureCount < 0 {
		v.Add("Value '%d' at 'toleratedFailureCount' failed to satisfy constraint: Member must have value greater than or equal to 0", *in.ToleratedFailureCount)
	}
	arn, err := checkedARN(v, in.MapRunArn, "mapRun")
	if err != nil {
		return nil, err
	}
	if in.MaxConcurrency == nil && in.ToleratedFailurePercentage == nil && in.ToleratedFailureCount == nil {
		return nil, fault.New(fault.ValidationException, "At least one of the parameters maxConcurrency, toleratedFailurePercentage or toleratedFailureCount must be provided")
	}
	rec, err := s.lookupMapRun(ctx, arn)
	if err != nil {
		return nil, err
	}
	if rec.Status != "RUNNING" {
		return nil, fault.New(fault.ValidationException, "Map Run '%s' is not running: only a running Map Run can be updated", arn)
	}
	err = s.mapRuns.Update(ctx, arn, actors.MapRunUpdate{MaxConcurrency: in.MaxConcurrency,
		ToleratedFailureCount: in.ToleratedFailureCount, ToleratedFailurePercentage: in.ToleratedFailurePercentage})
	if errors.Is(err, actors.ErrMapRunNotFound) {
		return nil, fault.New(fault.ResourceNotFound, "Resource not found: '%s'", arn)
	}
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// pageMapRunExecutions is one ListExecutions(mapRunArn) page: the Map Run's child
// executions, newest first, from the list index the children are entered in.
func (s *Server) pageMapRunExecutions(ctx context.Context, mapRunArn string, filter projections.ExecutionFilter, p page) ([]events.ExecutionRecord, *string, error) {
	if s.mapRuns == nil {
		return nil, nil, fault.New(fault.ResourceNotFound, "Resource not found: '%s'", mapRunArn)
	}
	if _, err := checkedARN(violations{}, &mapRunArn, "mapRun"); err != nil {
		return nil, nil, err
	}
	if _, err := s.lookupMapRun(ctx, mapRunArn); err != nil {
		return nil, nil, err
	}
	after, err := decodeToken("ListExecutions", p.NextToken)
	if err != nil {
		return nil, nil, err
	}
	items, cur, err := s.execs.Page(ctx, mapRunArn, filter, after, p.limit())
	if errors.Is(err, projections.ErrBadCursor) {
		return nil, nil, invalidToken()
	}
	if err != nil || cur == "" {
		return items, nil, err
	}
	return items, encodeToken("ListExecutions", cur), nil
}
