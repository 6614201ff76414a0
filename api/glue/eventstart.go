package glue

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/gluerun"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// EVENT start triggers. sfnd has no EventBridge: events for a workflow are JSON
// messages on the JetStream subject jsstore.GlueEventSubject ("glue.cmd.event"), body
// {"workflow": "<name>", "id": "<event id>", ...}. An ACTIVATED EVENT trigger batches
// them (GLUE.md §3.9): a batch opens at its first event; the run starts when BatchSize
// events arrived, or BatchWindow seconds after the first; its run properties carry
// "aws:eventIds" (a JSON array of the batch's ids). The open batch is a resource of
// its own ("eventbatch", named after the trigger), changed with optimistic
// concurrency, so several nodes never start a batch twice.

const glueEventBatch = "eventbatch"

type eventBatch struct {
	Ids   []string  `json:"ids"`
	First time.Time `json:"first"`
}

// onEvent folds one delivered event into its workflow's open batch.
func (s *Server) onEvent(ctx context.Context, cmd actors.GlueCommand) error {
	trigs, err := s.workflowTriggers(ctx, cmd.Workflow)
	if err != nil {
		return err
	}
	var t *events.GlueTriggerBody
	for i := range trigs {
		if trigs[i].Type == TriggerEvent && trigs[i].State == TriggerActivated {
			t = &trigs[i]
		}
	}
	if t == nil {
		return nil // only ACTIVATED EVENT triggers batch
	}
	size, window := 1, 900
	if b := t.EventBatchingCondition; b != nil {
		size, window = b.BatchSize, deref(b.BatchWindow)
	}
	var full []string
	opened := false
	now := s.now()
	if _, err := s.mutate(ctx, glueEventBatch, "", t.Name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		full, opened = nil, false
		var b eventBatch
		if cur != nil {
			_ = json.Unmarshal(cur.Body, &b)
		}
		for _, id := range b.Ids {
			if id == cmd.Batch {
				return nil, "", nil // a repeated delivery
			}
		}
		if len(b.Ids) == 0 {
			b.First, opened = now, true
		}
		b.Ids = append(b.Ids, cmd.Batch)
		if len(b.Ids) >= size {
			full = b.Ids
			b = eventBatch{}
		}
		return &events.GlueResource{Body: encodeBody(b)}, events.GlueUpdated, nil
	}); err != nil {
		return err
	}
	if full != nil {
		return s.startBatch(ctx, cmd.Workflow, full, &gluerun.Batch{BatchSize: len(full)})
	}
	if opened {
		return s.armWindow(ctx, t.Name, cmd.Workflow, cmd.Batch, now.Add(time.Duration(window)*time.Second), now)
	}
	return nil
}

func (s *Server) armWindow(ctx context.Context, trigger, workflow, first string, due, now time.Time) error {
	st, ok := s.store.(*jsstore.Store)
	if !ok {
		return nil
	}
	data, err := json.Marshal(actors.GlueCommand{Kind: actors.GlueCmdBatch, TriggerName: trigger, Workflow: workflow, Batch: first, Due: due})
	if err != nil {
		return err
	}
	scale := s.cfg.TimeScale
	if scale <= 0 {
		scale = 1
	}
	at := now.Add(time.Duration(float64(due.Sub(now)) * scale))
	return st.ScheduleGlueCommand(ctx, jsstore.GlueTriggerCommandSubject(trigger), "batch#"+trigger, data, at)
}

// batchWindowEnded starts a run for a batch whose window ended before it filled.
func (s *Server) batchWindowEnded(ctx context.Context, cmd actors.GlueCommand) error {
	var ids []string
	var window int
	if _, err := s.mutate(ctx, glueEventBatch, "", cmd.TriggerName, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		ids = nil
		if cur == nil {
			return nil, "", nil
		}
		var b eventBatch
		_ = json.Unmarshal(cur.Body, &b)
		if len(b.Ids) == 0 || b.Ids[0] != cmd.Batch {
			return nil, "", nil // that batch filled up and started already
		}
		ids = b.Ids
		return &events.GlueResource{Body: encodeBody(eventBatch{})}, events.GlueUpdated, nil
	}); err != nil || ids == nil {
		return err
	}
	if rec, err := s.res.Glue(ctx, events.GlueTrigger, "", cmd.TriggerName); err == nil {
		if t, err := decodeBody[events.GlueTriggerBody](rec); err == nil && t.EventBatchingCondition != nil {
			window = deref(t.EventBatchingCondition.BatchWindow)
		}
	}
	return s.startBatch(ctx, cmd.Workflow, ids, &gluerun.Batch{BatchWindow: window})
}

func (s *Server) startBatch(ctx context.Context, wf string, ids []string, batch *gluerun.Batch) error {
	b, _ := json.Marshal(ids)
	_, err := s.startRunWith(ctx, wf, map[string]string{"aws:eventIds": string(b)}, batch, true)
	return err
}
