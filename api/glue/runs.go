package glue

import (
	"context"

	"github.com/sfnd/sfnd/events"
)

// Runs carries out what starts, stops and changes runs: workflow runs (actors), job
// runs and crawls (the work queue).
type Runs interface {
	StartJobRun(ctx context.Context, req JobRunRequest) (string, error)
	StartCrawl(ctx context.Context, crawler string) error
	StopCrawl(ctx context.Context, crawler string) error
	// TriggerChanged re-arms (or disarms) a trigger's schedule.
	TriggerChanged(ctx context.Context, t events.GlueTriggerBody) error
	// DeleteRuns forgets a deleted workflow's runs.
	DeleteRuns(ctx context.Context, workflow string) error
}

// JobRunRequest asks for one job run.
type JobRunRequest struct {
	JobName     string
	Arguments   map[string]string
	Timeout     int
	TriggerName string
}

// WorkflowRun is the WorkflowRun shape.
type WorkflowRun struct{}

func (s *Server) registerRuns() {}

func (s *Server) lastRun(ctx context.Context, r *request, workflow string) (*WorkflowRun, error) {
	return nil, nil
}

func (s *Server) startRun(ctx context.Context, workflow string, props map[string]string) (string, error) {
	return "", nil
}
