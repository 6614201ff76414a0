package validate

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds a small JSON reader that keeps the order of object members (AWS reports
// diagnostics in document order) and words syntax errors the way the Jackson parser behind
// AWS Step Functions does, because those words are what INVALID_JSON_DESCRIPTION carries.

type jsonKind int

const (
	kindNull jsonKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// jsonValue is one parsed JSON value.
type jsonValue struct {
	kind    jsonKind
	str     string  // string value, or the literal text of a number
	num     float64 // numbers
	isInt   bool    // the number literal has no fraction and no exponent
	boolean bool
	items   []*jsonValue
	members []jsonMember
	// index maps the keys of a large object to their position in members (nil for
	// objects of up to smallObject members, which are searched in order).
	index map[string]int
	// dups lists the keys that appeared more than once in this object, in order of their
	// second appearance.
	dups []string
}

type jsonMember struct {
	key   string
	value *jsonValue
}

// smallObject is the largest object whose members are looked up by scanning them.
const smallObject = 8

// find returns the position of key in members, or -1.
func (v *jsonValue) find(key string) int {
	if v.index != nil {
		if i, ok := v.index[key]; ok {
			return i
		}
		return -1
	}
	for i, m := range v.members {
		if m.key == key {
			return i
		}
	}
	return -1
}

// set adds a member, or replaces the value of an existing one and records the key as a
// duplicate (Jackson keeps the last value, in the position of the first).
func (v *jsonValue) set(key string, val *jsonValue) {
	if i := v.find(key); i >= 0 {
		v.members[i].value = val
		v.dups = append(v.dups, key)
		return
	}
	v.members = append(v.members, jsonMember{key: key, value: val})
	if v.index != nil {
		v.index[key] = len(v.members) - 1
	} else if len(v.members) > smallObject {
		v.index = make(map[string]int, 2*len(v.members))
		for i, m := range v.members {
			v.index[m.key] = i
		}
	}
}

// get returns the member named key (the last one, as Jackson keeps it), or nil.
func (v *jsonValue) get(key string) *jsonValue {
	if v == nil || v.kind != kindObject {
		return nil
	}
	if i := v.find(key); i >= 0 {
		return v.members[i].value
	}
	return nil
}

func (v *jsonValue) has(key string) bool { return v.get(key) != nil }

// text returns the value of a string, or "" for anything else (nil included).
func (v *jsonValue) text() string {
	if v == nil || v.kind != kindString {
		return ""
	}
	return v.str
}

func (v *jsonValue) isString() bool { return v != nil && v.kind == kindString }
func (v *jsonValue) isObject() bool { return v != nil && v.kind == kindObject }
func (v *jsonValue) isArray() bool  { return v != nil && v.kind == kindArray }
func (v *jsonValue) isNumber() bool { return v != nil && v.kind == kindNumber }
func (v *jsonValue) isBool() bool   { return v != nil && v.kind == kindBool }

// MaxNestingDepth is the deepest nesting of arrays and objects accepted in a definition
// or a JSON payload: the depth the interpreter's JSON decoding (encoding/json) supports.
// AWS's limit is not documented; Jackson, whose words AWS's syntax errors carry, refuses
// documents nested deeper than its StreamReadConstraints allow, in the words used here.
const MaxNestingDepth = 10000

// jsonSyntaxError is a Jackson-worded parse failure.
type jsonSyntaxError struct {
	msg string // without the location suffix
	// location is "[Source: (String)\"...\"; line: L, column: C]", or "" for the
	// errors Jackson reports without one (a nesting too deep).
	location string
}

type jsonParser struct {
	src string
	pos int
}

const maxSourceSnippet = 500

func (p *jsonParser) sourceDesc() string {
	content := p.src
	var b strings.Builder
	b.WriteString(`[Source: (String)"`)
	if utf8.RuneCountInString(content) > maxSourceSnippet {
		runes := []rune(content)
		b.WriteString(string(runes[:maxSourceSnippet]))
		fmt.Fprintf(&b, `"[truncated %d chars]`, len(runes)-maxSourceSnippet)
	} else {
		b.WriteString(content)
		b.WriteString(`"`)
	}
	return b.String()
}

// locationAt renders the Jackson location of byte offset off (the parser's read pointer).
func (p *jsonParser) locationAt(off int) string {
	line, lineStart := 1, 0
	for i := 0; i < off && i < len(p.src); i++ {
		if p.src[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	col := utf8.RuneCountInString(p.src[lineStart:min(off, len(p.src))]) + 1
	return fmt.Sprintf("%s; line: %d, column: %d]", p.sourceDesc(), line, col)
}

func (p *jsonParser) fail(off int, format string, args ...any) *jsonSyntaxError {
	return &jsonSyntaxError{msg: fmt.Sprintf(format, args...), location: p.locationAt(off)}
}

// describeChar renders a character as Jackson's _getCharDesc does.
func describeChar(r rune) string {
	if unicode.IsControl(r) {
		return fmt.Sprintf("(CTRL-CHAR, code %d)", r)
	}
	if r > 255 {
		return fmt.Sprintf("'%c' (code %d / 0x%x)", r, r, r)
	}
	return fmt.Sprintf("'%c' (code %d)", r, r)
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// parseJSON parses a whole document. Trailing content after the root value is ignored, as
// Jackson's ObjectMapper.readTree does by default.
func parseJSON(src string) (*jsonValue, *jsonSyntaxError) {
	p := &jsonParser{src: src}
	p.skipSpace()
	if p.pos >= len(src) {
		return nil, nil // no content at all
	}
	return p.value()
}

// value parses one value and everything nested in it. It keeps the open arrays and
// objects on a stack of its own rather than recursing, so any depth of nesting costs
// heap proportional to the input and time linear in it.
func (p *jsonParser) value() (*jsonValue, *jsonSyntaxError) {
	var open []openContainer
	for {
		// A value starts here (at the top, after '[' or ',' in an array, or after ':').
		p.skipSpace()
		if p.pos >= len(p.src) {
			if len(open) == 0 {
				return nil, p.fail(p.pos, "Unexpected end-of-input: expected a value")
			}
			return nil, p.unclosed(open[len(open)-1])
		}
		var val *jsonValue
		switch c := p.src[p.pos]; c {
		case '{', '[':
			if len(open) >= MaxNestingDepth {
				return nil, &jsonSyntaxError{msg: fmt.Sprintf("Document nesting depth (%d) exceeds the maximum allowed "+
					"(%d, from `StreamReadConstraints.getMaxNestingDepth()`)", len(open)+1, MaxNestingDepth)}
			}
			o := openContainer{start: p.pos, object: c == '{'}
			closer := byte(']')
			if o.object {
				closer = '}'
			}
			p.pos++
			p.skipSpace()
			if p.pos < len(p.src) && p.src[p.pos] == closer {
				p.pos++
				val = o.value()
				break
			}
			if o.object {
				key, err := p.memberName(o)
				if err != nil {
					return nil, err
				}
				o.key = key
			}
			open = append(open, o)
			continue
		default:
			v, err := p.scalar()
			if err != nil {
				return nil, err
			}
			val = v
		}
		// val is complete: add it to the innermost open container, and close every
		// container that ends here.
		for {
			if len(open) == 0 {
				return val, nil
			}
			o := &open[len(open)-1]
			o.add(val)
			p.skipSpace()
			if p.pos >= len(p.src) {
				return nil, p.unclosed(*o)
			}
			closer, what := byte(']'), "Array"
			if o.object {
				closer, what = '}', "Object"
			}
			c := p.src[p.pos]
			if c == ',' {
				p.pos++
				if o.object {
					key, err := p.memberName(*o)
					if err != nil {
						return nil, err
					}
					o.key = key
				}
				break
			}
			if c != closer {
				r, size := utf8.DecodeRuneInString(p.src[p.pos:])
				p.pos += size
				return nil, p.fail(p.pos, "Unexpected character (%s): was expecting comma to separate %s entries", describeChar(r), what)
			}
			p.pos++
			val = o.value()
			open = open[:len(open)-1]
		}
	}
}

// openContainer is an array or object whose closing bracket has not been read yet.
type openContainer struct {
	start  int  // offset of its opening bracket
	object bool // an object, else an array
	// v is what has been read of it, allocated with its first member: unterminated
	// nesting costs no more than the stack entry.
	v   *jsonValue
	key string // an object's member whose value is being read
}

// add appends an item to an array, or sets the member o.key of an object.
func (o *openContainer) add(val *jsonValue) {
	if o.v == nil {
		o.v = o.value()
	}
	if o.object {
		o.v.set(o.key, val)
	} else {
		o.v.items = append(o.v.items, val)
	}
}

// value returns the container's value.
func (o *openContainer) value() *jsonValue {
	if o.v != nil {
		return o.v
	}
	if o.object {
		return &jsonValue{kind: kindObject}
	}
	return &jsonValue{kind: kindArray}
}

// unclosed reports the end of the input inside o.
func (p *jsonParser) unclosed(o openContainer) *jsonSyntaxError {
	what := "Array"
	if o.object {
		what = "Object"
	}
	return p.fail(p.pos, "Unexpected end-of-input: expected close marker for %s (start marker at %s)", what, p.locationAt(o.start))
}

// memberName reads an object member's name and the colon after it, up to the start of its
// value.
func (p *jsonParser) memberName(o openContainer) (string, *jsonSyntaxError) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return "", p.unclosed(o)
	}
	if p.src[p.pos] != '"' {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += size
		return "", p.fail(p.pos, "Unexpected character (%s): was expecting double-quote to start field name", describeChar(r))
	}
	key, err := p.stringLit()
	if err != nil {
		return "", err
	}
	p.skipSpace()
	if p.pos >= len(p.src) {
		return "", p.unclosed(o)
	}
	if p.src[p.pos] != ':' {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += size
		return "", p.fail(p.pos, "Unexpected character (%s): was expecting a colon to separate field name and value", describeChar(r))
	}
	p.pos++
	p.skipSpace()
	if p.pos >= len(p.src) {
		return "", p.unclosed(o)
	}
	return key, nil
}

// scalar parses a string, number or literal at p.pos, or reports what stands there
// instead of a value.
func (p *jsonParser) scalar() (*jsonValue, *jsonSyntaxError) {
	c := p.src[p.pos]
	switch {
	case c == '"':
		s, err := p.stringLit()
		if err != nil {
			return nil, err
		}
		return &jsonValue{kind: kindString, str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if strings.HasPrefix(p.src[p.pos:], lit) && !p.identPartAt(p.pos+len(lit)) {
				p.pos += len(lit)
				switch lit {
				case "true":
					return &jsonValue{kind: kindBool, boolean: true}, nil
				case "false":
					return &jsonValue{kind: kindBool}, nil
				}
				return &jsonValue{kind: kindNull}, nil
			}
		}
		return nil, p.badToken()
	case c == ']' || c == '}':
		r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos++
		return nil, p.fail(p.pos, "Unexpected character (%s): expected a value", describeChar(r))
	default:
		r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
		if isIdentPart(r) {
			return nil, p.badToken()
		}
		p.pos += utf8.RuneLen(r)
		return nil, p.fail(p.pos, "Unexpected character (%s): expected a valid value "+
			"(JSON String, Number, Array, Object or token 'null', 'true' or 'false')", describeChar(r))
	}
}

func isIdentPart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func (p *jsonParser) identPartAt(off int) bool {
	if off >= len(p.src) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(p.src[off:])
	return isIdentPart(r)
}

// badToken reports an unquoted word, as Jackson's _reportInvalidToken does.
func (p *jsonParser) badToken() *jsonSyntaxError {
	start := p.pos
	for p.pos < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if !isIdentPart(r) {
			break
		}
		p.pos += size
	}
	if p.pos == start {
		p.pos++
	}
	return p.fail(p.pos, "Unrecognized token '%s': was expecting (JSON String, Number, Array, Object "+
		"or token 'null', 'true' or 'false')", p.src[start:p.pos])
}

func (p *jsonParser) stringLit() (string, *jsonSyntaxError) {
	p.pos++ // opening quote
	// Most strings hold no escapes: they are a slice of the source.
	start := p.pos
	for i := start; i < len(p.src); i++ {
		c := p.src[i]
		if c == '"' {
			p.pos = i + 1
			return p.src[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			return "", p.fail(p.pos, "Unexpected end-of-input in VALUE_STRING")
		}
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c == '\\':
			p.pos++
			if p.pos >= len(p.src) {
				return "", p.fail(p.pos, "Unexpected end-of-input in character escape sequence")
			}
			e := p.src[p.pos]
			p.pos++
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if p.pos+4 > len(p.src) {
					p.pos = len(p.src)
					return "", p.fail(p.pos, "Unexpected end-of-input in character escape sequence")
				}
				n, err := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 32)
				if err != nil {
					for i := 0; i < 4; i++ {
						h := p.src[p.pos+i]
						if !strings.ContainsRune("0123456789abcdefABCDEF", rune(h)) {
							p.pos += i + 1
							return "", p.fail(p.pos, "Unexpected character (%s): expected a hex-digit for character escape sequence", describeChar(rune(h)))
						}
					}
				}
				p.pos += 4
				r := rune(n)
				if utf16IsHighSurrogate(r) && strings.HasPrefix(p.src[p.pos:], `\u`) && p.pos+6 <= len(p.src) {
					if n2, err := strconv.ParseUint(p.src[p.pos+2:p.pos+6], 16, 32); err == nil && rune(n2) >= 0xDC00 && rune(n2) <= 0xDFFF {
						r = (r-0xD800)<<10 + (rune(n2) - 0xDC00) + 0x10000
						p.pos += 6
					}
				}
				b.WriteRune(r)
			default:
				r, _ := utf8.DecodeRuneInString(p.src[p.pos-1:])
				return "", p.fail(p.pos, "Unrecognized character escape %s", describeChar(r))
			}
		case c < 0x20:
			p.pos++
			return "", p.fail(p.pos, "Illegal unquoted character (%s): has to be escaped using backslash to be included in string value", describeChar(rune(c)))
		default:
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			b.WriteRune(r)
			p.pos += size
		}
	}
}

