package jsstore

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
)

// HistorySubject is the subject of one execution's history.
func HistorySubject(execARN string) string { return HistoryPrefix + Token(execARN) }

// TypeHeader carries the types of a history message's events, separated by spaces, so
// consumers that care about a few types (the execution projection) skip the rest
// without decoding them.
const TypeHeader = "Sfn-Type"

// LastIDHeader carries the id of a history message's last event.
const LastIDHeader = "Sfn-Last-Id"

// ParkedHeader marks the last message of a decision after which the execution waits
// for nothing but durable timers, all armed before the message was appended: recovery
// need not wake such an execution (its timers survive the node) as long as their
// scheduled messages are still there (Unscheduled). Its value lists those timers, the
// Token of each id separated by spaces ("1", written before the timers were listed,
// names none).
const ParkedHeader = "Sfn-Parked"

// A history message holds one decision: the JSON array of its events. A decision is
// split over several messages only when it is too long for one (maxMsgEvents events
// or maxMsgBytes bytes).
//
// One message per decision rather than one per event in an atomic batch: on a
// single-replica file stream the server stages every atomic batch in a file store of
// its own, synced to disk, which costs about 12 ms a decision against 50 µs for one
// publish (measured with `sfnd bench`); and one message is atomic by itself.
// ReadHistory still reads histories written one event per message.
const (
	maxMsgEvents = 1000
	maxMsgBytes  = 768 << 10 // under NATS's default 1 MiB max payload
)

// AppendHistory appends one decision's events to an execution's history, atomically
// when they fit one message, if the subject's last sequence is still expectLast (0:
// the history is empty). It returns the new last sequence, or an error marked
// events.ErrConflict when another writer appended first.
func (s *Store) AppendHistory(ctx context.Context, execARN string, expectLast uint64, evs []events.HistoryEvent) (uint64, error) {
	return s.AppendDecision(ctx, execARN, expectLast, evs, nil)
}

// AppendDecision is AppendHistory; parkedOn, when not empty, lists the ids of the
// durable timers the execution is parked on after the decision (ParkedHeader on its
// last message).
func (s *Store) AppendDecision(ctx context.Context, execARN string, expectLast uint64, evs []events.HistoryEvent, parkedOn []string) (uint64, error) {
	parked := ""
	for i, id := range parkedOn {
		if i > 0 {
			parked += " "
		}
		parked += Token(id)
	}
	subj := HistorySubject(execARN)
	last := expectLast
	for start := 0; start < len(evs); {
		end := min(start+maxMsgEvents, len(evs))
		var data []byte
		for {
			var err error
			if data, err = json.Marshal(evs[start:end]); err != nil {
				return 0, errors.Wrap(err, "encode history events")
			}
			if len(data) <= maxMsgBytes || end-start == 1 {
				break
			}
			end = start + (end-start)/2
		}
		mark := ""
		if end == len(evs) {
			mark = parked
		}
		seq, err := s.appendMsg(ctx, subj, execARN, last, evs[start:end], data, mark)
		if err != nil {
			return 0, err
		}
		last, start = seq, end
	}
	return last, nil
}

func (s *Store) appendMsg(ctx context.Context, subj, execARN string, expectLast uint64, evs []events.HistoryEvent, data []byte, parked string) (uint64, error) {
	n := 0
	for i := range evs {
		n += len(evs[i].Type) + 1
	}
	types := make([]byte, 0, n)
	for i := range evs {
		if i > 0 {
			types = append(types, ' ')
		}
		types = append(types, evs[i].Type...)
	}
	m := nats.NewMsg(subj)
	m.Data = data
	m.Header.Set(TypeHeader, string(types))
	m.Header.Set(LastIDHeader, strconv.FormatInt(evs[len(evs)-1].ID, 10))
	if parked != "" {
		m.Header.Set(ParkedHeader, parked)
	}
	ack, err := s.JS.PublishMsg(ctx, m,
		jetstream.WithExpectLastSequencePerSubject(expectLast),
		jetstream.WithMsgID(execARN+"#"+strconv.FormatInt(evs[0].ID, 10)))
	if err != nil {
		return 0, classify(err, "append history events")
	}
	if ack.Duplicate {
		return 0, errors.Mark(errors.Newf("event %d of %s already stored", evs[0].ID, execARN), events.ErrConflict)
	}
	return ack.Sequence, nil
}

