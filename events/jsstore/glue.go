package jsstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
)

// Glue streams and subjects.
//
// GLUE_WORK is a work queue: job runs on GlueJobSubject(command name), crawls on
// GlueCrawlSubject, and the runners' reports on GlueReportSubject. Stops are core
// NATS messages on GlueStopSubject(run id), repeated while a run is STOPPING.
const (
	GlueWorkStream    = "GLUE_WORK"
	GlueWorkPrefix    = "glue.work."
	GlueJobPrefix     = "glue.work.job."
	GlueCrawlSubject  = "glue.work.crawl"
	GlueReportSubject = "glue.work.report"
	GlueStopPrefix    = "glue.stop."

	// GLUE_HISTORY holds one subject per workflow run: its decider's events.
	GlueHistoryStream = "GLUE_HISTORY"
	GlueHistoryPrefix = "glue.hist."
	// GLUE_CMD is the workflow runs' command queue and their durable timers
	// (schedules of SCHEDULED triggers, event batch windows).
	GlueCommandStream  = "GLUE_CMD"
	GlueCommandPrefix  = "glue.cmd."
	GlueSchedulePrefix = "glue.sched."
	// GlueEventSubject takes events for workflows' EVENT start triggers (sfnd has no
	// EventBridge): JSON {"workflow": "<name>", "id": "<event id>"}.
	GlueEventSubject = "glue.cmd.event"
)

// GlueJobSubject is the work subject of job runs whose command is name.
func GlueJobSubject(command string) string { return GlueJobPrefix + Token(command) }

// GlueStopSubject is the subject a stop request for a job run or crawl is sent on.
func GlueStopSubject(runID string) string { return GlueStopPrefix + Token(runID) }

