package glue

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/gluerun"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// armSchedule arms the next instant of an ACTIVATED SCHEDULED trigger as a durable
// JetStream message schedule (one per trigger: arming again replaces it), so that an
// instant fires once, on whichever node consumes the command.
func (s *Server) armSchedule(ctx context.Context, t events.GlueTriggerBody) error {
	if t.Type != TriggerScheduled || t.State != TriggerActivated || t.Schedule == nil || s.store == nil {
		return nil
	}
	c, err := gluerun.ParseCron(*t.Schedule)
	if err != nil {
		return err
	}
	now := s.now()
	due := c.Next(now)
	if due.IsZero() {
		return nil
	}
	return s.scheduleFire(ctx, t.Name, *t.Schedule, due, now)
}

func (s *Server) scheduleFire(ctx context.Context, trigger, schedule string, due, now time.Time) error {
	st, ok := s.store.(*jsstore.Store)
	if !ok {
		return errors.New("no JetStream store to schedule on")
	}
	cmd := actors.GlueCommand{Kind: actors.GlueCmdSchedule, TriggerName: trigger, Due: due, Batch: schedule}
	data, err := json.Marshal(cmd)
	if err != nil {
		return errors.Wrap(err, "encode schedule")
	}
	scale := s.cfg.TimeScale
	if scale <= 0 {
		scale = 1
	}
	at := now.Add(time.Duration(float64(due.Sub(now)) * scale))
	return st.ScheduleGlueCommand(ctx, jsstore.GlueTriggerCommandSubject(trigger), "trigger#"+trigger, data, at)
}

// fireScheduled handles a SCHEDULED trigger's instant (and an EVENT trigger's batch
// window, events.go): it starts a run if the trigger is still ACTIVATED with the same
// schedule, then arms the next instant.
func (s *Server) fireScheduled(ctx context.Context, cmd actors.GlueCommand) error {
	switch cmd.Kind {
	case actors.GlueCmdBatch:
		return s.batchWindowEnded(ctx, cmd)
	case actors.GlueCmdEvent:
		return s.onEvent(ctx, cmd)
	}
	rec, err := s.res.Glue(ctx, events.GlueTrigger, "", cmd.TriggerName)
	if errors.Is(err, events.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	t, err := decodeBody[events.GlueTriggerBody](rec)
	if err != nil {
		return err
	}
	if t.Type != TriggerScheduled || t.State != TriggerActivated || deref(t.Schedule) != cmd.Batch {
		return nil // deactivated, deleted or rescheduled meanwhile
	}
	if wf := deref(t.WorkflowName); wf != "" {
		if _, err := s.startRunWith(ctx, wf, nil, nil, true); err != nil {
			s.cfg.Logger.Warn("scheduled workflow run", "trigger", t.Name, "err", err)
		}
	} else {
		for _, a := range t.Actions {
			if a.JobName != nil {
				_, err = s.runs.StartJobRun(ctx, JobRunRequest{JobName: *a.JobName, Arguments: a.Arguments, Timeout: deref(a.Timeout), TriggerName: t.Name})
			} else if a.CrawlerName != nil {
				_, err = s.runs.StartCrawl(ctx, actors.GlueCrawlRequest{CrawlerName: *a.CrawlerName})
			}
			if err != nil {
				s.cfg.Logger.Warn("scheduled action", "trigger", t.Name, "err", err)
			}
		}
	}
	c, err := gluerun.ParseCron(cmd.Batch)
	if err != nil {
		return nil
	}
	next := c.Next(cmd.Due)
	if next.IsZero() {
		return nil
	}
	now := s.now()
	if next.Before(now) {
		next = c.Next(now) // no catch-up of missed instants
	}
	return s.scheduleFire(ctx, t.Name, cmd.Batch, next, now)
}

// deleteRuns forgets a deleted workflow's runs (their read models; the histories stay
// for audits until the stream's retention drops them).
func (s *Server) deleteRuns(ctx context.Context, wf string) error {
	recs, err := s.list(ctx, actors.GlueWorkflowRun, wf)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if _, err := s.mutate(ctx, actors.GlueWorkflowRun, wf, rec.Name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
			if cur == nil {
				return nil, "", nil
			}
			next := *cur
			return &next, events.GlueDeleted, nil
		}); err != nil {
			return err
		}
	}
	return nil
}