func utf16IsHighSurrogate(r rune) bool { return r >= 0xD800 && r <= 0xDBFF }

func (p *jsonParser) number() (*jsonValue, *jsonSyntaxError) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
		if p.pos >= len(p.src) || p.src[p.pos] < '0' || p.src[p.pos] > '9' {
			if p.pos < len(p.src) {
				r, size := utf8.DecodeRuneInString(p.src[p.pos:])
				p.pos += size
				return nil, p.fail(p.pos, "Unexpected character (%s) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value", describeChar(r))
			}
			return nil, p.fail(p.pos, "Unexpected end-of-input in a Number value")
		}
	}
	if p.src[p.pos] == '0' && p.pos+1 < len(p.src) && p.src[p.pos+1] >= '0' && p.src[p.pos+1] <= '9' {
		p.pos += 2
		return nil, p.fail(p.pos, "Invalid numeric value: Leading zeroes not allowed")
	}
	isInt := true
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		isInt = false
		p.pos++
		digits := p.pos
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
		}
		if p.pos == digits {
			if p.pos < len(p.src) {
				r, size := utf8.DecodeRuneInString(p.src[p.pos:])
				p.pos += size
				return nil, p.fail(p.pos, "Unexpected character (%s) in numeric value: Decimal point not followed by a digit", describeChar(r))
			}
			return nil, p.fail(p.pos, "Unexpected end-of-input in a Number value")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		isInt = false
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		digits := p.pos
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
		}
		if p.pos == digits {
			if p.pos < len(p.src) {
				r, size := utf8.DecodeRuneInString(p.src[p.pos:])
				p.pos += size
				return nil, p.fail(p.pos, "Unexpected character (%s) in numeric value: Exponent indicator not followed by a digit", describeChar(r))
			}
			return nil, p.fail(p.pos, "Unexpected end-of-input in a Number value")
		}
	}
	text := p.src[start:p.pos]
	f, _ := strconv.ParseFloat(text, 64)
	return &jsonValue{kind: kindNumber, str: text, num: f, isInt: isInt}, nil
}
