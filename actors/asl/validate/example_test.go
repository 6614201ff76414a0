package validate_test

import (
	"fmt"

	"github.com/sfnd/sfnd/actors/asl/validate"
)

func ExampleValidate() {
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`
	diags := validate.Validate(def)
	for _, d := range diags {
		fmt.Printf("%s %s %q %q\n", d.Severity, d.Code, d.Message, d.Location)
	}
	fmt.Println(validate.InvalidDefinitionMessage(diags))
	// Output:
	// ERROR MISSING_TRANSITION_TARGET "Missing 'Next' target: B" "/States/A/Next"
	// ERROR MISSING_END_STATE "Workflow has no terminal state" ""
	// Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next, MISSING_END_STATE: Workflow has no terminal state at null'
}

func ExampleSummarize() {
	rep := validate.Summarize(validate.Validate(`{}`), "ERROR", 0)
	fmt.Println(rep.Result, rep.Truncated, rep.Diagnostics[0].Message)
	// Output:
	// FAIL false These fields are required: [States, StartAt]
}
