// Package validate checks Amazon States Language definitions statically, the way AWS Step
// Functions does at CreateStateMachine, UpdateStateMachine and ValidateStateMachineDefinition.
//
// It works on the raw definition text, independent of the decider's model, and reports
// diagnostics in AWS's shape and words:
//
//	diags := validate.Validate(definition)
//	if validate.HasErrors(diags) {
//		return InvalidDefinition(validate.InvalidDefinitionMessage(diags))
//	}
//
// The checks run in three phases, as AWS's do: JSON syntax (INVALID_JSON_DESCRIPTION), the
// schema of every state (SCHEMA_VALIDATION_FAILED and friends), and, only when the schema
// holds, the transition graph (MISSING_TRANSITION_TARGET, MISSING_END_STATE).
package validate

import (
	"strings"
)

// Severities of a Diagnostic.
const (
	SeverityError   = "ERROR"
	SeverityWarning = "WARNING"
)

// Diagnostic codes AWS documents for ValidateStateMachineDefinition that this package emits.
const (
	CodeInvalidJSON             = "INVALID_JSON_DESCRIPTION"
	CodeSchemaValidationFailed  = "SCHEMA_VALIDATION_FAILED"
	CodeMissingTransitionTarget = "MISSING_TRANSITION_TARGET"
	CodeMissingEndState         = "MISSING_END_STATE"
	CodeDuplicateStateName      = "DUPLICATE_STATE_NAME"
	CodeInvalidStateName        = "INVALID_STATE_NAME"
	CodeDuplicateLabelName      = "DUPLICATE_LABEL_NAME"
	CodeInvalidLabelName        = "INVALID_LABEL_NAME"
	CodeTooDeeplyNested         = "TOO_DEEPLY_NESTED"
	CodeNoDollar                = "NO_DOLLAR"
	CodePassResultIsStatic      = "PASS_RESULT_IS_STATIC"
)

// Diagnostic is one finding, as ValidateStateMachineDefinition returns it.
type Diagnostic struct {
	Severity string // ERROR | WARNING
	Code     string
	Message  string
	// Location is a JSON-pointer-like path such as "/States/A/Next" or
	// "/States/P/Branches[0]/States/B"; empty when AWS gives none.
	Location string
}

// Validate checks a definition and returns every diagnostic, errors and warnings, in the
// order AWS reports them. Errors make CreateStateMachine/UpdateStateMachine fail with
// InvalidDefinition.
func Validate(definition string) []Diagnostic {
	root, synErr := parseJSON(definition)
	if synErr != nil {
		msg := synErr.msg
		if synErr.location != "" {
			msg += "\n at " + synErr.location
		}
		return []Diagnostic{{
			Severity: SeverityError,
			Code:     CodeInvalidJSON,
			Message:  msg,
			Location: synErr.location,
		}}
	}
	if root == nil || root.kind != kindObject {
		return []Diagnostic{{
			Severity: SeverityError,
			Code:     CodeSchemaValidationFailed,
			Message:  "Definition must be a valid JSON object",
		}}
	}
	v := &validator{}
	v.machine(root)
	if !HasErrors(v.diags) {
		v.graph(root)
	}
	return v.diags
}

// HasErrors reports whether any diagnostic has severity ERROR.
func HasErrors(diags []Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// InvalidDefinitionMessage returns the message AWS puts in the InvalidDefinition error of
// CreateStateMachine/UpdateStateMachine for these diagnostics, e.g.
// "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty at
// /States/P/Branches'". Every ERROR is listed, "CODE: message at location", joined by ", ";
// a diagnostic without a location reads "at null", as AWS prints it. Warnings are left out.
func InvalidDefinitionMessage(diags []Diagnostic) string {
	var parts []string
	for _, d := range diags {
		if d.Severity != SeverityError {
			continue
		}
		if d.Code == CodeInvalidJSON {
			// The parser's message already ends with its own location.
			parts = append(parts, d.Code+": "+d.Message)
			continue
		}
		loc := d.Location
		if loc == "" {
			loc = "null"
		}
		parts = append(parts, d.Code+": "+d.Message+" at "+loc)
	}
	return "Invalid State Machine Definition: '" + strings.Join(parts, ", ") + "'"
}

// DefaultMaxResults is the number of diagnostics ValidateStateMachineDefinition returns when
// maxResults is 0 or absent; it is also the largest value AWS accepts.
const DefaultMaxResults = 100

// Report is the body of a ValidateStateMachineDefinition response.
type Report struct {
	Result      string // OK | FAIL
	Diagnostics []Diagnostic
	Truncated   bool
}

// Summarize shapes diagnostics into a ValidateStateMachineDefinition response. severity is
// the request's minimum severity: "ERROR" (the default, also for "") keeps errors only,
// "WARNING" keeps errors and warnings. maxResults caps the list (0 means
// DefaultMaxResults); Truncated says whether some were left off. Result is FAIL when any
// error exists, whether or not it survived the cap.
func Summarize(diags []Diagnostic, severity string, maxResults int) Report {
	if maxResults <= 0 || maxResults > DefaultMaxResults {
		maxResults = DefaultMaxResults
	}
	rep := Report{Result: "OK", Diagnostics: []Diagnostic{}}
	if HasErrors(diags) {
		rep.Result = "FAIL"
	}
	var kept []Diagnostic
	for _, d := range diags {
		if d.Severity == SeverityError || severity == SeverityWarning {
			kept = append(kept, d)
		}
	}
	// Errors first: a capped list must show what makes the definition fail.
	var ordered []Diagnostic
	for _, d := range kept {
		if d.Severity == SeverityError {
			ordered = append(ordered, d)
		}
	}
	for _, d := range kept {
		if d.Severity != SeverityError {
			ordered = append(ordered, d)
		}
	}
	if len(ordered) > maxResults {
		rep.Truncated = true
		ordered = ordered[:maxResults]
	}
	rep.Diagnostics = append(rep.Diagnostics, ordered...)
	return rep
}
