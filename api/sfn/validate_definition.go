package sfn

import (
	"context"

	"github.com/sfnd/sfnd/actors/asl/validate"
)

type validateDefinitionInput struct {
	Definition *string `json:"definition"`
	Type       *string `json:"type"`
	Severity   *string `json:"severity"`
	MaxResults *int    `json:"maxResults"`
}

type diagnosticOut struct {
	Severity string  `json:"severity"`
	Code     string  `json:"code"`
	Message  string  `json:"message"`
	Location *string `json:"location,omitempty"`
}

type validateDefinitionOutput struct {
	Result      string          `json:"result"`
	Diagnostics []diagnosticOut `json:"diagnostics"`
	Truncated   bool            `json:"truncated"`
}

// validateStateMachineDefinition runs the static validation of CreateStateMachine
// (actors/asl/validate) and reports every finding instead of failing on the first.
func (s *Server) validateStateMachineDefinition(_ context.Context, r *request) (any, error) {
	var in validateDefinitionInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("definition", in.Definition, 1, maxDefinition)
	if in.Type != nil && *in.Type != "STANDARD" && *in.Type != "EXPRESS" {
		v.Add("Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]", *in.Type)
	}
	severity := validate.SeverityError
	if in.Severity != nil {
		severity = *in.Severity
		if severity != validate.SeverityError && severity != validate.SeverityWarning {
			v.Add("Value '%s' at 'severity' failed to satisfy constraint: Member must satisfy enum value set: [ERROR, WARNING]", severity)
		}
	}
	maxResults := 0
	if in.MaxResults != nil {
		maxResults = *in.MaxResults
		switch {
		case maxResults < 0:
			v.Add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0", maxResults)
		case maxResults > validate.DefaultMaxResults:
			v.Add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", maxResults, validate.DefaultMaxResults)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	diags := validate.Validate(*in.Definition)
	if !validate.HasErrors(diags) && in.Type != nil && *in.Type == "EXPRESS" {
		diags = append(diags, validate.ValidateExpress(*in.Definition)...)
	}
	rep := validate.Summarize(diags, severity, maxResults)
	out := validateDefinitionOutput{Result: rep.Result, Diagnostics: []diagnosticOut{}, Truncated: rep.Truncated}
	for _, d := range rep.Diagnostics {
		out.Diagnostics = append(out.Diagnostics, diagnosticOut{
			Severity: d.Severity, Code: d.Code, Message: d.Message, Location: optString(d.Location),
		})
	}
	return out, nil
}
