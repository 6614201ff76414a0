package expr

import (
	"context"
	"fmt"
)

// Limits bound one evaluation of a JSONata expression or of an intrinsic function
// call, in work and in memory, deterministically: the same expression on the same
// data fails the same way in a live run and in a replay (no clock is read). An
// evaluation over a limit fails with the error AWS uses for a failed evaluation
// (States.QueryEvaluationError for JSONata, States.IntrinsicFailure for intrinsics).
// AWS documents no such limits; these are far above what any definition of the
// recorded corpus needs and far below what would exhaust a node.
type Limits struct {
	// Steps is the number of evaluation steps: JSONata nodes evaluated, function
	// calls, filter items, sort comparisons, and every 10,000 items of a range.
	Steps int
	// Bytes is about the memory the evaluation may produce: the length of the
	// strings it builds and 16 bytes for each array item or object member.
	Bytes int
}

// DefaultLimits are the limits of every evaluation: at most about half a second of
// work and a few hundred MB (the 64 MiB counted and the representation's overhead),
// for an input of at most 256 KiB.
var DefaultLimits = Limits{Steps: 1_000_000, Bytes: 64 << 20}

func (l Limits) orDefault() Limits {
	if l.Steps <= 0 {
		l.Steps = DefaultLimits.Steps
	}
	if l.Bytes <= 0 {
		l.Bytes = DefaultLimits.Bytes
	}
	return l
}

// LimitError is the failure of an evaluation that went over one of its Limits.
type LimitError struct {
	What  string // "steps" or "bytes"
	Limit int
}

func (e *LimitError) Error() string {
	if e.What == "steps" {
		return fmt.Sprintf("The evaluation exceeded its limit of %d steps.", e.Limit)
	}
	return fmt.Sprintf("The evaluation exceeded its limit of %d bytes of values produced.", e.Limit)
}

// budget is the context.Context a JSONata evaluation runs with. gnata calls Err at
// every step (see actors/asl/gnata/SFND.md), and Charge before it produces strings
// and arrays: both count against the limits, and the first error ends the
// evaluation. It is used by one evaluation, on one goroutine.
type budget struct {
	context.Context
	lim          Limits
	steps, bytes int
	err          error
}

func newBudget(l Limits) *budget {
	return &budget{Context: context.Background(), lim: l.orDefault()}
}

// Err implements context.Context: one step.
func (b *budget) Err() error {
	if b.err != nil {
		return b.err
	}
	b.steps++
	if b.steps > b.lim.Steps {
		b.err = &LimitError{What: "steps", Limit: b.lim.Steps}
	}
	return b.err
}

// Charge accounts for n bytes about to be produced.
func (b *budget) Charge(n int) error {
	if b.err != nil {
		return b.err
	}
	b.bytes += n
	if n < 0 || b.bytes > b.lim.Bytes {
		b.err = &LimitError{What: "bytes", Limit: b.lim.Bytes}
	}
	return b.err
}

// Left is what remains of the bytes.
func (b *budget) Left() int { return max(0, b.lim.Bytes-b.bytes) }
