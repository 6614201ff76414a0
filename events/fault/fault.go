// Package fault is sfnd's catalogue of AWS errors: one table (errors.json) of every
// error code the API can answer with and its HTTP status, and the error type that
// carries a code through the engine. Domain code returns fault errors; the API maps
// them to the wire in one place (api.WriteError).
package fault

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/errors"
)

// Code is an AWS error code (the wire's "__type").
type Code string

//go:embed errors.json
var catalogueJSON []byte

var statuses = func() map[Code]int {
	var rows []struct {
		Code   Code `json:"code"`
		Status int  `json:"status"`
	}
	if err := json.Unmarshal(catalogueJSON, &rows); err != nil {
		panic(err)
	}
	m := make(map[Code]int, len(rows))
	for _, r := range rows {
		m[r.Code] = r.Status
	}
	return m
}()

// Codes used by name in Go code. Every one is in errors.json (a test checks).
const (
	ActivityDoesNotExist         Code = "ActivityDoesNotExist"
	ExecutionAlreadyExists       Code = "ExecutionAlreadyExists"
	ExecutionDoesNotExist        Code = "ExecutionDoesNotExist"
	ExecutionNotRedrivable       Code = "ExecutionNotRedrivable"
	InvalidArn                   Code = "InvalidArn"
	InvalidDefinition            Code = "InvalidDefinition"
	InvalidEncryption            Code = "InvalidEncryptionConfiguration"
	InvalidExecutionInput        Code = "InvalidExecutionInput"
	InvalidLoggingConfiguration  Code = "InvalidLoggingConfiguration"
	InvalidName                  Code = "InvalidName"
	InvalidOutput                Code = "InvalidOutput"
	InvalidToken                 Code = "InvalidToken"
	InvalidTracingConfiguration  Code = "InvalidTracingConfiguration"
	MissingRequiredParameter     Code = "MissingRequiredParameter"
	ResourceNotFound             Code = "ResourceNotFound"
	StateMachineAlreadyExists    Code = "StateMachineAlreadyExists"
	StateMachineDeleting         Code = "StateMachineDeleting"
	StateMachineDoesNotExist     Code = "StateMachineDoesNotExist"
	StateMachineTypeNotSupported Code = "StateMachineTypeNotSupported"
	TaskDoesNotExist             Code = "TaskDoesNotExist"
	TaskTimedOut                 Code = "TaskTimedOut"
	TooManyTags                  Code = "TooManyTags"
	ValidationException          Code = "ValidationException"
	ConflictException            Code = "ConflictException"
	UnknownOperation             Code = "UnknownOperationException"
	Serialization                Code = "SerializationException"
	RequestEntityTooLarge        Code = "RequestEntityTooLargeException"
	InternalFailure              Code = "InternalFailure"
	// Authentication (the shared edge, every service).
	MissingAuthenticationToken Code = "MissingAuthenticationTokenException"
	IncompleteSignature        Code = "IncompleteSignatureException"
	UnrecognizedClient         Code = "UnrecognizedClientException"
	InvalidSignature           Code = "InvalidSignatureException"
	ServiceUnavailable         Code = "ServiceUnavailable"
)

// Status is the HTTP status AWS answers with for code (500 for an unknown code).
func Status(c Code) int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return 500
}

// Known reports whether c is in the catalogue.
func Known(c Code) bool { _, ok := statuses[c]; return ok }

// Error is an AWS error: a code from the catalogue and the message AWS gives.
type Error struct {
	Code    Code
	Message string
	// Extra holds additional top-level members of the error body (e.g. "resourceName").
	Extra map[string]any
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// New returns an AWS error with a formatted message. String arguments longer than
// MaxEcho are cut short (see Echo): a message never carries a huge value back.
func New(c Code, format string, args ...any) error {
	return &Error{Code: c, Message: fmt.Sprintf(format, EchoArgs(args)...)}
}

// MaxEcho is the most characters of a value an error message repeats. AWS repeats
// values of a few thousand characters in full (a 3,097-character nextToken is
// echoed whole), so the cap sits above every length limit the API checks except
// those of payloads, which are never echoed.
const MaxEcho = 4096

// Echo returns s, or its first MaxEcho characters followed by "..." when longer.
func Echo(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxEcho {
			return s[:i] + "..."
		}
		n++
	}
	return s
}

// EchoArgs applies Echo to the string arguments of a message.
func EchoArgs(args []any) []any {
	for i, a := range args {
		if s, ok := a.(string); ok && len(s) > MaxEcho {
			out := append([]any(nil), args...)
			for j := i; j < len(out); j++ {
				if s, ok := out[j].(string); ok {
					out[j] = Echo(s)
				}
			}
			return out
		}
	}
	return args
}

// As extracts the AWS error from err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries the AWS code c.
func Is(err error, c Code) bool {
	e, ok := As(err)
	return ok && e.Code == c
}
