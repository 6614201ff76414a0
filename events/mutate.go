package events

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/cockroachdb/errors"
)

// Decision is what a Mutate callback decides for a resource: the event to append, or
// nil to append nothing (an idempotent repeat).
type Decision = *ResourceEvent

// maxMutateAttempts bounds Mutate's retries on conflicts.
const maxMutateAttempts = 100

// Mutate reads a resource's newest event, lets decide choose the next one, and appends
// it with optimistic concurrency, retrying (after a jittered back-off) when another
// writer got there first.
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
		if errors.Is(err, ErrConflict) && attempt < maxMutateAttempts {
			// Another writer won: back off a random moment, growing with the
			// contention, so that a hot resource still lets every writer through.
			backoff := time.Duration(rand.Int64N(int64(min(attempt+1, 20)) * int64(time.Millisecond)))
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil, 0, errors.Wrap(ctx.Err(), "mutate "+arn)
			}
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		return next, newSeq, nil
	}
}
