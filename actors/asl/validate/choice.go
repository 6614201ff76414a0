package validate

import (
	"fmt"
	"strings"
)

// comparisonOperators lists the Choice rule comparison operators in AWS's order, with the
// type of operand each takes.
var comparisonOperators = []struct {
	name    string
	operand string // string, number, boolean, timestamp, path
}{
	{"StringEquals", "string"}, {"StringEqualsPath", "path"},
	{"StringLessThan", "string"}, {"StringLessThanPath", "path"},
	{"StringGreaterThan", "string"}, {"StringGreaterThanPath", "path"},
	{"StringLessThanEquals", "string"}, {"StringLessThanEqualsPath", "path"},
	{"StringGreaterThanEquals", "string"}, {"StringGreaterThanEqualsPath", "path"},
	{"StringMatches", "string"},
	{"NumericEquals", "number"}, {"NumericEqualsPath", "path"},
	{"NumericLessThan", "number"}, {"NumericLessThanPath", "path"},
	{"NumericGreaterThan", "number"}, {"NumericGreaterThanPath", "path"},
	{"NumericLessThanEquals", "number"}, {"NumericLessThanEqualsPath", "path"},
	{"NumericGreaterThanEquals", "number"}, {"NumericGreaterThanEqualsPath", "path"},
	{"BooleanEquals", "boolean"}, {"BooleanEqualsPath", "path"},
	{"TimestampEquals", "timestamp"}, {"TimestampEqualsPath", "path"},
	{"TimestampLessThan", "timestamp"}, {"TimestampLessThanPath", "path"},
	{"TimestampGreaterThan", "timestamp"}, {"TimestampGreaterThanPath", "path"},
	{"TimestampLessThanEquals", "timestamp"}, {"TimestampLessThanEqualsPath", "path"},
	{"TimestampGreaterThanEquals", "timestamp"}, {"TimestampGreaterThanEqualsPath", "path"},
	{"IsNull", "boolean"}, {"IsPresent", "boolean"}, {"IsNumeric", "boolean"},
	{"IsString", "boolean"}, {"IsBoolean", "boolean"}, {"IsTimestamp", "boolean"},
}

var operatorOperand = func() map[string]string {
	m := map[string]string{}
	for _, op := range comparisonOperators {
		m[op.name] = op.operand
	}
	return m
}()

var operatorList = func() string {
	names := make([]string, len(comparisonOperators))
	for i, op := range comparisonOperators {
		names[i] = op.name
	}
	return "[" + strings.Join(names, ", ") + "]"
}()

func (v *validator) choice(loc string, s *jsonValue, jsonata bool) {
	c := s.get("Choices")
	if c == nil {
		return
	}
	cloc := loc + "/Choices"
	if !c.isArray() {
		v.schema(cloc, "Expected value of type [ARRAY]")
		return
	}
	if len(c.items) == 0 {
		v.schema(cloc, "Value cannot be empty")
		return
	}
	for i, r := range c.items {
		rloc := fmt.Sprintf("%s[%d]", cloc, i)
		if jsonata {
			v.jsonataRule(rloc, r)
		} else {
			v.rule(rloc, r, true)
		}
	}
}

