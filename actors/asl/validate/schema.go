package validate

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sfnd/sfnd/actors/asl/expr"
)

// This file holds the schema phase: the shape of the machine, of every state and of the
// structures inside states, with AWS's SCHEMA_VALIDATION_FAILED wording.

const (
	queryLanguageJSONPath = "JSONPath"
	queryLanguageJSONata  = "JSONata"

	maxStateNameLength = 80
	maxLabelLength     = 40
	maxTimeoutSeconds  = 99999999
	maxRetryAttempts   = 99999999
	maxIntervalSeconds = 99999999
	maxDelaySeconds    = 31622400
)

var stateTypesList = "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]"

// Fields every state accepts.
var commonStateFields = set("Type", "Comment", "QueryLanguage")

// allowedStateFields lists, per state type, the fields AWS accepts besides the common ones.
// Any other field is refused with "Field '<name>' is not supported".
var allowedStateFields = map[string]map[string]bool{
	"Pass": set("InputPath", "OutputPath", "Result", "ResultPath", "Parameters", "Output",
		"Assign", "Next", "End"),
	"Task": set("InputPath", "OutputPath", "ResultPath", "Parameters", "Arguments", "Output",
		"Assign", "Resource", "Credentials", "ResultSelector", "Retry", "Catch",
		"TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath",
		"Next", "End"),
	"Wait": set("InputPath", "OutputPath", "Output", "Assign", "Seconds", "Timestamp",
		"SecondsPath", "TimestampPath", "Next", "End"),
	"Parallel": set("InputPath", "OutputPath", "ResultPath", "Parameters", "Arguments",
		"Output", "Assign", "ResultSelector", "Retry", "Catch", "Branches", "Next", "End"),
	"Map": set("InputPath", "OutputPath", "ResultPath", "Parameters", "Output", "Assign",
		"ResultSelector", "Retry", "Catch", "ItemProcessor", "Iterator", "ItemsPath", "Items",
		"ItemSelector", "ItemReader", "ItemBatcher", "ResultWriter", "MaxConcurrency",
		"MaxConcurrencyPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath",
		"ToleratedFailureCount", "ToleratedFailureCountPath", "Label", "Next", "End"),
	"Choice":  set("InputPath", "OutputPath", "Output", "Assign", "Choices", "Default"),
	"Succeed": set("InputPath", "OutputPath", "Output"),
	"Fail":    set("Error", "Cause", "ErrorPath", "CausePath"),
}

// Fields that exist only in one query language.
var (
	jsonPathOnlyFields = set("InputPath", "OutputPath", "ResultPath", "Parameters",
		"ResultSelector", "Result", "ItemsPath", "TimeoutSecondsPath", "HeartbeatSecondsPath",
		"SecondsPath", "TimestampPath", "MaxConcurrencyPath", "ToleratedFailurePercentagePath",
		"ToleratedFailureCountPath", "ErrorPath", "CausePath")
	jsonataOnlyFields = set("Arguments", "Output", "Items")
)

var topLevelFields = set("Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage")

func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, it := range items {
		m[it] = true
	}
	return m
}

// validator accumulates diagnostics over one definition.
type validator struct {
	diags      []Diagnostic
	topJSONata bool
	names      map[string]bool // every state name seen, machine-wide
	labels     map[string]bool
}

func (v *validator) add(code, loc, format string, args ...any) {
	v.diags = append(v.diags, Diagnostic{Severity: SeverityError, Code: code, Message: fmt.Sprintf(format, args...), Location: loc})
}

func (v *validator) schema(loc, format string, args ...any) {
	v.add(CodeSchemaValidationFailed, loc, format, args...)
}

func (v *validator) warn(code, loc, format string, args ...any) {
	v.diags = append(v.diags, Diagnostic{Severity: SeverityWarning, Code: code, Message: fmt.Sprintf(format, args...), Location: loc})
}

