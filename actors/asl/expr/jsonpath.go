package expr

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/ohler55/ojg/jp"
)

// A compiled JSONPath with Jayway JsonPath semantics (the library AWS Step Functions
// uses): a definite path (only names and single indexes) selects one value or fails;
// any other path selects a list of values, possibly empty, and never fails.
//
// Supported: $, .name, ['name'] / ["name"] (text between the quotes taken literally, a
// backslash only protects a quote), ['a','b'], [n] (negative from the end), [n,m],
// [from:to] / [from:] / [:to] / [from:to:step], [*], .*, ..name, ..*, ..[...], and filters
// [?(<expr>)] evaluated by github.com/ohler55/ojg/jp.
type jsonPath struct {
	text     string
	segs     []segment
	definite bool
}

type segKind int

const (
	segChild segKind = iota
	segIndex
	segWildcard
	segNames
	segIndexes
	segSlice
	segFilter
)

type segment struct {
	kind    segKind
	descent bool // preceded by ".."
	names   []string
	idx     []int
	slice   [3]*int
	filter  *jp.Filter
}

func (s segment) definite() bool {
	return !s.descent && (s.kind == segChild || s.kind == segIndex)
}

// String renders the segment as Jayway prints a compiled path.
func (s segment) String() string {
	var b strings.Builder
	if s.descent {
		b.WriteString("..")
	}
	switch s.kind {
	case segChild, segNames:
		b.WriteByte('[')
		for i, n := range s.names {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("'" + n + "'")
		}
		b.WriteByte(']')
	case segIndex, segIndexes:
		b.WriteByte('[')
		for i, n := range s.idx {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(n))
		}
		b.WriteByte(']')
	case segWildcard:
		b.WriteString("[*]")
	case segSlice:
		b.WriteByte('[')
		for i, p := range s.slice {
			if i == 2 && p == nil {
				break
			}
			if i > 0 {
				b.WriteByte(':')
			}
			if p != nil {
				b.WriteString(strconv.Itoa(*p))
			}
		}
		b.WriteByte(']')
	case segFilter:
		b.WriteString("[?]")
	}
	return b.String()
}

func pathSyntax(text, why string) *pathErr {
	return &pathErr{msg: why}
}

// compilePath parses a JSONPath that starts with "$".
func compilePath(text string) (*jsonPath, *pathErr) {
	if !strings.HasPrefix(text, "$") {
		return nil, pathSyntax(text, "Path must start with '$'")
	}
	p := &jsonPath{text: text, definite: true}
	s := text[1:]
	for len(s) > 0 {
		var seg segment
		switch {
		case strings.HasPrefix(s, ".."):
			seg.descent = true
			s = s[2:]
			if strings.HasPrefix(s, "[") {
				var err *pathErr
				seg, s, err = parseBracket(text, s, true)
				if err != nil {
					return nil, err
				}
			} else if strings.HasPrefix(s, "*") {
				seg.kind = segWildcard
				s = s[1:]
			} else {
				name, rest := readName(s)
				if name == "" {
					return nil, pathSyntax(text, "Path must not end with a '.' or '..'")
				}
				seg.kind, seg.names, s = segChild, []string{name}, rest
			}
		case s[0] == '.':
			s = s[1:]
			if strings.HasPrefix(s, "*") {
				seg.kind = segWildcard
				s = s[1:]
			} else {
				name, rest := readName(s)
				if name == "" {
					return nil, pathSyntax(text, "Path must not end with a '.' or '..'")
				}
				seg.kind, seg.names, s = segChild, []string{name}, rest
			}
		case s[0] == '[':
			var err *pathErr
			seg, s, err = parseBracket(text, s, false)
			if err != nil {
				return nil, err
			}
		default:
			return nil, pathSyntax(text, "Could not parse token starting at position "+strconv.Itoa(len(text)-len(s)))
		}
		if !seg.definite() {
			p.definite = false
		}
		p.segs = append(p.segs, seg)
	}
	return p, nil
}

