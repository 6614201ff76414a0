package jsstore

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events"
)

func TestResourceAppendConflicts(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	const arn = "arn:aws:states:us-east-1:123456789012:activity:a.b c*>"
	_, _, err := s.LastResource(ctx, arn)
	if !errors.Is(err, events.ErrNotFound) {
		t.Fatalf("empty subject: %v, want ErrNotFound", err)
	}
	ev := events.ResourceEvent{Kind: events.ActivityCreated, ARN: arn, Activity: &events.ActivityRecord{ARN: arn, Name: "a"}}
	seq, err := s.AppendResource(ctx, ev, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendResource(ctx, ev, 0); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("second append expecting an empty subject: %v, want ErrConflict", err)
	}
	// Another resource's events do not count against this one's expectation.
	other := events.ResourceEvent{Kind: events.ActivityCreated, ARN: arn + "2", Activity: &events.ActivityRecord{ARN: arn + "2"}}
	if _, err := s.AppendResource(ctx, other, 0); err != nil {
		t.Fatal(err)
	}
	ev.Kind = events.ActivityDeleted
	seq2, err := s.AppendResource(ctx, ev, seq)
	if err != nil || seq2 <= seq {
		t.Fatalf("append after %d: %d, %v", seq, seq2, err)
	}
	got, last, err := s.LastResource(ctx, arn)
	if err != nil || last != seq2 || got.Kind != events.ActivityDeleted || got.ARN != arn {
		t.Fatalf("LastResource = %+v %d %v", got, last, err)
	}
}

// TestMutateUnderContention runs many concurrent Mutates of one resource: every one
// must land exactly once, none lost to the optimistic-concurrency retries.
func TestMutateUnderContention(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	const arn = "arn:aws:states:us-east-1:123456789012:stateMachine:hot"
	rec := &events.StateMachineRecord{ARN: arn, Name: "hot"}
	if _, _, err := events.Mutate(ctx, s, arn, func(cur *events.ResourceEvent) (events.Decision, error) {
		return &events.ResourceEvent{Kind: events.StateMachineCreated, ARN: arn, StateMachine: rec}, nil
	}); err != nil {
		t.Fatal(err)
	}
	const writers = 64
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, _, errs[i] = events.Mutate(ctx, s, arn, func(cur *events.ResourceEvent) (events.Decision, error) {
				next := *cur.StateMachine
				next.Tags = append(append([]events.Tag{}, next.Tags...), events.Tag{Key: fmt.Sprint(i)})
				return &events.ResourceEvent{Kind: events.TagsAdded, ARN: arn, StateMachine: &next}, nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	last, _, err := s.LastResource(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(last.StateMachine.Tags); n != writers {
		t.Fatalf("%d concurrent mutations left %d tags", writers, n)
	}
	// A decision of nothing appends nothing.
	ev, seq, err := events.Mutate(ctx, s, arn, func(*events.ResourceEvent) (events.Decision, error) { return nil, nil })
	if ev != nil || seq != 0 || err != nil {
		t.Fatalf("no-op Mutate = %v %d %v", ev, seq, err)
	}
}
