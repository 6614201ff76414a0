package validate

import "strings"

// VariableReferences returns, for each state of a definition, the names of the workflow
// variables it reads, as DescribeStateMachine reports them in variableReferences: the
// variables named in its paths ("InputPath": "$x"), in the values of its ".$" template
// fields and intrinsic functions ("States.Format($tpl, $.a)"), in its Choice rules, and in
// its JSONata expressions ("{% $x + 1 %}", not $states, not functions, not variables the
// expression binds itself). Names appear once per state, in document order. States nested
// in Parallel branches and Map processors are reported under their own names. It returns
// nil when no state references a variable, or when the definition is not valid JSON.
func VariableReferences(definition string) map[string][]string {
	root, err := parseJSON(definition)
	if err != nil || !root.isObject() {
		return nil
	}
	r := &refCollector{out: map[string][]string{}}
	r.states(root.get("States"))
	if len(r.out) == 0 {
		return nil
	}
	return r.out
}

type refCollector struct {
	out   map[string][]string
	state string
}

func (r *refCollector) add(name string) {
	for _, n := range r.out[r.state] {
		if n == name {
			return
		}
	}
	r.out[r.state] = append(r.out[r.state], name)
}

// states walks a "States" object: each member is one state.
func (r *refCollector) states(v *jsonValue) {
	if !v.isObject() {
		return
	}
	for _, m := range v.members {
		outer := r.state
		r.state = m.key
		r.fields(m.value)
		r.state = outer
	}
}

// templateFields hold payload templates: only their ".$" members and JSONata strings are
// evaluated.
var templateFields = map[string]bool{
	"Parameters": true, "ItemSelector": true, "ResultSelector": true, "Arguments": true,
	"Assign": true, "Output": true,
}

// fields walks a state (or a structure inside one: a Choice rule, a Catcher, a reader
// configuration) where "...Path" and "Variable" members are paths.
func (r *refCollector) fields(v *jsonValue) {
	switch {
	case v.isArray():
		for _, it := range v.items {
			r.fields(it)
		}
	case v.isObject():
		for _, m := range v.members {
			switch {
			case m.key == "States":
				r.states(m.value)
			case m.key == "Result":
				// a literal
			case templateFields[m.key]:
				r.template(m.value)
			case m.value.isString():
				s := m.value.str
				switch {
				case isJSONataExpression(s):
					r.jsonata(s[2 : len(s)-2])
				case m.key == "Variable" || (strings.HasSuffix(m.key, "Path") && m.key != "ResultPath"):
					r.path(s)
				}
			default:
				r.fields(m.value)
			}
		}
	}
}

// template walks a payload template.
func (r *refCollector) template(v *jsonValue) {
	switch {
	case v.isString():
		if isJSONataExpression(v.str) {
			r.jsonata(v.str[2 : len(v.str)-2])
		}
	case v.isArray():
		for _, it := range v.items {
			r.template(it)
		}
	case v.isObject():
		for _, m := range v.members {
			if strings.HasSuffix(m.key, ".$") && m.value.isString() {
				r.path(m.value.str)
				continue
			}
			r.template(m.value)
		}
	}
}

// path records the variable a path or intrinsic function string reads.
func (r *refCollector) path(s string) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "States.") {
		r.intrinsic(s)
		return
	}
	if name := varName(s, 0); name != "" {
		r.add(name)
	}
}

// varName returns the variable named at s[i] ("$name..."), or "" when s[i:] is not a
// variable ("$.", "$$", "$[", a bare "$").
func varName(s string, i int) string {
	if i >= len(s) || s[i] != '$' {
		return ""
	}
	j := i + 1
	for j < len(s) && isVarChar(s[j]) {
		j++
	}
	if j == i+1 {
		return ""
	}
	return s[i+1 : j]
}

// intrinsic records the variables among an intrinsic function's arguments, skipping
// quoted string arguments.
func (r *refCollector) intrinsic(s string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			for i++; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '$':
			if i > 0 && (isVarChar(s[i-1]) || s[i-1] == '$' || s[i-1] == '.') {
				continue
			}
			if name := varName(s, i); name != "" {
				r.add(name)
				i += len(name)
			}
		}
	}
}

// jsonataBuiltins are the function names of JSONata and of Step Functions' JSONata
// additions: "$string" names a function, not a variable.
var jsonataBuiltins = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(`sum count max min average string substring substringBefore
		substringAfter lowercase uppercase length trim pad contains split join match replace now
		millis fromMillis toMillis formatNumber formatBase formatInteger parseInteger number abs
		floor ceil round power sqrt random boolean not exists keys lookup spread merge sift each
		error assert type sort reverse shuffle distinct zip append map filter single reduce
		encodeUrlComponent encodeUrl decodeUrlComponent decodeUrl base64encode base64decode eval
		clone partition range hash uuid parse`) {
		m[f] = true
	}
	return m
}()

// jsonata records the variables a JSONata expression reads from the workflow: every
// "$name" outside string literals and regular expressions that is not $states, not a
// function (called, or a built-in passed as a value), and not bound within the expression
// (by ":=" or as a function parameter).
func (r *refCollector) jsonata(expr string) {
	type tok struct {
		name string
		at   int
	}
	var refs []tok
	bound := map[string]bool{}
	prev := byte(0) // the last significant character, to tell a regex from a division
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case c == '"' || c == '\'':
			for i++; i < len(expr) && expr[i] != c; i++ {
				if expr[i] == '\\' {
					i++
				}
			}
			prev = c
			continue
		case c == '/' && (prev == 0 || strings.IndexByte("(,:[=?{;&|~", prev) >= 0):
			for i++; i < len(expr) && expr[i] != '/'; i++ {
				if expr[i] == '\\' {
					i++
				}
			}
			prev = '/'
			continue
		case c == '$':
			if i+1 < len(expr) && expr[i+1] == '$' {
				i++
				prev = '$'
				continue
			}
			name := varName(expr, i)
			if name == "" {
				prev = '$'
				continue
			}
			end := i + 1 + len(name)
			next := strings.TrimLeft(expr[end:], " \t\r\n")
			switch {
			case strings.HasPrefix(next, ":="):
				bound[name] = true
			case strings.HasPrefix(next, "("):
				// a call
			default:
				refs = append(refs, tok{name: name, at: i})
			}
			i = end - 1
			prev = 'a'
			continue
		}
		if c == 'f' && strings.HasPrefix(expr[i:], "function") && (i == 0 || !isVarChar(expr[i-1])) {
			// function($a, $b) { ... }: the parameters are bound.
			j := i + len("function")
			for j < len(expr) && (expr[j] == ' ' || expr[j] == '\t') {
				j++
			}
			if j < len(expr) && expr[j] == '(' {
				k := strings.IndexByte(expr[j:], ')')
				if k > 0 {
					for _, p := range strings.Split(expr[j+1:j+k], ",") {
						if n := varName(strings.TrimSpace(p), 0); n != "" {
							bound[n] = true
						}
					}
				}
			}
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			prev = c
		}
	}
	for _, t := range refs {
		if t.name == "states" || bound[t.name] || jsonataBuiltins[t.name] {
			continue
		}
		r.add(t.name)
	}
}
