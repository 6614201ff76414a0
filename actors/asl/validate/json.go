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
	// dups lists the keys that appeared more than once in this object, in order of their
	// second appearance.
	dups []string
}

type jsonMember struct {
	key   string
	value *jsonValue
}

// get returns the member named key (the last one, as Jackson keeps it), or nil.
func (v *jsonValue) get(key string) *jsonValue {
	if v == nil || v.kind != kindObject {
		return nil
	}
	for _, m := range v.members {
		if m.key == key {
			return m.value
		}
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

// jsonSyntaxError is a Jackson-worded parse failure.
type jsonSyntaxError struct {
	msg      string // without the location suffix
	location string // "[Source: (String)\"...\"; line: L, column: C]"
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

func (p *jsonParser) value() (*jsonValue, *jsonSyntaxError) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.fail(p.pos, "Unexpected end-of-input: expected a value")
	}
	c := p.src[p.pos]
	switch {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
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

func (p *jsonParser) object() (*jsonValue, *jsonSyntaxError) {
	startLoc := p.locationAt(p.pos)
	p.pos++ // '{'
	v := &jsonValue{kind: kindObject}
	index := map[string]int{}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.fail(p.pos, "Unexpected end-of-input: expected close marker for Object (start marker at %s)", startLoc)
		}
		if p.src[p.pos] != '"' {
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			p.pos += size
			return nil, p.fail(p.pos, "Unexpected character (%s): was expecting double-quote to start field name", describeChar(r))
		}
		key, err := p.stringLit()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.fail(p.pos, "Unexpected end-of-input: expected close marker for Object (start marker at %s)", startLoc)
		}
		if p.src[p.pos] != ':' {
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			p.pos += size
			return nil, p.fail(p.pos, "Unexpected character (%s): was expecting a colon to separate field name and value", describeChar(r))
		}
		p.pos++
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.fail(p.pos, "Unexpected end-of-input: expected close marker for Object (start marker at %s)", startLoc)
		}
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		if i, ok := index[key]; ok {
			v.members[i].value = val
			v.dups = append(v.dups, key)
		} else {
			index[key] = len(v.members)
			v.members = append(v.members, jsonMember{key: key, value: val})
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.fail(p.pos, "Unexpected end-of-input: expected close marker for Object (start marker at %s)", startLoc)
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			p.pos += size
			return nil, p.fail(p.pos, "Unexpected character (%s): was expecting comma to separate Object entries", describeChar(r))
		}
	}
}

func (p *jsonParser) array() (*jsonValue, *jsonSyntaxError) {
	startLoc := p.locationAt(p.pos)
	p.pos++ // '['
	v := &jsonValue{kind: kindArray}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.fail(p.pos, "Unexpected end-of-input: expected close marker for Array (start marker at %s)", startLoc)
		}
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		v.items = append(v.items, val)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.fail(p.pos, "Unexpected end-of-input: expected close marker for Array (start marker at %s)", startLoc)
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			p.pos += size
			return nil, p.fail(p.pos, "Unexpected character (%s): was expecting comma to separate Array entries", describeChar(r))
		}
	}
}

func (p *jsonParser) stringLit() (string, *jsonSyntaxError) {
	p.pos++ // opening quote
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