// ReadHistory returns an execution's whole history and the stream sequence of its last
// message (0 when it has none). It reads with batched direct gets: no consumer is
// created, so reads are cheap and any number can run at once.
func (s *Store) ReadHistory(ctx context.Context, execARN string) ([]events.HistoryEvent, uint64, error) {
	var out []events.HistoryEvent
	last, err := s.scanSubject(ctx, HistoryStream, HistorySubject(execARN), func(data []byte) error {
		var err error
		out, err = events.DecodeHistoryMsg(data, out)
		return err
	})
	return out, last, err
}

// LastHistorySeq is the stream sequence of an execution's last history message (0:
// none), asked of the history stream's leader (a direct get may be answered by a
// replica that has not caught up): it tells whether a resident actor's state is
// current.
func (s *Store) LastHistorySeq(ctx context.Context, execARN string) (uint64, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	req, _ := json.Marshal(map[string]string{"last_by_subj": HistorySubject(execARN)})
	resp, err := s.NC.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+HistoryStream, req)
	if err != nil {
		return 0, errors.Wrap(err, "last history sequence")
	}
	var r struct {
		Message *struct {
			Seq uint64 `json:"seq"`
		} `json:"message"`
		Error *struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return 0, errors.Wrap(err, "decode message get")
	}
	switch {
	case r.Error != nil && r.Error.Code == 404:
		return 0, nil
	case r.Error != nil:
		return 0, errors.Newf("last history sequence: %s (%d)", r.Error.Description, r.Error.Code)
	case r.Message == nil:
		return 0, nil
	}
	return r.Message.Seq, nil
}

