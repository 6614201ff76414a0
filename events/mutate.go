package events

import (
	"context"

	"github.com/cockroachdb/errors"
)

// Decision is what a Mutate callback decides for a resource: the event to append, or
// nil to append nothing (an idempotent repeat).
type Decision = *ResourceEvent

// Mutate reads a resource's newest event, lets decide choose the next one, and appends
// it with optimistic concurrency, retrying when another writer got there first.
// cur is nil when the resource has no events. It returns the appended event and its
// sequence (0 and nil when decide chose nothing).
func Mutate(ctx context.Context, st ResourceStore, arn string,
	decide func(cur *ResourceEvent) (Decision, error)) (*ResourceEvent, uint64, error) {
	for attempt := 0; ; attempt++ {
		var cur *ResourceEvent
		last, seq, err := st.LastResource(ctx, arn)
		switch {
		case errors.Is(err, ErrNotFound):
			seq = 0
		case err != nil:
			return nil, 0, err
		default:
			cur = &last
		}
		next, err := decide(cur)
		if err != nil || next == nil {
			return nil, 0, err
		}
		newSeq, err := st.AppendResource(ctx, *next, seq)
		if errors.Is(err, ErrConflict) && attempt < 16 {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		return next, newSeq, nil
	}
}