func readName(s string) (name, rest string) {
	i := strings.IndexAny(s, ".[")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// parseBracket parses "[...]" at the start of s.
func parseBracket(text, s string, descent bool) (segment, string, *pathErr) {
	seg := segment{descent: descent}
	body := strings.TrimLeft(s[1:], " ")
	switch {
	case strings.HasPrefix(body, "*"):
		rest := strings.TrimLeft(body[1:], " ")
		if !strings.HasPrefix(rest, "]") {
			return seg, "", pathSyntax(text, "Expected ']'")
		}
		seg.kind = segWildcard
		return seg, rest[1:], nil
	case strings.HasPrefix(body, "?"):
		end := filterEnd(body)
		if end < 0 {
			return seg, "", pathSyntax(text, "Filter is not closed")
		}
		f, err := jp.NewFilter("[" + body[:end+1])
		if err != nil {
			return seg, "", pathSyntax(text, "Invalid filter: "+err.Error())
		}
		seg.kind, seg.filter = segFilter, f
		return seg, body[end+1:], nil
	case strings.HasPrefix(body, "'") || strings.HasPrefix(body, `"`):
		for {
			q := body[0]
			i := 1
			for ; i < len(body); i++ {
				if body[i] == '\\' {
					i++
					continue
				}
				if body[i] == q {
					break
				}
			}
			if i >= len(body) {
				return seg, "", pathSyntax(text, "Property has not been closed - missing closing "+string(q))
			}
			seg.names = append(seg.names, body[1:i])
			body = strings.TrimLeft(body[i+1:], " ")
			if strings.HasPrefix(body, ",") {
				body = strings.TrimLeft(body[1:], " ")
				if !strings.HasPrefix(body, "'") && !strings.HasPrefix(body, `"`) {
					return seg, "", pathSyntax(text, "Expected a quoted property name")
				}
				continue
			}
			if !strings.HasPrefix(body, "]") {
				return seg, "", pathSyntax(text, "Expected ']'")
			}
			seg.kind = segChild
			if len(seg.names) > 1 {
				seg.kind = segNames
			}
			return seg, body[1:], nil
		}
	default:
		end := strings.IndexByte(body, ']')
		if end < 0 {
			return seg, "", pathSyntax(text, "Expected ']'")
		}
		inner := strings.TrimSpace(body[:end])
		rest := body[end+1:]
		if strings.Contains(inner, ":") {
			parts := strings.Split(inner, ":")
			if len(parts) > 3 {
				return seg, "", pathSyntax(text, "Invalid array slice")
			}
			for i, part := range parts {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				n, err := strconv.Atoi(part)
				if err != nil {
					return seg, "", pathSyntax(text, "Invalid array slice")
				}
				seg.slice[i] = &n
			}
			if seg.slice[2] != nil && *seg.slice[2] <= 0 {
				return seg, "", pathSyntax(text, "Invalid array slice step")
			}
			seg.kind = segSlice
			return seg, rest, nil
		}
		for _, part := range strings.Split(inner, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return seg, "", pathSyntax(text, "Could not parse array index '"+strings.TrimSpace(part)+"'")
			}
			seg.idx = append(seg.idx, n)
		}
		seg.kind = segIndex
		if len(seg.idx) > 1 {
			seg.kind = segIndexes
		}
		return seg, rest, nil
	}
}

