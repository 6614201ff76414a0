package events

import (
	"context"

	"github.com/cockroachdb/errors"
)

// ErrConflict marks an append whose expected last sequence no longer holds: another
// writer appended first. The caller reloads and decides again.
var ErrConflict = errors.New("events: expected last sequence does not match")

// ErrNotFound marks a read of a subject or key that holds nothing.
var ErrNotFound = errors.New("events: not found")

// Msg is one stored message of a subject with its stream sequence.
type Msg struct {
	Seq  uint64
	Data []byte
}

// ResourceStore is the control-plane log: one subject per resource.
type ResourceStore interface {
	// LastResource returns the newest event of a resource and its stream sequence,
	// or ErrNotFound when the resource never existed.
	LastResource(ctx context.Context, arn string) (ResourceEvent, uint64, error)
	// AppendResource appends ev to the resource's subject if the subject's last
	// sequence is still expectLast (0: no event yet). It returns the new sequence, or
	// an error marked ErrConflict.
	AppendResource(ctx context.Context, ev ResourceEvent, expectLast uint64) (uint64, error)
}