// Parked returns the executions of execARNs whose history ends with a message marked
// ParkedHeader (one multi-last direct get per 1,024 executions), each with the timers
// it is parked on (the Tokens of their ids; nil when the mark names none).
func (s *Store) Parked(ctx context.Context, execARNs []string) (map[string][]string, error) {
	out := map[string][]string{}
	bySubject := make(map[string]string, len(execARNs))
	for start := 0; start < len(execARNs); start += directBatch {
		part := execARNs[start:min(start+directBatch, len(execARNs))]
		subjects := make([]string, len(part))
		for i, arn := range part {
			subjects[i] = HistorySubject(arn)
			bySubject[subjects[i]] = arn
		}
		if err := s.directGets(ctx, HistoryStream, map[string]any{"multi_last": subjects, "batch": len(subjects)}, func(m *nats.Msg) error {
			if v := m.Header.Get(ParkedHeader); v != "" {
				var timers []string
				if v != "1" {
					timers = strings.Fields(v)
				}
				out[bySubject[m.Header.Get(jetstream.SubjectHeader)]] = timers
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Unscheduled returns the executions of parked (Parked's answer) that miss the
// scheduled message of a timer they are parked on, or whose mark names no timer:
// such an execution would wait for ever unless it is woken and re-arms its timers.
// A schedule leaves the stream when it fires, so an execution whose timer has just
// fired is among them only when its command is no longer waiting on the execution's
// command subject (waking it again is harmless). One multi-last direct get per 1,024
// timers, and one per 1,024 executions missing a schedule; a schedule a lagging
// replica has not stored yet counts as missing.
func (s *Store) Unscheduled(ctx context.Context, parked map[string][]string) (map[string]bool, error) {
	out := map[string]bool{}
	var subjects []string
	bySubject := map[string]string{}
	for arn, timers := range parked {
		if len(timers) == 0 {
			out[arn] = true
			continue
		}
		for _, tok := range timers {
			subj := scheduleSubject(arn, tok)
			subjects = append(subjects, subj)
			bySubject[subj] = arn
		}
	}
	found := make(map[string]bool, len(subjects))
	for start := 0; start < len(subjects); start += directBatch {
		part := subjects[start:min(start+directBatch, len(subjects))]
		if err := s.directGets(ctx, CommandStream, map[string]any{"multi_last": part, "batch": len(part)}, func(m *nats.Msg) error {
			found[m.Header.Get(jetstream.SubjectHeader)] = true
			return nil
		}); err != nil {
			return nil, err
		}
	}
	var missing []string // executions with timers whose schedule is gone
	for _, subj := range subjects {
		if arn := bySubject[subj]; !found[subj] && !out[arn] {
			out[arn] = true
			missing = append(missing, arn)
		}
	}
	// A schedule that fired left the stream; its command waits on the execution's
	// command subject until the owner handles it (a work queue keeps what is not
	// acknowledged): that command wakes the execution, recovery need not (after a long
	// downtime every overdue timer fires at once; waking those executions too would
	// double the work).
	byCmd := make(map[string]string, len(missing))
	cmdSubjects := make([]string, len(missing))
	for i, arn := range missing {
		cmdSubjects[i] = CommandSubject(arn)
		byCmd[cmdSubjects[i]] = arn
	}
	for start := 0; start < len(cmdSubjects); start += directBatch {
		part := cmdSubjects[start:min(start+directBatch, len(cmdSubjects))]
		if err := s.directGets(ctx, CommandStream, map[string]any{"multi_last": part, "batch": len(part)}, func(m *nats.Msg) error {
			arn := byCmd[m.Header.Get(jetstream.SubjectHeader)]
			var cmd events.Command
			if json.Unmarshal(m.Data, &cmd) == nil && cmd.Kind == events.CmdTimer && slices.Contains(parked[arn], Token(cmd.TimerID)) {
				delete(out, arn)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DirectGet sends one direct get to stream and calls fn with each message of its
// answer; "no message" is not an error. A batched request ("batch" or "multi_last")
// is answered through the store's one reply subscription (scanMux), not a
// subscription of its own: a nats.go synchronous subscription allocates (and zeroes)
// a 64k-slot channel, half a megabyte for every ListExecutions page.
func (s *Store) DirectGet(ctx context.Context, stream string, req map[string]any, fn func(*nats.Msg) error) error {
	_, batched := req["batch"]
	_, multi := req["multi_last"]
	if batched || multi {
		return s.directGets(ctx, stream, req, fn)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	body, err := json.Marshal(req)
	if err != nil {
		return errors.Wrap(err, "encode direct get")
	}
	m, err := s.NC.RequestWithContext(ctx, "$JS.API.DIRECT.GET."+stream, body)
	if err != nil {
		return errors.Wrap(err, "direct get")
	}
	if status := m.Header.Get("Status"); status != "" {
		if status == "404" {
			return nil
		}
		return errors.Newf("direct get: status %s %s", status, m.Header.Get("Description"))
	}
	return fn(m)
}

// directGets sends one batched direct get request and calls fn with each message of
// the answer (none: no error).
func (s *Store) directGets(ctx context.Context, stream string, req map[string]any, fn func(*nats.Msg) error) error {
	inbox, sub, done, err := s.openScan()
	if err != nil {
		return err
	}
	defer done()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	body, _ := json.Marshal(req)
	if err := s.NC.PublishRequest("$JS.API.DIRECT.GET."+stream, inbox, body); err != nil {
		return errors.Wrap(err, "direct get")
	}
	for {
		m, err := sub.next(ctx)
		if err != nil {
			return errors.Wrap(err, "direct get reply")
		}
		if status := m.Header.Get("Status"); status != "" {
			if status == "404" || status == "204" {
				return nil
			}
			return errors.Newf("direct get: status %s %s", status, m.Header.Get("Description"))
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}

// directBatch is how many messages one batched direct get asks for.
const directBatch = 1024

// scanSubject calls fn with every message of subj in stream order, using the batched
// direct get API, and returns the last sequence seen.
func (s *Store) scanSubject(ctx context.Context, stream, subj string, fn func([]byte) error) (uint64, error) {
	var last uint64
	from := uint64(1)
	inbox, sub, done, err := s.openScan()
	if err != nil {
		return 0, err
	}
	defer done()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	for {
		req, _ := json.Marshal(map[string]any{"seq": from, "next_by_subj": subj, "batch": directBatch})
		if err := s.NC.PublishRequest("$JS.API.DIRECT.GET."+stream, inbox, req); err != nil {
			return 0, errors.Wrap(err, "direct get")
		}
		n := 0
		for {
			m, err := sub.next(ctx)
			if err != nil {
				return 0, errors.Wrap(err, "direct get reply")
			}
			if status := m.Header.Get("Status"); status != "" {
				if status == "404" || status == "204" {
					break // no (more) messages / end of batch
				}
				return 0, errors.Newf("direct get: status %s %s", status, m.Header.Get("Description"))
			}
			seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
			if err != nil {
				return 0, errors.Wrap(err, "direct get sequence")
			}
			if err := fn(m.Data); err != nil {
				return 0, err
			}
			last = seq
			n++
		}
		if n < directBatch {
			return last, nil
		}
		from = last + 1
	}
}

// CommandStream and subjects: commands per execution, partitioned; timers are scheduled
// messages on sfn.sched.* that the server republishes onto the command subject.
const (
	CommandStream  = "SFN_COMMANDS"
	CommandPrefix  = "sfn.cmd."
	SchedulePrefix = "sfn.sched."
	Partitions     = 16
)

// CommandSubject is the command subject of an execution.
func CommandSubject(execARN string) string {
	return CommandPrefix + strconv.Itoa(Partition(execARN)) + "." + Token(execARN)
}

// Partition is the partition of an execution (FNV-1a of its ARN).
func Partition(execARN string) int {
	h := uint32(2166136261)
	for i := 0; i < len(execARN); i++ {
		h ^= uint32(execARN[i])
		h *= 16777619
	}
	return int(h % Partitions)
}

// PublishCommand makes a command durable. msgID, when set, deduplicates repeats.
func (s *Store) PublishCommand(ctx context.Context, cmd events.Command, msgID string) error {
	data, err := json.Marshal(cmd)
	if err != nil {
		return errors.Wrap(err, "encode command")
	}
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	_, err = PublishRetry(ctx, s.JS, &nats.Msg{Subject: CommandSubject(cmd.ExecARN), Data: data}, opts...)
	return errors.Wrap(err, "publish command")
}

// ScheduleCommand makes the server publish cmd onto the execution's command subject at
// due: a durable timer. id names the timer: its schedule's subject is the execution's
// and the timer's, so a second schedule of the same timer replaces one still pending.
//
// The message id (repeats of this call's publish are dropped) names the due time too:
// every arming of a timer is a schedule of its own. A timer armed for a decision that
// was then not stored (its append failed while a stream elected a leader) may fire
// into nothing before the decision is made again; with an id naming the timer alone,
// the second arming was dropped as a repeat of the first for the stream's duplicate
// window, and an execution parked on that timer waited for ever (seen in the 3-node
// kill test: retry-12).
func (s *Store) ScheduleCommand(ctx context.Context, cmd events.Command, id string, due time.Time) error {
	msgID := cmd.ExecARN + "#timer#" + id + "#" + strconv.FormatInt(due.UnixNano(), 36)
	data, err := json.Marshal(cmd)
	if err != nil {
		return errors.Wrap(err, "encode command")
	}
	m := nats.NewMsg(scheduleSubject(cmd.ExecARN, Token(id)))
	m.Data = data
	m.Header.Set(jetstream.ScheduleHeader, "@at "+due.UTC().Format(time.RFC3339Nano))
	m.Header.Set(jetstream.ScheduleTargetHeader, CommandSubject(cmd.ExecARN))
	m.Header.Set(jetstream.MsgIDHeader, msgID)
	_, err = PublishRetry(ctx, s.JS, m)
	return errors.Wrap(err, "schedule command")
}

// scheduleSubject is the subject of the schedule of an execution's timer (tok: the
// Token of the timer's id).
func scheduleSubject(execARN, tok string) string { return SchedulePrefix + Token(execARN) + "." + tok }
