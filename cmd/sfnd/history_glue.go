package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/audit"
	"github.com/sfnd/sfnd/actors/gluerun"
	"github.com/sfnd/sfnd/events/jsstore"
)

// Glue workflow runs in `sfnd history`: a target that starts with "wr_" is a workflow
// run id; its history is the GLUE_HISTORY subject of the run (gluerun events).

func isGlueRun(target string) bool { return strings.HasPrefix(target, "wr_") }

// loadGlue returns a workflow run's history from the store, or from a file written by
// `sfnd history export wr_...`.
func (h *historyTool) loadGlue(ctx context.Context, target string) ([]gluerun.Event, error) {
	var evs []gluerun.Event
	if isFile(target) {
		data, err := os.ReadFile(target)
		if err != nil {
			return nil, errors.Wrap(err, "read history file")
		}
		return evs, errors.Wrap(json.Unmarshal(data, &evs), "decode workflow run history")
	}
	if err := h.open(ctx); err != nil {
		return nil, err
	}
	_, err := h.store.ReadGlueHistory(ctx, target, func(data []byte) error {
		var batch []gluerun.Event
		if err := json.Unmarshal(data, &batch); err != nil {
			return errors.Wrap(err, "decode workflow run events")
		}
		evs = append(evs, batch...)
		return nil
	})
	if err == nil && len(evs) == 0 {
		err = errors.Newf("workflow run %s has no history", target)
	}
	return evs, err
}

func (h *historyTool) exportGlue(ctx context.Context, target, outFile string) error {
	evs, err := h.loadGlue(ctx, target)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(evs, "", "  ")
	if err != nil {
		return errors.Wrap(err, "encode")
	}
	b = append(b, '\n')
	if outFile == "" {
		_, err = h.out.Write(b)
		return errors.Wrap(err, "write")
	}
	return errors.Wrap(os.WriteFile(outFile, b, 0o644), "write export")
}

// replayGlue folds a workflow run's history and prints it as a timeline.
func (h *historyTool) replayGlue(ctx context.Context, target string) (int, error) {
	evs, err := h.loadGlue(ctx, target)
	if err != nil {
		return exitUsage, err
	}
	r := gluerun.New()
	for _, ev := range evs {
		gluerun.Apply(r, ev)
		what := ev.Trigger
		if ev.Node != "" {
			what = ev.Node + " " + ev.RunId
		}
		fmt.Fprintf(h.out, "%4d  %s  %-22s %s %s\n", ev.ID, ev.Time.Format("15:04:05.000"), ev.Type, what, ev.State)
	}
	fmt.Fprintf(h.out, "workflow run %s of %s: %s\n", r.RunId, r.Workflow, r.Status)
	return exitOK, nil
}

// verifyGlue re-decides a workflow run's history (gluerun.Verify).
func (h *historyTool) verifyGlue(ctx context.Context, target string) (verifyReport, error) {
	rep := verifyReport{Execution: target}
	evs, err := h.loadGlue(ctx, target)
	if err != nil {
		return rep, err
	}
	res, err := gluerun.Verify(evs)
	rep.Events, rep.Decisions = res.Events, res.Decisions
	if res.Fault != nil {
		rep.Fault = &audit.Fault{EventID: res.Fault.EventID, Decision: res.Fault.EventID, Message: res.Fault.Message}
	}
	if res.Run != nil {
		rep.Status = res.Run.Status
	}
	return rep, err
}

// glueRuns lists the workflow runs with a stored history.
func (h *historyTool) glueRuns(ctx context.Context) ([]string, error) {
	st, err := h.store.JS.Stream(ctx, jsstore.GlueHistoryStream)
	if err != nil {
		return nil, nil // a store from before Glue
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(jsstore.GlueHistoryPrefix+">"))
	if err != nil {
		return nil, errors.Wrap(err, "list workflow runs")
	}
	var out []string
	for subj := range info.State.Subjects {
		id, err := jsstore.Untoken(strings.TrimPrefix(subj, jsstore.GlueHistoryPrefix))
		if err == nil {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}
