package expr

import (
	"fmt"

	"github.com/cockroachdb/errors"
)

// AWS error names produced by this package.
const (
	ErrNameRuntime                = "States.Runtime"
	ErrNameIntrinsicFailure       = "States.IntrinsicFailure"
	ErrNameResultPathMatchFailure = "States.ResultPathMatchFailure"
	ErrNameParameterPathFailure   = "States.ParameterPathFailure"
)

// Markers carried (errors.Is) by the errors this package returns, besides the *Error.
var (
	// ErrNotFound marks a definite path that selected nothing.
	ErrNotFound = errors.New("path not found")
	// ErrSyntax marks a path or intrinsic function call that does not parse.
	ErrSyntax = errors.New("syntax error")
)

// Error is a runtime failure with the AWS error name (States.Runtime,
// States.IntrinsicFailure, ...) and the cause text AWS produces.
//
// The cause is the part after AWS's prefix "An error occurred while executing the state
// 'X' (entered at the event id #N). ", which the decider adds because it knows the state.
type Error struct {
	Name  string
	Cause string
	// Location is the field a JSONata evaluation failed in ("Output/result"), for
	// AWS's EvaluationFailed event; empty otherwise.
	Location string
}

func (e *Error) Error() string { return e.Name + ": " + e.Cause }

func newError(name, format string, a ...any) *Error {
	return &Error{Name: name, Cause: fmt.Sprintf(format, a...)}
}

// AsError extracts the *Error from err (nil when err carries none).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// IsNotFound reports whether err says that a definite path selected nothing.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsSyntaxError reports whether err says that a path or intrinsic call does not parse.
func IsSyntaxError(err error) bool { return errors.Is(err, ErrSyntax) }

// pathErr is the internal failure of path evaluation: Jayway's message, and whether it
// means "nothing selected" (as opposed to a syntax error).
type pathErr struct {
	msg      string
	notFound bool
}

func (e *pathErr) Error() string { return e.msg }