// filterEnd returns the index of the ']' closing a "?(...)" filter body, or -1.
func filterEnd(body string) int {
	depth := 0
	var quote byte
	for i := 1; i < len(body); i++ {
		c := body[i]
		if quote != 0 {
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '(':
			depth++
		case ')':
			depth--
		case ']':
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// normalized renders the path as Jayway prints a compiled path ("$['a'][0]").
func (p *jsonPath) normalized(n int) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, s := range p.segs[:n] {
		b.WriteString(s.String())
	}
	return b.String()
}

// get evaluates a definite path; a missing value yields a not-found pathErr with
// Jayway's message.
func (p *jsonPath) get(root any) (any, *pathErr) {
	cur := root
	for i, s := range p.segs {
		leaf := i == len(p.segs)-1
		switch s.kind {
		case segChild:
			o, ok := cur.(*Object)
			if !ok {
				return nil, &pathErr{notFound: true, msg: "Expected to find an object with property " +
					s.String() + " in path " + p.normalized(i) + " but found '" + javaNodeClass(cur) +
					"'. This is not a json object according to the JsonProvider: " +
					"'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'."}
			}
			v, ok := o.Get(s.names[0])
			if !ok {
				if leaf {
					return nil, &pathErr{notFound: true, msg: "No results for path: " + p.normalized(len(p.segs))}
				}
				return nil, &pathErr{notFound: true, msg: "Missing property in path " + p.normalized(i+1)}
			}
			cur = v
		case segIndex:
			a, ok := cur.([]any)
			n := s.idx[0]
			if ok && n < 0 {
				n += len(a)
			}
			if !ok || n < 0 || n >= len(a) {
				return nil, &pathErr{notFound: true, msg: "No results for path: " + p.normalized(len(p.segs))}
			}
			cur = a[n]
		}
	}
	return cur, nil
}

// find evaluates any path and returns every selected value in document order.
func (p *jsonPath) find(root any) []any {
	nodes := []any{root}
	for _, s := range p.segs {
		var next []any
		for _, n := range nodes {
			if s.descent {
				walkPreorder(n, func(v any) { next = s.apply(v, next) })
			} else {
				next = s.apply(n, next)
			}
		}
		nodes = next
	}
	if nodes == nil {
		nodes = []any{}
	}
	return nodes
}

func walkPreorder(v any, visit func(any)) {
	visit(v)
	switch t := v.(type) {
	case *Object:
		for _, c := range t.All() {
			walkPreorder(c, visit)
		}
	case []any:
		for _, c := range t {
			walkPreorder(c, visit)
		}
	}
}

// apply appends what the segment selects in node v.
func (s segment) apply(v any, out []any) []any {
	switch s.kind {
	case segChild, segNames:
		if o, ok := v.(*Object); ok {
			for _, n := range s.names {
				if c, ok := o.Get(n); ok {
					out = append(out, c)
				}
			}
		}
	case segIndex, segIndexes:
		if a, ok := v.([]any); ok {
			for _, n := range s.idx {
				if n < 0 {
					n += len(a)
				}
				if n >= 0 && n < len(a) {
					out = append(out, a[n])
				}
			}
		}
	case segWildcard:
		switch t := v.(type) {
		case *Object:
			for _, c := range t.All() {
				out = append(out, c)
			}
		case []any:
			out = append(out, t...)
		}
	case segSlice:
		if a, ok := v.([]any); ok {
			from, to, step := 0, len(a), 1
			if s.slice[0] != nil {
				from = *s.slice[0]
				if from < 0 {
					from = max(0, len(a)+from)
				}
			}
			if s.slice[1] != nil {
				to = *s.slice[1]
				if to < 0 {
					to = len(a) + to
				}
				to = min(to, len(a))
			}
			if s.slice[2] != nil {
				step = *s.slice[2]
			}
			for i := from; i < to; i += step {
				out = append(out, a[i])
			}
		}
	case segFilter:
		switch t := v.(type) {
		case []any:
			for _, c := range t {
				if matches(s.filter, plain(c)) {
					out = append(out, c)
				}
			}
		case *Object:
			if matches(s.filter, plain(t)) {
				out = append(out, t)
			}
		}
	}
	return out
}

// matches reports whether filter f selects v. ojg's scripts panic on some comparisons
// it does not define — an object or array compared with ==, a nested filter applied to
// null ("comparing uncomparable type", "call of reflect.Value.Type on zero Value") —
// where Jayway, which AWS uses, simply does not select the node; such a node is not
// selected here either, instead of the panic taking the execution (or the validator)
// down.
func matches(f *jp.Filter, v any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f.Match(v)
}

// plain converts a value into the generic form ojg's filter scripts understand: maps and
// int64/float64 numbers.
func plain(v any) any {
	switch t := v.(type) {
	case *Object:
		m := make(map[string]any, t.Len())
		for k, c := range t.All() {
			m[k] = plain(c)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = plain(c)
		}
		return out
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return string(t)
	}
	return v
}

// javaNodeClass names the Jackson node class of v, as it appears in Jayway's messages.
func javaNodeClass(v any) string {
	const pkg = "com.fasterxml.jackson.databind.node."
	switch t := v.(type) {
	case nil:
		return pkg + "NullNode"
	case bool:
		return pkg + "BooleanNode"
	case string:
		return pkg + "TextNode"
	case json.Number:
		if isIntLiteral(string(t)) {
			return pkg + "IntNode"
		}
		return pkg + "DoubleNode"
	case []any:
		return pkg + "ArrayNode"
	}
	return pkg + "ObjectNode"
}
