package jsstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
)

// Stream and bucket names. Subjects never contain raw names or ARNs: Token encodes them.
const (
	ResourceStream = "SFN_RESOURCES"
	ResourcePrefix = "sfn.res."
	HistoryStream  = "SFN_HISTORY"
	HistoryPrefix  = "sfn.hist."
)

// Token encodes an arbitrary string (an ARN, a name) as one subject token: base64url
// without padding never contains '.', '*', '>' or white space.
func Token(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Untoken reverses Token.
func Untoken(t string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	return string(b), errors.Wrap(err, "decode subject token")
}

// ResourceSubject is the subject of one resource's events.
func ResourceSubject(arn string) string { return ResourcePrefix + Token(arn) }

// Options tunes stream creation.
type Options struct {
	Replicas int // 1 for a single node, 3 on a cluster
}

// Store is the JetStream-backed event store.
type Store struct {
	NC        *nats.Conn
	JS        jetstream.JetStream
	resources jetstream.Stream
	history   jetstream.Stream
	commands  jetstream.Stream
	glueWork  jetstream.Stream
	glueHist  jetstream.Stream
	glueCmd   jetstream.Stream

	scan scanMux // replies of batched direct gets (scan.go)

	replicas   int // --replicas: for the streams and buckets created from now on
	replicaLog replicaLog
}

var _ events.ResourceStore = (*Store)(nil)

// Open creates (or updates) the streams sfnd needs and returns the store.
func Open(ctx context.Context, nc *nats.Conn, opts Options) (*Store, error) {
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, errors.Wrap(err, "jetstream context")
	}
	s := &Store{NC: nc, JS: js, replicas: opts.Replicas}
	s.resources, err = EnsureStream(ctx, js, jetstream.StreamConfig{
		Name:        ResourceStream,
		Description: "sfnd control-plane events: state machines, activities, tags",
		Subjects:    []string{ResourcePrefix + ">"},
		Storage:     jetstream.FileStorage,
		Replicas:    s.KeepReplicas(ctx, ResourceStream, 0),
		AllowDirect: true,
		Duplicates:  2 * time.Minute,
	})
	if err != nil {
		return nil, errors.Wrap(err, "create resource stream")
	}
	s.history, err = EnsureStream(ctx, js, jetstream.StreamConfig{
		Name:               HistoryStream,
		Description:        "sfnd execution histories: one subject per execution",
		Subjects:           []string{HistoryPrefix + ">"},
		Storage:            jetstream.FileStorage,
		Replicas:           s.KeepReplicas(ctx, HistoryStream, 0),
		AllowDirect:        true,
		AllowAtomicPublish: true,
		Duplicates:         2 * time.Minute,
	})
	if err != nil {
		return nil, errors.Wrap(err, "create history stream")
	}
	s.commands, err = EnsureStream(ctx, js, jetstream.StreamConfig{
		Name:              CommandStream,
		Description:       "sfnd commands to executions and their durable timers",
		Subjects:          []string{CommandPrefix + ">", SchedulePrefix + ">"},
		Storage:           jetstream.FileStorage,
		Replicas:          s.KeepReplicas(ctx, CommandStream, 0),
		Retention:         jetstream.WorkQueuePolicy,
		AllowMsgSchedules: true,
		AllowDirect:       true, // Unscheduled: batched reads of pending schedules
		Duplicates:        2 * time.Minute,
	})
	if err != nil {
		return nil, errors.Wrap(err, "create command stream")
	}
	if err := s.openGlue(ctx, opts); err != nil {
		return nil, err
	}
	return s, nil
}

// CommandStream returns the command stream (for the execution owners' consumer).
func (s *Store) CommandStream() jetstream.Stream { return s.commands }

// HistoryStream returns the history stream (for projections).
func (s *Store) HistoryStream() jetstream.Stream { return s.history }

// ResourceStream returns the control-plane stream (for projections).
func (s *Store) ResourceStream() jetstream.Stream { return s.resources }

// LastResource implements events.ResourceStore.
func (s *Store) LastResource(ctx context.Context, arn string) (events.ResourceEvent, uint64, error) {
	var ev events.ResourceEvent
	m, err := s.resources.GetLastMsgForSubject(ctx, ResourceSubject(arn))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return ev, 0, errors.Mark(errors.Newf("resource %s has no events", arn), events.ErrNotFound)
	}
	if err != nil {
		return ev, 0, errors.Wrapf(err, "read last event of %s", arn)
	}
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		return ev, 0, errors.Wrapf(err, "decode resource event %d", m.Sequence)
	}
	return ev, m.Sequence, nil
}

// AppendResource implements events.ResourceStore.
func (s *Store) AppendResource(ctx context.Context, ev events.ResourceEvent, expectLast uint64) (uint64, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return 0, errors.Wrap(err, "encode resource event")
	}
	ack, err := s.JS.Publish(ctx, ResourceSubject(ev.ARN), data, jetstream.WithExpectLastSequencePerSubject(expectLast))
	if err != nil {
		return 0, classify(err, "append resource event")
	}
	return ack.Sequence, nil
}

// classify marks JetStream's wrong-last-sequence answers as events.ErrConflict.
func classify(err error, what string) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant ||
		// On a replicated stream, another owner's append of the same decision (same
		// Nats-Msg-Id) still being proposed: as good as a wrong last sequence.
		apiErr.ErrorCode == 10158) {
		return errors.Mark(errors.Wrap(err, what), events.ErrConflict)
	}
	return errors.Wrap(err, what)
}
