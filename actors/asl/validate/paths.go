package validate

import (
	"regexp"
	"strings"
	"time"

	"github.com/sfnd/sfnd/actors/asl/expr"
)

// This file checks the small languages embedded in ASL strings: JSONPath paths, reference
// paths, intrinsic function calls, RFC 3339 timestamps and JSONata "{% %}" wrappers.

// validPath reports whether s is a JSONPath AWS accepts in a Path field or a ".$" value:
// "$" (input), "$$" (context object) or "$name" (a variable), followed by any number of
// ".name", "..name", ".*", "[n]", "[n:m]", "['name']", "[*]", "[?(...)]" or "[a,b]" steps.
//
// The interpreter's parser (package expr) must accept it too: the validator accepts
// nothing the interpreter cannot evaluate. checkPath adds what AWS refuses statically
// on top of that grammar.
func validPath(s string) bool {
	return checkPath(s, false) && expr.IsPath(s)
}

// validReferencePath reports whether s is a reference path: a path that addresses a single
// node, so without wildcards, filters, slices, unions or deep scans.
func validReferencePath(s string) bool {
	return checkPath(s, true) && expr.IsReferencePath(s)
}

// validResultPath reports whether s is a reference path into the state's input, the
// only kind ResultPath can write to.
func validResultPath(s string) bool {
	return validReferencePath(s) && expr.IsResultPath(s)
}

func checkPath(s string, reference bool) bool {
	if !strings.HasPrefix(s, "$") {
		return false
	}
	i := 1
	if i < len(s) && s[i] == '$' {
		i++
	} else {
		for i < len(s) && isVarChar(s[i]) {
			i++
		}
	}
	for i < len(s) {
		switch s[i] {
		case '.':
			i++
			if i < len(s) && s[i] == '.' {
				if reference {
					return false
				}
				i++
			}
			if i >= len(s) {
				return false // a path must not end with '.' or '..'
			}
			if s[i] == '[' {
				continue
			}
			if s[i] == '*' {
				if reference {
					return false
				}
				i++
				continue
			}
			start := i
			for i < len(s) && s[i] != '.' && s[i] != '[' {
				if reference && (s[i] == '*' || s[i] == '?' || s[i] == '@') {
					return false
				}
				i++
			}
			if i == start {
				return false
			}
		case '[':
			end, ok := bracketEnd(s, i)
			if !ok {
				return false
			}
			inner := strings.TrimSpace(s[i+1 : end])
			if inner == "" {
				return false
			}
			if reference && !isSingleIndex(inner) {
				return false
			}
			i = end + 1
		default:
			return false
		}
	}
	return true
}

func isVarChar(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// bracketEnd returns the index of the ']' closing the '[' at open, skipping quoted strings
// and nested brackets and parentheses.
func bracketEnd(s string, open int) (int, bool) {
	depth := 0
	var quote byte
	for i := open; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' {
				i++
				continue
			}
			if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '[', '(':
			depth++
		case ']', ')':
			depth--
			if depth == 0 {
				return i, c == ']'
			}
			if depth < 0 {
				return 0, false
			}
		}
	}
	return 0, false
}