// jsonataRule checks a Choice rule of a JSONata state: a Condition and a Next.
func (v *validator) jsonataRule(loc string, r *jsonValue) {
	if !r.isObject() {
		v.schema(loc, "Expected value of type [OBJECT]")
		return
	}
	var missing []string
	for _, f := range []string{"Condition", "Next"} {
		if !r.has(f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		v.schema(loc, "These fields are required: [%s]", strings.Join(missing, ", "))
	}
	for _, m := range r.members {
		switch {
		case m.key == "Condition" || m.key == "Next" || m.key == "Comment" || m.key == "Assign" || m.key == "Output":
		case m.key == "Variable" || m.key == "And" || m.key == "Or" || m.key == "Not" || operatorOperand[m.key] != "":
			v.schema(loc, "The QueryLanguage is set to 'JSONata', but field '%s' is only supported for the 'JSONPath' QueryLanguage", m.key)
		default:
			v.schema(loc, "Field '%s' is not supported", m.key)
		}
	}
	if cond := r.get("Condition"); cond != nil {
		switch {
		case cond.isBool():
		case cond.isString() && strings.HasPrefix(cond.str, "{%"):
			v.jsonataValue(loc+"/Condition", cond)
		default:
			v.schema(loc+"/Condition", "Expected value of type [BOOLEAN]")
		}
	}
	if n := r.get("Next"); n != nil && !n.isString() {
		v.schema(loc+"/Next", "Expected value of type [STRING]")
	}
	for _, f := range []string{"Output", "Assign"} {
		if val := r.get(f); val != nil {
			if f == "Assign" {
				v.assign(loc+"/Assign", val, true)
			} else {
				v.jsonataValue(loc+"/"+f, val)
			}
		}
	}
}

// rule checks a JSONPath Choice rule; top is true for the rules directly in Choices, the
// only ones that carry Next (and Assign).
func (v *validator) rule(loc string, r *jsonValue, top bool) {
	if !r.isObject() {
		v.schema(loc, "Expected value of type [OBJECT]")
		return
	}
	for _, m := range r.members {
		switch {
		case m.key == "Variable" || m.key == "And" || m.key == "Or" || m.key == "Not" || m.key == "Comment":
		case operatorOperand[m.key] != "":
		case top && (m.key == "Next" || m.key == "Assign"):
		case m.key == "Condition" || m.key == "Output":
			v.schema(loc, "The QueryLanguage is set to 'JSONPath', but field '%s' is only supported for the 'JSONata' QueryLanguage", m.key)
		default:
			v.schema(loc, "Field '%s' is not supported", m.key)
		}
	}
	if top && !r.has("Next") {
		v.schema(loc, "These fields are required: [Next]")
	}
	if n := r.get("Next"); top && n != nil && !n.isString() {
		v.schema(loc+"/Next", "Expected value of type [STRING]")
	}
	if a := r.get("Assign"); top && a != nil {
		v.assign(loc+"/Assign", a, false)
	}
	kinds := 0
	for _, f := range []string{"And", "Or", "Not", "Variable"} {
		if r.has(f) {
			kinds++
		}
	}
	if kinds != 1 {
		if !r.has("Condition") {
			v.schema(loc, "The object must have only one of the following fields, [And, Or, Not, Variable, Condition]")
		}
		return
	}
	switch {
	case r.has("Variable"):
		v.variableRule(loc, r)
	case r.has("Not"):
		v.rule(loc+"/Not", r.get("Not"), false)
	default:
		f := "And"
		if r.has("Or") {
			f = "Or"
		}
		list := r.get(f)
		floc := loc + "/" + f
		switch {
		case !list.isArray():
			v.schema(floc, "Expected value of type [ARRAY]")
		case len(list.items) == 0:
			v.schema(floc, "Value cannot be empty")
		default:
			for i, sub := range list.items {
				v.rule(fmt.Sprintf("%s[%d]", floc, i), sub, false)
			}
		}
	}
}

func (v *validator) variableRule(loc string, r *jsonValue) {
	if vr := r.get("Variable"); !vr.isString() {
		v.schema(loc+"/Variable", "Expected value of type [STRING]")
	} else if !validPath(vr.str) {
		v.schema(loc+"/Variable", "The value for the field 'Variable' must be a valid JSONPath")
	}
	var ops []jsonMember
	for _, m := range r.members {
		if operatorOperand[m.key] != "" {
			ops = append(ops, m)
		}
	}
	switch {
	case len(ops) == 0:
		v.schema(loc, "This object should have only one of the following fields: %s", operatorList)
		return
	case len(ops) > 1:
		v.schema(loc, "There should only be one of the following fields: %s", operatorList)
		return
	}
	op := ops[0]
	oloc := loc + "/" + op.key
	val := op.value
	switch operatorOperand[op.key] {
	case "string":
		if !val.isString() {
			v.schema(oloc, "Expected value of type [STRING]")
		}
	case "number":
		if !val.isNumber() {
			v.schema(oloc, "Expected value of type [NUMBER]")
		}
	case "boolean":
		if !val.isBool() {
			v.schema(oloc, "Expected value of type [BOOLEAN]")
		}
	case "timestamp":
		if !val.isString() {
			v.schema(oloc, "Expected value of type [STRING]")
		} else if !validTimestamp(val.str) {
			v.schema(oloc, "String does not match RFC3339 timestamp")
		}
	case "path":
		if !val.isString() {
			v.schema(oloc, "Expected value of type [STRING]")
		} else if !validPath(val.str) {
			v.schema(oloc, "The value for the field '%s' must be a valid JSONPath", op.key)
		}
	}
}