func (s *Store) openGlue(ctx context.Context, opts Options) error {
	var err error
	s.glueWork, err = EnsureStream(ctx, s.JS, jetstream.StreamConfig{
		Name:        GlueWorkStream,
		Description: "sfnd Glue work: job runs and crawls to run, and their runners' reports",
		Subjects:    []string{GlueWorkPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Replicas:    s.KeepReplicas(ctx, GlueWorkStream, 0),
		Retention:   jetstream.WorkQueuePolicy,
		Duplicates:  2 * time.Minute,
	})
	if err != nil {
		return errors.Wrap(err, "create glue work stream")
	}
	s.glueHist, err = EnsureStream(ctx, s.JS, jetstream.StreamConfig{
		Name:        GlueHistoryStream,
		Description: "sfnd Glue workflow run histories: one subject per run",
		Subjects:    []string{GlueHistoryPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Replicas:    s.KeepReplicas(ctx, GlueHistoryStream, 0),
		AllowDirect: true,
		Duplicates:  2 * time.Minute,
	})
	if err != nil {
		return errors.Wrap(err, "create glue history stream")
	}
	s.glueCmd, err = EnsureStream(ctx, s.JS, jetstream.StreamConfig{
		Name:              GlueCommandStream,
		Description:       "sfnd commands to Glue workflow runs and Glue's durable timers",
		Subjects:          []string{GlueCommandPrefix + ">", GlueSchedulePrefix + ">"},
		Storage:           jetstream.FileStorage,
		Replicas:          s.KeepReplicas(ctx, GlueCommandStream, 0),
		Retention:         jetstream.WorkQueuePolicy,
		AllowMsgSchedules: true,
		Duplicates:        2 * time.Minute,
	})
	return errors.Wrap(err, "create glue command stream")
}

// GlueWork returns the Glue work queue.
func (s *Store) GlueWork() jetstream.Stream { return s.glueWork }

// EnqueueGlueJob puts a job run on the work queue (deduplicated by its run id).
func (s *Store) EnqueueGlueJob(ctx context.Context, t events.GlueJobTask) error {
	data, err := json.Marshal(t)
	if err != nil {
		return errors.Wrap(err, "encode glue job task")
	}
	_, err = s.JS.Publish(ctx, GlueJobSubject(t.Command.Name), data, jetstream.WithMsgID(t.JobRunId))
	return errors.Wrap(err, "enqueue glue job run")
}

// EnqueueGlueCrawl puts a crawl on the work queue (deduplicated by its crawl id).
func (s *Store) EnqueueGlueCrawl(ctx context.Context, t events.GlueCrawlTask) error {
	data, err := json.Marshal(t)
	if err != nil {
		return errors.Wrap(err, "encode glue crawl task")
	}
	_, err = s.JS.Publish(ctx, GlueCrawlSubject, data, jetstream.WithMsgID(t.CrawlId))
	return errors.Wrap(err, "enqueue glue crawl")
}

// ReportGlueWork publishes a runner's report (deduplicated by run id and state).
func ReportGlueWork(ctx context.Context, js jetstream.JetStream, r events.GlueWorkReport) error {
	data, err := json.Marshal(r)
	if err != nil {
		return errors.Wrap(err, "encode glue work report")
	}
	_, err = js.Publish(ctx, GlueReportSubject, data, jetstream.WithMsgID(r.RunId+"#"+r.State))
	return errors.Wrap(err, "report glue work")
}

// GlueHistorySubject is the history subject of one workflow run.
func GlueHistorySubject(runID string) string { return GlueHistoryPrefix + Token(runID) }

// GlueRunCommandSubject is the command subject of one workflow run.
func GlueRunCommandSubject(runID string) string { return GlueCommandPrefix + "run." + Token(runID) }

// GlueTriggerCommandSubject is the command subject of one trigger (schedule firings,
// event batch windows).
func GlueTriggerCommandSubject(trigger string) string {
	return GlueCommandPrefix + "trigger." + Token(trigger)
}

// AppendGlueHistory appends one decision (data: its events, encoded by the decider's
// owner) to a workflow run's history if the subject's last sequence is still
// expectLast. msgID deduplicates a repeated append. It returns the new sequence, or an
// error marked events.ErrConflict.
func (s *Store) AppendGlueHistory(ctx context.Context, runID string, expectLast uint64, data []byte, msgID string) (uint64, error) {
	ack, err := s.JS.Publish(ctx, GlueHistorySubject(runID), data,
		jetstream.WithExpectLastSequencePerSubject(expectLast), jetstream.WithMsgID(msgID))
	if err != nil {
		return 0, classify(err, "append glue run history")
	}
	if ack.Duplicate {
		return 0, errors.Mark(errors.Newf("decision %s already stored", msgID), events.ErrConflict)
	}
	return ack.Sequence, nil
}

// ReadGlueHistory calls fn with every message of a workflow run's history and
// returns the last sequence (0: none).
func (s *Store) ReadGlueHistory(ctx context.Context, runID string, fn func([]byte) error) (uint64, error) {
	return s.scanSubject(ctx, GlueHistoryStream, GlueHistorySubject(runID), fn)
}

// PublishGlueCommand makes a command durable on subj (msgID deduplicates repeats).
func (s *Store) PublishGlueCommand(ctx context.Context, subj string, data []byte, msgID string) error {
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	_, err := s.JS.Publish(ctx, subj, data, opts...)
	return errors.Wrap(err, "publish glue command")
}

// ScheduleGlueCommand makes the server publish data onto subj at due (a durable
// timer; one per id: a newer schedule with the same id replaces the older).
func (s *Store) ScheduleGlueCommand(ctx context.Context, subj, id string, data []byte, due time.Time) error {
	m := nats.NewMsg(GlueSchedulePrefix + Token(id))
	m.Data = data
	m.Header.Set(jetstream.ScheduleHeader, "@at "+due.UTC().Format(time.RFC3339Nano))
	m.Header.Set(jetstream.ScheduleTargetHeader, subj)
	_, err := s.JS.PublishMsg(ctx, m)
	return errors.Wrap(err, "schedule glue command")
}

// GlueCommands returns the Glue command stream.
func (s *Store) GlueCommands() jetstream.Stream { return s.glueCmd }