// isSingleIndex reports whether a bracket's content addresses one node: a non-negative
// integer or one quoted name.
func isSingleIndex(inner string) bool {
	if inner[0] == '\'' || inner[0] == '"' {
		q := inner[0]
		if len(inner) < 2 || inner[len(inner)-1] != q {
			return false
		}
		body := inner[1 : len(inner)-1]
		for i := 0; i < len(body); i++ {
			if body[i] == '\\' {
				i++
				continue
			}
			if body[i] == q {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(inner); i++ {
		if inner[i] < '0' || inner[i] > '9' {
			return false
		}
	}
	return true
}

// intrinsicFunctions lists the States.* functions AWS knows.
var intrinsicFunctions = map[string]bool{
	"Format": true, "StringToJson": true, "JsonToString": true, "Array": true,
	"ArrayPartition": true, "ArrayContains": true, "ArrayRange": true, "ArrayGetItem": true,
	"ArrayLength": true, "ArrayUnique": true, "Base64Encode": true, "Base64Decode": true,
	"Hash": true, "JsonMerge": true, "MathRandom": true, "MathAdd": true,
	"StringSplit": true, "UUID": true,
}

// validIntrinsic reports whether s is exactly one well-formed intrinsic function call
// whose argument counts and statically known argument types are those the functions
// document (expr.CheckIntrinsic, the interpreter's own tables).
func validIntrinsic(s string) bool {
	return wellFormedIntrinsic(s) && expr.CheckIntrinsic(s) == nil
}

// wellFormedIntrinsic reports whether s is exactly one syntactically well-formed intrinsic
// function call, whatever its arguments.
func wellFormedIntrinsic(s string) bool {
	p := &intrinsicParser{s: s}
	if !p.call() {
		return false
	}
	p.space()
	return p.i == len(p.s) && expr.IsIntrinsic(s)
}

type intrinsicParser struct {
	s string
	i int
}

func (p *intrinsicParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *intrinsicParser) call() bool {
	p.space()
	if !strings.HasPrefix(p.s[p.i:], "States.") {
		return false
	}
	p.i += len("States.")
	start := p.i
	for p.i < len(p.s) && isVarChar(p.s[p.i]) {
		p.i++
	}
	if !intrinsicFunctions[p.s[start:p.i]] {
		return false
	}
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return false
	}
	p.i++
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
		return true
	}
	for {
		if !p.arg() {
			return false
		}
		p.space()
		if p.i >= len(p.s) {
			return false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ')':
			p.i++
			return true
		default:
			return false
		}
	}
}

var intrinsicNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?`)

func (p *intrinsicParser) arg() bool {
	p.space()
	if p.i >= len(p.s) {
		return false
	}
	rest := p.s[p.i:]
	switch {
	case rest[0] == '\'':
		return p.stringArg()
	case strings.HasPrefix(rest, "States."):
		return p.call()
	case rest[0] == '$':
		end := p.i
		for end < len(p.s) && p.s[end] != ',' && p.s[end] != ')' {
			if p.s[end] == '[' {
				e, ok := bracketEnd(p.s, end)
				if !ok {
					return false
				}
				end = e
			}
			end++
		}
		path := strings.TrimSpace(p.s[p.i:end])
		if !validPath(path) {
			return false
		}
		p.i = end
		return true
	}
	for _, lit := range []string{"true", "false", "null"} {
		if strings.HasPrefix(rest, lit) {
			p.i += len(lit)
			return true
		}
	}
	if m := intrinsicNumber.FindString(rest); m != "" {
		p.i += len(m)
		return true
	}
	return false
}

// stringArg reads a single-quoted string; the only escapes are \' \{ \} and \\.
func (p *intrinsicParser) stringArg() bool {
	p.i++
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '\\':
			if p.i+1 >= len(p.s) || !strings.ContainsRune(`'{}\`, rune(p.s[p.i+1])) {
				return false
			}
			p.i += 2
		case '\'':
			p.i++
			return true
		default:
			p.i++
		}
	}
	return false
}

var rfc3339 = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// validTimestamp reports whether s is an RFC 3339 timestamp as AWS accepts it: an uppercase
// 'T' between date and time, a 'Z' or numeric offset, and real calendar values.
func validTimestamp(s string) bool {
	if !rfc3339.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// isJSONataExpression reports whether s is a "{% ... %}" string.
func isJSONataExpression(s string) bool {
	return strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}") && len(s) >= 4
}

// looksLikePathOrIntrinsic reports whether a plain string value looks like it was meant to
// be evaluated (the NO_DOLLAR warning).
func looksLikePathOrIntrinsic(s string) bool {
	if strings.HasPrefix(s, "$.") || strings.HasPrefix(s, "$$.") || strings.HasPrefix(s, "$[") {
		return validPath(s)
	}
	return strings.HasPrefix(s, "States.") && wellFormedIntrinsic(s)
}
