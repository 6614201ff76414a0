package asl

import (
	"strings"
	"testing"

	"github.com/sfnd/sfnd/test/hostile"
)

// TestTestStateEvaluationLimits runs issue 10's TestState example and an intrinsic of
// the same kind: each fails the state with the error AWS uses for a failed evaluation,
// within hostile's limits, instead of running for minutes and taking gigabytes.
func TestTestStateEvaluationLimits(t *testing.T) {
	for _, c := range []struct{ def, input, err string }{
		{`{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $count([1..10000000].([1..5])) %}","End":true}`, `{}`, "States.QueryEvaluationError"},
		{`{"Type":"Pass","Parameters":{"s.$":"States.JsonToString(States.Array(` + strings.Repeat("$, ", 500) + `$))"},"End":true}`,
			hostile.Realistic(200000), "States.IntrinsicFailure"},
	} {
		var res *TestStateResult
		var err error
		wall, cpu := hostile.Cost(func() { res, err = TestState(c.def, c.input, TestStateOptions{}) })
		if why := hostile.TooCostly(wall, cpu); why != "" {
			t.Errorf("%.60s: %s", c.def, why)
		}
		if err != nil {
			t.Fatalf("%.60s: %v", c.def, err)
		}
		if res.Status != "FAILED" || res.Error != c.err || !strings.Contains(res.Cause, "exceeded its limit") {
			t.Errorf("%.60s: %s %s %s", c.def, res.Status, res.Error, res.Cause)
		}
	}
}