// machine checks the top level and every state under it.
func (v *validator) machine(root *jsonValue) {
	v.names = map[string]bool{}
	v.labels = map[string]bool{}
	var missing []string
	for _, f := range []string{"States", "StartAt"} {
		if !root.has(f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		v.schema("/", "These fields are required: [%s]", strings.Join(missing, ", "))
	}
	for _, m := range root.members {
		if !topLevelFields[m.key] {
			v.schema("/", "Field '%s' is not supported", m.key)
		}
	}
	if sa := root.get("StartAt"); sa != nil && !sa.isString() {
		v.schema("/StartAt", "Expected value of type [STRING]")
	}
	if c := root.get("Comment"); c != nil && !c.isString() {
		v.schema("/Comment", "Expected value of type [STRING]")
	}
	if ver := root.get("Version"); ver != nil {
		if !ver.isString() {
			v.schema("/Version", "Expected value of type [STRING]")
		} else if ver.str != "1.0" {
			v.schema("/Version", "Value should be one of the following: [1.0]")
		}
	}
	if ts := root.get("TimeoutSeconds"); ts != nil {
		v.integer("/TimeoutSeconds", ts, 1, maxTimeoutSeconds)
	}
	v.queryLanguageValue("/QueryLanguage", root)
	v.topJSONata = resolvesToJSONata(root, false)
	if states := root.get("States"); states != nil {
		v.statesObject("/States", states)
	}
}

// resolvesToJSONata returns the effective query language of owner (a state or the machine):
// JSONPath only when the field is exactly "JSONPath", inherited when absent.
func resolvesToJSONata(owner *jsonValue, inherited bool) bool {
	ql := owner.get("QueryLanguage")
	if ql == nil {
		return inherited
	}
	return !(ql.isString() && ql.str == queryLanguageJSONPath)
}

func (v *validator) queryLanguageValue(loc string, owner *jsonValue) {
	ql := owner.get("QueryLanguage")
	if ql == nil {
		return
	}
	if !ql.isString() {
		v.schema(loc, "Expected value of type [STRING]")
		return
	}
	if ql.str != queryLanguageJSONPath && ql.str != queryLanguageJSONata {
		v.schema(loc, "Value should be one of the following: [JSONPath, JSONata]")
	}
}

// statesObject checks one States object (top level, a branch or an item processor).
func (v *validator) statesObject(loc string, states *jsonValue) {
	if !states.isObject() {
		v.schema(loc, "Expected value of type [OBJECT]")
		return
	}
	for _, d := range states.dups {
		v.add(CodeDuplicateStateName, loc+"/"+d, "Duplicate State name: %s", d)
	}
	for _, m := range states.members {
		sloc := loc + "/" + m.key
		if v.names[m.key] {
			v.add(CodeDuplicateStateName, sloc, "Duplicate State name: %s", m.key)
		}
		v.names[m.key] = true
		if utf8.RuneCountInString(m.key) > maxStateNameLength {
			v.add(CodeInvalidStateName, sloc, "State name '%s' exceeds the %d-character limit allowed by the service", m.key, maxStateNameLength)
		} else if m.key == "" {
			v.add(CodeInvalidStateName, sloc, "State name cannot be empty")
		}
		v.state(sloc, m.value)
	}
}

func (v *validator) state(loc string, s *jsonValue) {
	if !s.isObject() {
		v.schema(loc, "Expected value of type [OBJECT]")
		return
	}
	typ := s.get("Type")
	if typ == nil {
		v.schema(loc, "These fields are required: [Type]")
		return
	}
	allowed, known := allowedStateFields[typ.str]
	if !typ.isString() || !known {
		v.schema(loc+"/Type", "The field 'Type' should have one of these values: %s", stateTypesList)
		return
	}
	t := typ.str
	jsonata := resolvesToJSONata(s, v.topJSONata)
	ql := s.get("QueryLanguage")
	downgraded := v.topJSONata && ql.isString() && ql.str == queryLanguageJSONPath
	if downgraded {
		v.schema(loc, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine")
	}
	for _, m := range s.members {
		if !commonStateFields[m.key] && !allowed[m.key] {
			v.schema(loc, "Field '%s' is not supported", m.key)
		}
	}
	if !downgraded {
		v.languageFields(loc, s, allowed, jsonata)
	}
	v.queryLanguageValue(loc+"/QueryLanguage", s)
	if c := s.get("Comment"); c != nil && !c.isString() {
		v.schema(loc+"/Comment", "Expected value of type [STRING]")
	}

	var required []string
	switch t {
	case "Task":
		required = []string{"Resource"}
	case "Parallel":
		required = []string{"Branches"}
	case "Choice":
		required = []string{"Choices"}
	}
	var missing []string
	for _, f := range required {
		if !s.has(f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		v.schema(loc, "These fields are required: [%s]", strings.Join(missing, ", "))
	}

	switch t {
	case "Task", "Pass", "Wait", "Parallel", "Map":
		v.nextOrEnd(loc, s)
	case "Choice":
		if d := s.get("Default"); d != nil && !d.isString() {
			v.schema(loc+"/Default", "Expected value of type [STRING]")
		}
	}

	v.dataFields(loc, s, jsonata)

	switch t {
	case "Task":
		v.task(loc, s, jsonata)
	case "Wait":
		v.wait(loc, s, jsonata)
	case "Choice":
		v.choice(loc, s, jsonata)
	case "Fail":
		v.fail(loc, s, jsonata)
	case "Parallel":
		v.parallel(loc, s)
	case "Map":
		v.mapState(loc, s, jsonata)
	case "Pass":
		if r := s.get("Result"); r != nil && hasDollarKey(r) {
			v.warn(CodePassResultIsStatic, loc+"/Result", "The 'Result' field of a Pass state is static: paths in it are not evaluated")
		}
	}
	if t == "Task" || t == "Parallel" || t == "Map" {
		v.retriers(loc+"/Retry", s.get("Retry"))
		v.catchers(loc+"/Catch", s.get("Catch"), jsonata)
	}
}

// languageFields refuses the fields that belong to the other query language.
func (v *validator) languageFields(loc string, s *jsonValue, allowed map[string]bool, jsonata bool) {
	for _, m := range s.members {
		if !allowed[m.key] {
			continue // already refused for the state type
		}
		if jsonata && jsonPathOnlyFields[m.key] {
			v.schema(loc, "The QueryLanguage is set to 'JSONata', but field '%s' is only supported for the 'JSONPath' QueryLanguage", m.key)
		}
		if !jsonata && jsonataOnlyFields[m.key] {
			v.schema(loc, "The QueryLanguage is set to 'JSONPath', but field '%s' is only supported for the 'JSONata' QueryLanguage", m.key)
		}
	}
}

func (v *validator) nextOrEnd(loc string, s *jsonValue) {
	next, end := s.get("Next"), s.get("End")
	if next != nil && !next.isString() {
		v.schema(loc+"/Next", "Expected value of type [STRING]")
	}
	if end != nil && !end.isBool() {
		v.schema(loc+"/End", "Expected value of type [BOOLEAN]")
	}
	isEnd := end.isBool() && end.boolean
	switch {
	case next != nil && isEnd:
		v.schema(loc, "There should only be one of the following fields: [Next, End]")
	case next == nil && !isEnd:
		v.schema(loc, "This object should have only one of the following fields: [Next, End]")
	}
}

// dataFields checks the input/output processing fields shared by several state types.
func (v *validator) dataFields(loc string, s *jsonValue, jsonata bool) {
	if jsonata {
		for _, f := range []string{"Output", "Arguments", "Items", "ItemSelector"} {
			if val := s.get(f); val != nil {
				v.jsonataValue(loc+"/"+f, val)
			}
		}
		if a := s.get("Assign"); a != nil {
			v.assign(loc+"/Assign", a, true)
		}
		return
	}
	for _, f := range []string{"InputPath", "OutputPath"} {
		if p := s.get(f); p != nil && p.kind != kindNull {
			v.pathField(loc+"/"+f, f, p, false)
		}
	}
	if p := s.get("ResultPath"); p != nil && p.kind != kindNull {
		v.pathField(loc+"/ResultPath", "ResultPath", p, true)
	}
	for _, f := range []string{"Parameters", "ResultSelector", "ItemSelector"} {
		if t := s.get(f); t != nil {
			if f == "ResultSelector" && !t.isObject() {
				v.schema(loc+"/"+f, "Expected value of type [OBJECT]")
				continue
			}
			v.payloadTemplate(loc+"/"+f, t)
		}
	}
	if a := s.get("Assign"); a != nil {
		v.assign(loc+"/Assign", a, false)
	}
}

func (v *validator) pathField(loc, field string, p *jsonValue, reference bool) {
	if !p.isString() {
		v.schema(loc, "Expected value of type [STRING]")
		return
	}
	if reference {
		ok := validReferencePath(p.str)
		if field == "ResultPath" {
			ok = validResultPath(p.str)
		}
		if !ok {
			v.schema(loc, "The value for the field '%s' must be a valid ReferencePath", field)
		}
		return
	}
	if !validPath(p.str) {
		v.schema(loc, "The value for the field '%s' must be a valid JSONPath", field)
	}
}

// payloadTemplate checks every ".$" key of a JSONPath payload template; errors are located
// at the template field itself, as AWS locates them.
func (v *validator) payloadTemplate(loc string, t *jsonValue) {
	var walk func(n *jsonValue)
	walk = func(n *jsonValue) {
		switch n.kind {
		case kindObject:
			for _, m := range n.members {
				// "A JSON object MUST NOT have duplicate field names after fields ending
				// with the characters ".$" are renamed to strip the ".$" suffix." (ASL
				// specification, Payload Template).
				if plain, ok := strings.CutSuffix(m.key, ".$"); ok && n.has(plain) {
					v.schema(loc, "There should only be one of the following fields: [%s, %s]", plain, m.key)
				}
				if strings.HasSuffix(m.key, ".$") {
					if !m.value.isString() || !(validPath(m.value.str) || validIntrinsic(m.value.str)) {
						v.schema(loc, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", m.key)
					}
					continue
				}
				if m.value.isString() && looksLikePathOrIntrinsic(m.value.str) {
					v.warn(CodeNoDollar, loc, "The value for the field '%s' looks like a JSONPath or an intrinsic function call, but the field name does not end with '.$'", m.key)
				}
				walk(m.value)
			}
		case kindArray:
			for _, it := range n.items {
				walk(it)
			}
		}
	}
	walk(t)
}

func hasDollarKey(n *jsonValue) bool {
	switch n.kind {
	case kindObject:
		for _, m := range n.members {
			if strings.HasSuffix(m.key, ".$") || hasDollarKey(m.value) {
				return true
			}
		}
	case kindArray:
		for _, it := range n.items {
			if hasDollarKey(it) {
				return true
			}
		}
	}
	return false
}

// assign checks an Assign block: variable names, and their values in the state's language.
func (v *validator) assign(loc string, a *jsonValue, jsonata bool) {
	if !a.isObject() {
		v.schema(loc, "Expected value of type [OBJECT]")
		return
	}
	for _, m := range a.members {
		name := m.key
		if !jsonata {
			name = strings.TrimSuffix(name, ".$")
		}
		if !validVariableName(name) {
			v.schema(loc, "Invalid variable name '%s': the variable name contains invalid characters", name)
		}
	}
	if jsonata {
		v.jsonataValue(loc, a)
		return
	}
	v.payloadTemplate(loc, a)
}

func validVariableName(name string) bool {
	if name == "" || len(name) > 80 {
		return false
	}
	c := name[0]
	if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if !isVarChar(name[i]) {
			return false
		}
	}
	return true
}

// jsonataValue checks the "{% %}" strings anywhere in a JSONata field value.
func (v *validator) jsonataValue(loc string, n *jsonValue) {
	switch n.kind {
	case kindString:
		s := n.str
		if strings.HasPrefix(s, "{%") {
			if !isJSONataExpression(s) {
				v.schema(loc, "%s", "JSONata string must start with {% and end with %}")
				return
			}
			if strings.TrimSpace(s[2:len(s)-2]) == "" {
				v.add("INVALID_JSONATA_EXPRESSION", loc, "Unexpected end of expression")
			} else if err := expr.CheckJSONata(s); err != nil {
				// The interpreter's parser: what it cannot compile can never run.
				v.add("INVALID_JSONATA_EXPRESSION", loc, "%s", err.Error())
			}
		}
	case kindObject:
		for _, m := range n.members {
			v.jsonataValue(loc+"/"+m.key, m.value)
		}
	case kindArray:
		for i, it := range n.items {
			v.jsonataValue(fmt.Sprintf("%s[%d]", loc, i), it)
		}
	}
}

// integer checks an integer field with bounds (max < 0 means unbounded).
func (v *validator) integer(loc string, n *jsonValue, minV, maxV int64) {
	if !n.isNumber() || !n.isInt {
		v.schema(loc, "Expected value of type [INTEGER]")
		return
	}
	i, err := strconv.ParseInt(n.str, 10, 64)
	if err != nil {
		if strings.HasPrefix(n.str, "-") {
			v.schema(loc, "Minimum value is %d", minV)
		} else if maxV >= 0 {
			v.schema(loc, "Maximum value is %d", maxV)
		}
		return
	}
	if i < minV {
		v.schema(loc, "Minimum value is %d", minV)
	} else if maxV >= 0 && i > maxV {
		v.schema(loc, "Maximum value is %d", maxV)
	}
}

// integerOrExpression accepts an integer within bounds, or in JSONata a "{% %}" string.
func (v *validator) integerOrExpression(loc string, n *jsonValue, minV, maxV int64, jsonata bool) {
	if jsonata && n.isString() {
		v.jsonataValue(loc, n)
		if !strings.HasPrefix(n.str, "{%") {
			v.schema(loc, "Expected value of type [INTEGER]")
		}
		return
	}
	v.integer(loc, n, minV, maxV)
}

func (v *validator) exclusive(loc string, s *jsonValue, fields ...string) {
	n := 0
	for _, f := range fields {
		if s.has(f) {
			n++
		}
	}
	if n > 1 {
		v.schema(loc, "There should only be one of the following fields: [%s]", strings.Join(fields, ", "))
	}
}

func (v *validator) task(loc string, s *jsonValue, jsonata bool) {
	if r := s.get("Resource"); r != nil {
		if !r.isString() {
			v.schema(loc+"/Resource", "Expected value of type [STRING]")
		} else if !validTaskResource(r.str) {
			v.schema(loc+"/Resource", "The resource provided %s is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.", r.str)
		}
	}
	v.exclusive(loc, s, "TimeoutSeconds", "TimeoutSecondsPath")
	v.exclusive(loc, s, "HeartbeatSeconds", "HeartbeatSecondsPath")
	for _, f := range []string{"TimeoutSeconds", "HeartbeatSeconds"} {
		if n := s.get(f); n != nil {
			v.integerOrExpression(loc+"/"+f, n, 1, maxTimeoutSeconds, jsonata)
		}
	}
	if !jsonata {
		for _, f := range []string{"TimeoutSecondsPath", "HeartbeatSecondsPath"} {
			if p := s.get(f); p != nil {
				v.pathField(loc+"/"+f, f, p, true)
			}
		}
	}
	to, hb := s.get("TimeoutSeconds"), s.get("HeartbeatSeconds")
	if to.isNumber() && hb.isNumber() && to.isInt && hb.isInt && hb.num >= to.num {
		v.schema(loc+"/HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds")
	}
	if c := s.get("Credentials"); c != nil {
		if !c.isObject() {
			v.schema(loc+"/Credentials", "Expected value of type [OBJECT]")
		} else if !c.has("RoleArn") && !c.has("RoleArn.$") {
			v.schema(loc+"/Credentials", "The field 'RoleArn' is required but was missing")
		}
	}
}

func (v *validator) wait(loc string, s *jsonValue, jsonata bool) {
	fields := []string{"SecondsPath", "Seconds", "TimestampPath", "Timestamp"}
	n := 0
	for _, f := range fields {
		if s.has(f) {
			n++
		}
	}
	switch {
	case n > 1:
		v.schema(loc, "There should only be one of the following fields: [%s]", strings.Join(fields, ", "))
	case n == 0:
		v.schema(loc, "This object should have only one of the following fields: [%s]", strings.Join(fields, ", "))
	}
	if sec := s.get("Seconds"); sec != nil {
		v.integerOrExpression(loc+"/Seconds", sec, 0, -1, jsonata)
	}
	if ts := s.get("Timestamp"); ts != nil {
		switch {
		case !ts.isString():
			v.schema(loc+"/Timestamp", "Expected value of type [STRING]")
		case jsonata && strings.HasPrefix(ts.str, "{%"):
			v.jsonataValue(loc+"/Timestamp", ts)
		case !validTimestamp(ts.str):
			v.schema(loc+"/Timestamp", "String does not match RFC3339 timestamp")
		}
	}
	if !jsonata {
		for _, f := range []string{"SecondsPath", "TimestampPath"} {
			if p := s.get(f); p != nil {
				v.pathField(loc+"/"+f, f, p, true)
			}
		}
	}
}

func (v *validator) fail(loc string, s *jsonValue, jsonata bool) {
	v.exclusive(loc, s, "Error", "ErrorPath")
	v.exclusive(loc, s, "Cause", "CausePath")
	for _, f := range []string{"Error", "Cause"} {
		if val := s.get(f); val != nil {
			if !val.isString() {
				v.schema(loc+"/"+f, "Expected value of type [STRING]")
			} else if jsonata {
				v.jsonataValue(loc+"/"+f, val)
			}
		}
	}
	if jsonata {
		return
	}
	for _, f := range []string{"ErrorPath", "CausePath"} {
		val := s.get(f)
		if val == nil {
			continue
		}
		if !val.isString() {
			v.schema(loc+"/"+f, "Expected value of type [STRING]")
		} else if !validPath(val.str) && !validIntrinsic(val.str) {
			v.schema(loc+"/"+f, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", f)
		}
	}
}

func (v *validator) parallel(loc string, s *jsonValue) {
	b := s.get("Branches")
	if b == nil {
		return
	}
	bloc := loc + "/Branches"
	if !b.isArray() {
		v.schema(bloc, "Expected value of type [ARRAY]")
		return
	}
	if len(b.items) == 0 {
		v.schema(bloc, "Value cannot be empty")
		return
	}
	for i, br := range b.items {
		v.subWorkflow(fmt.Sprintf("%s[%d]", bloc, i), br, false)
	}
}

// subWorkflow checks a Parallel branch or a Map's ItemProcessor/Iterator.
func (v *validator) subWorkflow(loc string, w *jsonValue, processor bool) {
	if !w.isObject() {
		v.schema(loc, "Expected value of type [OBJECT]")
		return
	}
	var missing []string
	for _, f := range []string{"StartAt", "States"} {
		if !w.has(f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		v.schema(loc, "These fields are required: [%s]", strings.Join(missing, ", "))
	}
	for _, m := range w.members {
		switch m.key {
		case "StartAt", "States", "Comment":
		case "ProcessorConfig":
			if processor {
				continue
			}
			v.schema(loc, "Field '%s' is not supported", m.key)
		default:
			v.schema(loc, "Field '%s' is not supported", m.key)
		}
	}
	if sa := w.get("StartAt"); sa != nil && !sa.isString() {
		v.schema(loc+"/StartAt", "Expected value of type [STRING]")
	}
	if pc := w.get("ProcessorConfig"); processor && pc != nil {
		v.processorConfig(loc+"/ProcessorConfig", pc)
	}
	if st := w.get("States"); st != nil {
		v.statesObject(loc+"/States", st)
	}
}

func (v *validator) processorConfig(loc string, pc *jsonValue) {
	if !pc.isObject() {
		v.schema(loc, "Expected value of type [OBJECT]")
		return
	}
	for _, m := range pc.members {
		if m.key != "Mode" && m.key != "ExecutionType" {
			v.schema(loc, "Field '%s' is not supported", m.key)
		}
	}
	mode := "INLINE"
	if md := pc.get("Mode"); md != nil {
		if !md.isString() || (md.str != "INLINE" && md.str != "DISTRIBUTED") {
			v.schema(loc+"/Mode", "Value should be one of the following: [INLINE, DISTRIBUTED]")
			return
		}
		mode = md.str
	}
	et := pc.get("ExecutionType")
	switch {
	case et != nil && mode == "INLINE":
		v.schema(loc, "Field 'ExecutionType' is not supported")
	case et == nil && mode == "DISTRIBUTED":
		v.schema(loc, "These fields are required: [ExecutionType]")
	case et != nil && (!et.isString() || (et.str != "STANDARD" && et.str != "EXPRESS")):
		v.schema(loc+"/ExecutionType", "Value should be one of the following: [STANDARD, EXPRESS]")
	}
}

func (v *validator) mapState(loc string, s *jsonValue, jsonata bool) {
	proc, iter := s.get("ItemProcessor"), s.get("Iterator")
	switch {
	case proc != nil && iter != nil:
		v.schema(loc, "There should only be one of the following fields: [ItemProcessor, Iterator]")
	case proc == nil && iter == nil:
		v.schema(loc, "This object should have only one of the following fields: [ItemProcessor, Iterator]")
	}
	if proc != nil {
		v.subWorkflow(loc+"/ItemProcessor", proc, true)
	}
	if iter != nil {
		v.subWorkflow(loc+"/Iterator", iter, true)
	}
	v.exclusive(loc, s, "MaxConcurrency", "MaxConcurrencyPath")
	v.exclusive(loc, s, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath")
	v.exclusive(loc, s, "ToleratedFailureCount", "ToleratedFailureCountPath")
	if mc := s.get("MaxConcurrency"); mc != nil {
		v.integerOrExpression(loc+"/MaxConcurrency", mc, 0, -1, jsonata)
	}
	if tc := s.get("ToleratedFailureCount"); tc != nil {
		v.integerOrExpression(loc+"/ToleratedFailureCount", tc, 0, -1, jsonata)
	}
	if tp := s.get("ToleratedFailurePercentage"); tp != nil {
		switch {
		case jsonata && tp.isString():
			v.jsonataValue(loc+"/ToleratedFailurePercentage", tp)
		case !tp.isNumber():
			v.schema(loc+"/ToleratedFailurePercentage", "Expected value of type [NUMBER]")
		case tp.num < 0:
			v.schema(loc+"/ToleratedFailurePercentage", "Minimum value is 0")
		case tp.num > 100:
			v.schema(loc+"/ToleratedFailurePercentage", "Maximum value is 100")
		}
	}
	if !jsonata {
		if p := s.get("ItemsPath"); p != nil {
			v.pathField(loc+"/ItemsPath", "ItemsPath", p, true)
		}
		for _, f := range []string{"MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"} {
			if p := s.get(f); p != nil {
				v.pathField(loc+"/"+f, f, p, true)
			}
		}
	} else if it := s.get("Items"); it != nil && !it.isArray() && !(it.isString() && strings.HasPrefix(it.str, "{%")) {
		v.schema(loc+"/Items", "Expected value of type [ARRAY]")
	}
	if l := s.get("Label"); l != nil {
		switch {
		case !l.isString():
			v.schema(loc+"/Label", "Expected value of type [STRING]")
		case utf8.RuneCountInString(l.str) > maxLabelLength:
			v.add(CodeInvalidLabelName, loc+"/Label", "Label name '%s' exceeds the %d-character limit allowed by the service", l.str, maxLabelLength)
		case !validLabel(l.str):
			v.add(CodeInvalidLabelName, loc+"/Label", "Label name '%s' contains invalid characters", l.str)
		case v.labels[l.str]:
			v.add(CodeDuplicateLabelName, loc+"/Label", "Duplicate Label name: %s", l.str)
		default:
			v.labels[l.str] = true
		}
	}
	if r := s.get("ItemReader"); r != nil {
		v.itemReader(loc+"/ItemReader", r, jsonata)
	}
	if b := s.get("ItemBatcher"); b != nil && !b.isObject() {
		v.schema(loc+"/ItemBatcher", "Expected value of type [OBJECT]")
	} else if b != nil {
		v.itemBatcher(loc+"/ItemBatcher", b, jsonata)
	}
	if w := s.get("ResultWriter"); w != nil {
		v.resultWriter(loc+"/ResultWriter", w, jsonata)
	}
}

func validLabel(l string) bool {
	for _, r := range l {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`<>{}[]?*"#%\^|~`+"`$&,;:/", r) {
			return false
		}
	}
	return true
}

// s3Resource reports whether r is arn:<partition>:states:::s3:<action> for one of actions.
func s3Resource(r string, actions ...string) bool {
	parts := strings.Split(r, ":")
	if len(parts) != 7 || parts[0] != "arn" || parts[1] == "" || parts[2] != "states" ||
		parts[3] != "" || parts[4] != "" || parts[5] != "s3" {
		return false
	}
	for _, a := range actions {
		if parts[6] == a {
			return true
		}
	}
	return false
}

func (v *validator) readerOrWriterParams(loc string, o *jsonValue, jsonata bool) {
	for _, m := range o.members {
		switch m.key {
		case "Parameters":
			if jsonata {
				v.schema(loc+"/Parameters", "The field 'Parameters' is not supported for the 'JSONata' QueryLanguage")
			} else {
				v.payloadTemplate(loc+"/Parameters", m.value)
			}
		case "Arguments":
			if !jsonata {
				v.schema(loc+"/Arguments", "The field 'Arguments' is not supported for the 'JSONPath' QueryLanguage")
			} else {
				v.jsonataValue(loc+"/Arguments", m.value)
			}
		}
	}
}

func (v *validator) itemReader(loc string, r *jsonValue, jsonata bool) {
	if !r.isObject() {
		v.schema(loc, "Expected value of type [OBJECT]")
		return
	}
	for _, m := range r.members {
		switch m.key {
		case "Resource", "ReaderConfig", "Parameters", "Arguments":
		default:
			v.schema(loc, "Field '%s' is not supported", m.key)
		}
	}
	res := r.get("Resource")
	switch {
	case res == nil:
		v.schema(loc, "These fields are required: [Resource]")
	case !res.isString() || !s3Resource(res.str, "getObject", "listObjectsV2"):
		v.schema(loc+"/Resource", "The field 'Resource' does not match any of the allowed values. Examples: [arn:<partition>:states:::s3:getObject, arn:<partition>:states:::s3:listObjectsV2]")
	}
	v.readerOrWriterParams(loc, r, jsonata)
	rc := r.get("ReaderConfig")
	if rc == nil {
		return
	}
	if !rc.isObject() {
		v.schema(loc+"/ReaderConfig", "Expected value of type [OBJECT]")
		return
	}
	if it := rc.get("InputType"); it != nil {
		if !it.isString() || !set("MANIFEST", "JSON", "CSV", "JSONL", "PARQUET")[it.str] {
			v.schema(loc+"/ReaderConfig/InputType", "The field 'InputType' should have one of these values: [MANIFEST, JSON, CSV, JSONL, PARQUET]")
		}
	}
	if hl := rc.get("CSVHeaderLocation"); hl != nil {
		if !hl.isString() || (hl.str != "FIRST_ROW" && hl.str != "GIVEN") {
			v.schema(loc+"/ReaderConfig/CSVHeaderLocation", "Value should be one of the following: [FIRST_ROW, GIVEN]")
		} else if hl.str == "GIVEN" && !rc.has("CSVHeaders") {
			v.schema(loc+"/ReaderConfig", "These fields are required: [CSVHeaders]")
		}
	}
	if mi := rc.get("MaxItems"); mi != nil {
		v.integerOrExpression(loc+"/ReaderConfig/MaxItems", mi, 0, -1, jsonata)
	}
	// Either-or, as the Step Functions developer guide documents ReaderConfig.
	v.exclusive(loc+"/ReaderConfig", rc, "MaxItems", "MaxItemsPath")
}

func (v *validator) itemBatcher(loc string, b *jsonValue, jsonata bool) {
	// Either-or pairs, as the Step Functions developer guide documents ItemBatcher.
	v.exclusive(loc, b, "MaxItemsPerBatch", "MaxItemsPerBatchPath")
	v.exclusive(loc, b, "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath")
	for _, m := range b.members {
		switch m.key {
		case "MaxItemsPerBatch", "MaxInputBytesPerBatch":
			v.integerOrExpression(loc+"/"+m.key, m.value, 0, -1, jsonata)
		case "MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath":
			if jsonata {
				v.schema(loc, "Field '%s' is not supported", m.key)
			} else {
				v.pathField(loc+"/"+m.key, m.key, m.value, true)
			}
		case "BatchInput":
			if jsonata {
				v.jsonataValue(loc+"/BatchInput", m.value)
			} else {
				v.payloadTemplate(loc+"/BatchInput", m.value)
			}
		default:
			v.schema(loc, "Field '%s' is not supported", m.key)
		}
	}
}

func (v *validator) resultWriter(loc string, w *jsonValue, jsonata bool) {
	if !w.isObject() {
		v.schema(loc, "Expected value of type [OBJECT]")
		return
	}
	for _, m := range w.members {
		switch m.key {
		case "Resource", "WriterConfig", "Parameters", "Arguments":
		default:
			v.schema(loc, "Field '%s' is not supported", m.key)
		}
	}
	res, wc := w.get("Resource"), w.get("WriterConfig")
	if res == nil && wc == nil {
		v.schema(loc, "These fields are required: [Resource]")
	}
	if res != nil {
		if !res.isString() || !s3Resource(res.str, "putObject") {
			v.schema(loc+"/Resource", "The field 'Resource' does not match any of the allowed values. Examples: [arn:<partition>:states:::s3:putObject]")
		}
		dest := "Parameters"
		if jsonata {
			dest = "Arguments"
		}
		if !w.has(dest) {
			v.schema(loc, "These fields are required: [%s]", dest)
		}
	}
	v.readerOrWriterParams(loc, w, jsonata)
	if wc != nil {
		if !wc.isObject() {
			v.schema(loc+"/WriterConfig", "Expected value of type [OBJECT]")
			return
		}
		var missing []string
		for _, f := range []string{"Transformation", "OutputType"} {
			if !wc.has(f) {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			v.schema(loc+"/WriterConfig", "These fields are required: [%s]", strings.Join(missing, ", "))
		}
		if t := wc.get("Transformation"); t != nil && (!t.isString() || !set("NONE", "COMPACT", "FLATTEN")[t.str]) {
			v.schema(loc+"/WriterConfig/Transformation", "Value should be one of the following: [NONE, COMPACT, FLATTEN]")
		}
		if o := wc.get("OutputType"); o != nil && (!o.isString() || !set("JSON", "JSONL")[o.str]) {
			v.schema(loc+"/WriterConfig/OutputType", "Value should be one of the following: [JSON, JSONL]")
		}
	}
}

var retrierFields = set("ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate",
	"MaxDelaySeconds", "JitterStrategy", "Comment")

func (v *validator) retriers(loc string, r *jsonValue) {
	if r == nil {
		return
	}
	if !r.isArray() {
		v.schema(loc, "Expected value of type [ARRAY]")
		return
	}
	for i, it := range r.items {
		iloc := fmt.Sprintf("%s[%d]", loc, i)
		if !it.isObject() {
			v.schema(iloc, "Expected value of type [OBJECT]")
			continue
		}
		for _, m := range it.members {
			if !retrierFields[m.key] {
				v.schema(iloc, "Field '%s' is not supported", m.key)
			}
		}
		v.errorEquals(iloc, it, i == len(r.items)-1)
		if n := it.get("IntervalSeconds"); n != nil {
			v.integer(iloc+"/IntervalSeconds", n, 1, maxIntervalSeconds)
		}
		if n := it.get("MaxAttempts"); n != nil {
			v.integer(iloc+"/MaxAttempts", n, 0, maxRetryAttempts)
		}
		if n := it.get("MaxDelaySeconds"); n != nil {
			v.integer(iloc+"/MaxDelaySeconds", n, 1, maxDelaySeconds)
		}
		if n := it.get("BackoffRate"); n != nil {
			if !n.isNumber() {
				v.schema(iloc+"/BackoffRate", "Expected value of type [NUMBER]")
			} else if n.num < 1.0 {
				v.schema(iloc+"/BackoffRate", "Minimum value is 1.0")
			}
		}
		if j := it.get("JitterStrategy"); j != nil && (!j.isString() || (j.str != "FULL" && j.str != "NONE")) {
			v.schema(iloc+"/JitterStrategy", "Value should be one of the following: [NONE, FULL]")
		}
	}
}

func (v *validator) errorEquals(loc string, it *jsonValue, last bool) {
	ee := it.get("ErrorEquals")
	if ee == nil {
		return // reported with the other required fields
	}
	eloc := loc + "/ErrorEquals"
	if !ee.isArray() {
		v.schema(eloc, "Expected value of type [ARRAY]")
		return
	}
	if len(ee.items) == 0 {
		v.schema(eloc, "Value cannot be empty")
		return
	}
	hasAll := false
	for _, e := range ee.items {
		if !e.isString() {
			v.schema(eloc, "Expected value of type [STRING]")
			return
		}
		if e.str == "States.ALL" {
			hasAll = true
		}
	}
	if hasAll && (len(ee.items) > 1 || !last) {
		v.schema(eloc, "States.ALL must appear alone and at end of list")
	}
}

func (v *validator) catchers(loc string, c *jsonValue, jsonata bool) {
	if c == nil {
		return
	}
	if !c.isArray() {
		v.schema(loc, "Expected value of type [ARRAY]")
		return
	}
	for i, it := range c.items {
		iloc := fmt.Sprintf("%s[%d]", loc, i)
		if !it.isObject() {
			v.schema(iloc, "Expected value of type [OBJECT]")
			continue
		}
		var missing []string
		for _, f := range []string{"ErrorEquals", "Next"} {
			if !it.has(f) {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			v.schema(iloc, "These fields are required: [%s]", strings.Join(missing, ", "))
		}
		for _, m := range it.members {
			switch m.key {
			case "ErrorEquals", "Next", "Comment", "Assign":
			case "ResultPath":
				if jsonata {
					v.schema(iloc, "The QueryLanguage is set to 'JSONata', but field 'ResultPath' is only supported for the 'JSONPath' QueryLanguage")
				}
			case "Output":
				if !jsonata {
					v.schema(iloc, "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage")
				}
			default:
				v.schema(iloc, "Field '%s' is not supported", m.key)
			}
		}
		v.errorEquals(iloc, it, i == len(c.items)-1)
		if n := it.get("Next"); n != nil && !n.isString() {
			v.schema(iloc+"/Next", "Expected value of type [STRING]")
		}
		if p := it.get("ResultPath"); p != nil && !jsonata && p.kind != kindNull {
			v.pathField(iloc+"/ResultPath", "ResultPath", p, true)
		}
		if o := it.get("Output"); o != nil && jsonata {
			v.jsonataValue(iloc+"/Output", o)
		}
		if a := it.get("Assign"); a != nil {
			v.assign(iloc+"/Assign", a, jsonata)
		}
	}
}
