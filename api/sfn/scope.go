package sfn

import (
	"context"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/events"
)

// Accounts and regions are kept apart here: a request acts for one caller (the
// account of its credentials, the region of its credential scope; api.Caller), and
// every read or write of a resource by ARN goes through the methods below or the
// scoped resource store, which answer events.ErrNotFound for an ARN of another account
// or region. Each operation then gives the answer AWS gives for a resource that does
// not exist. Work no request started (recovery, timers) carries no caller and sees
// everything.

// scopedStore is the resource store as one caller sees it.
type scopedStore struct{ events.ResourceStore }

var _ events.ResourceStore = scopedStore{}

// LastResource implements events.ResourceStore.
func (s scopedStore) LastResource(ctx context.Context, arn string) (events.ResourceEvent, uint64, error) {
	if !api.Owns(ctx, arn) {
		return events.ResourceEvent{}, 0, errors.Mark(errors.Newf("%s is not the caller's", arn), events.ErrNotFound)
	}
	return s.ResourceStore.LastResource(ctx, arn)
}

// AppendResource implements events.ResourceStore.
func (s scopedStore) AppendResource(ctx context.Context, ev events.ResourceEvent, expectLast uint64) (uint64, error) {
	if !api.Owns(ctx, ev.ARN) {
		return 0, errors.AssertionFailedf("write of %s refused: not the caller's", ev.ARN)
	}
	return s.ResourceStore.AppendResource(ctx, ev, expectLast)
}

func notCallers(arn string) error {
	return errors.Mark(errors.Newf("%s is not the caller's", arn), events.ErrNotFound)
}

func (s *Server) stateMachine(ctx context.Context, arn string) (events.StateMachineRecord, error) {
	if !api.Owns(ctx, arn) {
		return events.StateMachineRecord{}, notCallers(arn)
	}
	return s.res.StateMachine(ctx, arn)
}

func (s *Server) activity(ctx context.Context, arn string) (events.ActivityRecord, error) {
	if !api.Owns(ctx, arn) {
		return events.ActivityRecord{}, notCallers(arn)
	}
	return s.res.Activity(ctx, arn)
}

func (s *Server) version(ctx context.Context, arn string) (events.StateMachineRecord, error) {
	if !api.Owns(ctx, arn) {
		return events.StateMachineRecord{}, notCallers(arn)
	}
	return s.res.Version(ctx, arn)
}

func (s *Server) execution(ctx context.Context, arn string) (events.ExecutionRecord, error) {
	if !api.Owns(ctx, arn) {
		return events.ExecutionRecord{}, notCallers(arn)
	}
	return s.execs.Execution(ctx, arn)
}
