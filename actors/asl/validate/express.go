package validate

import (
	"strconv"
	"strings"
)

// ValidateExpress returns the diagnostics that only an EXPRESS state machine gets, on top
// of Validate's: Express workflows run at most five minutes and keep no history, so they
// cannot wait for a job (".sync"), for a callback (".waitForTaskToken") or for an
// activity worker. It expects a definition that Validate accepts (it returns nothing for
// one that is not a JSON object).
func ValidateExpress(definition string) []Diagnostic {
	root, err := parseJSON(definition)
	if err != nil || !root.isObject() {
		return nil
	}
	var diags []Diagnostic
	var walk func(loc string, states *jsonValue)
	walk = func(loc string, states *jsonValue) {
		if !states.isObject() {
			return
		}
		for _, m := range states.members {
			at := loc + "/States/" + m.key
			st := m.value
			if res := st.get("Resource"); res.isString() {
				msg := ""
				switch r := res.str; {
				case strings.HasPrefix(r, "arn:") && strings.Contains(r, ":activity:"):
					msg = "Express state machine does not support Activity ARN"
				case strings.HasSuffix(r, ".sync") || strings.Contains(r, ".sync:"):
					msg = "Express state machine does not support '.sync' service integration"
				case strings.HasSuffix(r, ".waitForTaskToken"):
					msg = "Express state machine does not support '.waitForTaskToken' service integration"
				}
				if msg != "" {
					diags = append(diags, Diagnostic{Severity: SeverityError, Code: CodeSchemaValidationFailed,
						Message: msg, Location: at + "/Resource"})
				}
			}
			if br := st.get("Branches"); br.isArray() {
				for i, b := range br.items {
					walk(at+"/Branches["+strconv.Itoa(i)+"]", b.get("States"))
				}
			}
			for _, k := range []string{"ItemProcessor", "Iterator"} {
				if p := st.get(k); p.isObject() {
					walk(at+"/"+k, p.get("States"))
				}
			}
		}
	}
	walk("", root.get("States"))
	return diags
}
