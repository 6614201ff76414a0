package expr

import (
	"bytes"
	"encoding/json"
	"io"
	"iter"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cockroachdb/errors"
)

// Object is a JSON object that keeps its keys in insertion order, as AWS Step Functions
// does (its payloads are Jackson trees backed by LinkedHashMap). Key order is visible in
// every payload AWS prints (a Parameters template {"b.$":..., "a":...} yields
// {"b":...,"a":...}), so every JSON object this package produces is an *Object.
//
// Setting an existing key replaces its value in place (the key keeps its position).
// The zero value is an empty object ready to use. An *Object must be treated as immutable
// once it has been handed to another component: functions in this package never modify
// their arguments.
type Object struct {
	ents []entry
	// idx maps keys to positions in ents once the object has objectIndexMin keys;
	// smaller objects are searched linearly (cheaper than hashing, and no map to
	// allocate for the small objects payloads are mostly made of).
	idx map[string]int
}

type entry struct {
	key string
	val any
}

// objectIndexMin is the number of keys from which an Object keeps a key index.
const objectIndexMin = 9

// NewObject returns an empty object with room for n keys.
func NewObject(n int) *Object {
	return &Object{ents: make([]entry, 0, n)}
}

// ObjectOf builds an object from alternating keys and values: ObjectOf("a", 1, "b", "x").
// It panics on an odd number of arguments or a non-string key (a programming error).
// Go ints and floats are converted to json.Number.
func ObjectOf(kv ...any) *Object {
	if len(kv)%2 != 0 {
		panic("expr.ObjectOf: odd number of arguments")
	}
	o := NewObject(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		o.Set(kv[i].(string), FromGo(kv[i+1]))
	}
	return o
}

// Len is the number of keys.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.ents)
}

// find is the position of key, or -1.
func (o *Object) find(key string) int {
	if o.idx != nil {
		if i, ok := o.idx[key]; ok {
			return i
		}
		return -1
	}
	for i := range o.ents {
		if o.ents[i].key == key {
			return i
		}
	}
	return -1
}

// reindex rebuilds the key index after the entries moved.
func (o *Object) reindex() {
	if len(o.ents) < objectIndexMin {
		o.idx = nil
		return
	}
	o.idx = make(map[string]int, len(o.ents))
	for i := range o.ents {
		o.idx[o.ents[i].key] = i
	}
}

// Get returns the value of key and whether the key is present.
func (o *Object) Get(key string) (any, bool) {
	if o == nil {
		return nil, false
	}
	if i := o.find(key); i >= 0 {
		return o.ents[i].val, true
	}
	return nil, false
}

// Set sets key to v; a new key is appended, an existing key keeps its position.
func (o *Object) Set(key string, v any) {
	if i := o.find(key); i >= 0 {
		o.ents[i].val = v
		return
	}
	o.ents = append(o.ents, entry{key, v})
	switch {
	case o.idx != nil:
		o.idx[key] = len(o.ents) - 1
	case len(o.ents) >= objectIndexMin:
		o.reindex()
	}
}

// Delete removes key if present.
func (o *Object) Delete(key string) {
	i := o.find(key)
	if i < 0 {
		return
	}
	o.ents = slices.Delete(o.ents, i, i+1)
	if o.idx != nil {
		o.reindex()
	}
}

// Keys returns the keys in order (a copy).
func (o *Object) Keys() []string {
	if o == nil {
		return nil
	}
	out := make([]string, len(o.ents))
	for i := range o.ents {
		out[i] = o.ents[i].key
	}
	return out
}

// All iterates over the entries in order.
func (o *Object) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		if o == nil {
			return
		}
		for _, e := range o.ents {
			if !yield(e.key, e.val) {
				return
			}
		}
	}
}

// shallowCopy returns a new object with the same entries.
func (o *Object) shallowCopy() *Object {
	c := &Object{ents: make([]entry, len(o.ents), len(o.ents)+1)}
	copy(c.ents, o.ents)
	if o.idx != nil {
		c.reindex()
	}
	return c
}

// MarshalJSON renders the object as Marshal does.
func (o *Object) MarshalJSON() ([]byte, error) {
	return []byte(Marshal(o)), nil
}

// UnmarshalJSON parses a JSON object keeping key order.
func (o *Object) UnmarshalJSON(b []byte) error {
	v, err := ParseJSON(string(b))
	if err != nil {
		return err
	}
	p, ok := v.(*Object)
	if !ok {
		return errors.Newf("expr: JSON value is not an object")
	}
	*o = *p
	return nil
}

// ParseJSON parses one JSON text into this package's value representation:
// nil, bool, json.Number (the literal text), string, []any and *Object (key order kept;
// a duplicate key keeps its first position and its last value, as Jackson does).
// Trailing non-space text is an error.
func ParseJSON(s string) (any, error) {
	if v, ok := fastParse(s); ok {
		return v, nil
	}
	return decodeJSON(s)
}

// decodeJSON is ParseJSON by encoding/json's decoder: the reference behaviour,
// used for the texts fastParse leaves to it (errors included).
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := parseValue(dec)
	if err != nil {
		return nil, errors.Wrap(err, "parse JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("parse JSON: unexpected data after the JSON value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := NewObject(4)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				o.Set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, errors.Newf("unexpected %v", t)
	default:
		return t, nil // nil, bool, json.Number, string
	}
}

// MustParseJSON is ParseJSON for literals in code and tests; it panics on error.
func MustParseJSON(s string) any {
	v, err := ParseJSON(s)
	if err != nil {
		panic(err)
	}
	return v
}

// FromGo converts a value built by other code (encoding/json without UseNumber, Go
// literals) into this package's representation: map[string]any becomes an *Object with
// sorted keys (Go maps have no order), Go numbers become json.Number, []string etc.
// become []any. Values already in this representation are returned as they are.
func FromGo(v any) any {
	switch t := v.(type) {
	case nil, bool, string, json.Number:
		return t
	case *Object:
		return t
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = FromGo(e)
		}
		return out
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		o := NewObject(len(keys))
		for _, k := range keys {
			o.Set(k, FromGo(t[k]))
		}
		return o
	case []string:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = e
		}
		return out
	case int:
		return json.Number(strconv.Itoa(t))
	case int64:
		return json.Number(strconv.FormatInt(t, 10))
	case int32:
		return json.Number(strconv.FormatInt(int64(t), 10))
	case uint64:
		return json.Number(strconv.FormatUint(t, 10))
	case float64:
		return floatNumber(t)
	case float32:
		return floatNumber(float64(t))
	case json.RawMessage:
		if p, err := ParseJSON(string(t)); err == nil {
			return p
		}
		return string(t)
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return nil
		}
		p, err := ParseJSON(string(b))
		if err != nil {
			return nil
		}
		return p
	}
}

// floatNumber renders f as an integer literal when it is integral and fits, else as a
// Java double.
func floatNumber(f float64) json.Number {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return json.Number(strconv.FormatInt(int64(f), 10))
	}
	return json.Number(javaDouble(f))
}

// Marshal renders v as compact JSON text exactly as AWS Step Functions prints payloads
// (state input/output in history events, execution output, JsonToString, error causes):
//   - no whitespace; object keys in insertion order (map[string]any: sorted);
//   - strings: only '"', '\\' and control characters are escaped (\b \t \n \f \r short
//     forms, others as \u00XX with upper-case hex); '/', '<', '>', '&' and all non-ASCII
//     characters are written as they are (invalid UTF-8 becomes U+FFFD);
//   - numbers as Jackson renders them: integers keep their digits ("-0" becomes "0"),
//     numbers with a fraction or exponent are doubles printed as Java's Double.toString
//     ("1.10" -> "1.1", "1e2" -> "100.0", "1.5e300" -> "1.5E300").
func Marshal(v any) string {
	s, _ := MarshalCanonical(v)
	return s
}

// MarshalCanonical is Marshal that also reports whether v is canonical: whether
// ParseJSON of the text gives back v exactly (same types, key order, string contents and
// number literals). A caller that keeps v next to its text can then skip parsing the
// text again. v is not canonical when Marshal rewrites something in it: a number
// literal Jackson prints differently ("1.10"), invalid UTF-8, a nil array, or a value
// outside this package's representation (Go maps, ints ...).
func MarshalCanonical(v any) (string, bool) {
	b := bufPool.Get().(*bytes.Buffer)
	canon := writeJSON(b, v)
	s := b.String()
	if b.Cap() <= maxPooledBuf {
		b.Reset()
		bufPool.Put(b)
	}
	return s, canon
}

// bufPool holds Marshal's scratch buffers; buffers grown past maxPooledBuf are dropped.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuf = 64 << 10

func writeJSON(b *bytes.Buffer, v any) bool {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		f := FormatNumber(string(t))
		b.WriteString(f)
		return f == string(t) && isNumberLiteral(f)
	case string:
		return writeString(b, t)
	case []any:
		canon := t != nil
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			if !writeJSON(b, e) {
				canon = false
			}
		}
		b.WriteByte(']')
		return canon
	case *Object:
		canon := t != nil
		b.WriteByte('{')
		i := 0
		for k, e := range t.All() {
			if i > 0 {
				b.WriteByte(',')
			}
			i++
			if !writeString(b, k) {
				canon = false
			}
			b.WriteByte(':')
			if !writeJSON(b, e) {
				canon = false
			}
		}
		b.WriteByte('}')
		return canon
	default:
		writeJSON(b, FromGo(v))
		return false
	}
	return true
}

const hexUpper = "0123456789ABCDEF"

// writeString writes s as a JSON string; false when s is not valid UTF-8 (replaced).
func writeString(b *bytes.Buffer, s string) bool {
	valid := true
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hexUpper[c>>4])
				b.WriteByte(hexUpper[c&0xF])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			valid = false
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return valid
}

// FormatNumber renders a JSON number literal the way Jackson prints it: integer literals
// keep their digits (negative zero becomes "0"), other literals are parsed as a double and
// printed as Java's Double.toString. Text that is not a number is returned unchanged.
func FormatNumber(s string) string {
	if isIntLiteral(s) {
		if strings.Trim(s, "-0") == "" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return s
	}
	return javaDouble(f)
}

func isIntLiteral(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// javaDouble renders f as java.lang.Double.toString does (shortest round-trip digits,
// JDK 19+): plain notation with at least one fraction digit for 1e-3 <= |f| < 1e7,
// otherwise computerized scientific notation "d.dddE[-]n".
func javaDouble(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if f < 0 {
		sign = "-"
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exps, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(exps)
	digits := strings.Replace(mant, ".", "", 1)
	if f >= 1e-3 && f < 1e7 {
		var s string
		if exp >= 0 {
			if len(digits) <= exp+1 {
				s = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			} else {
				s = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			s = "0." + strings.Repeat("0", -exp-1) + digits
		}
		return sign + s
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	return sign + digits[:1] + "." + frac + "E" + strconv.Itoa(exp)
}

// Clone returns a deep copy of v.
func Clone(v any) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = Clone(e)
		}
		return out
	case *Object:
		o := NewObject(t.Len())
		for k, e := range t.All() {
			o.Set(k, Clone(e))
		}
		return o
	case map[string]any:
		return Clone(FromGo(t))
	default:
		return t
	}
}

// Equal reports whether a and b are the same JSON value, as Jackson's JsonNode.equals
// decides: object key order does not matter, an integer never equals a non-integer
// literal (1 != 1.0), numbers of the same kind compare by value.
func Equal(a, b any) bool {
	a, b = canon(a), canon(b)
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && numbersEqual(x, y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Object:
		y, ok := b.(*Object)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for k, v := range x.All() {
			w, ok := y.Get(k)
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func canon(v any) any {
	switch v.(type) {
	case nil, bool, string, json.Number, []any, *Object:
		return v
	}
	return FromGo(v)
}

func numbersEqual(x, y json.Number) bool {
	xi, yi := isIntLiteral(string(x)), isIntLiteral(string(y))
	if xi != yi {
		return false
	}
	if xi {
		a, ok1 := new(big.Int).SetString(string(x), 10)
		b, ok2 := new(big.Int).SetString(string(y), 10)
		return ok1 && ok2 && a.Cmp(b) == 0
	}
	a, err1 := strconv.ParseFloat(string(x), 64)
	b, err2 := strconv.ParseFloat(string(y), 64)
	return err1 == nil && err2 == nil && a == b
}

// TypeName is the JSON type of v as AWS names it in messages: "object", "array",
// "string", "number", "boolean" or "null".
func TypeName(v any) string {
	switch canon(v).(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case *Object:
		return "object"
	}
	return "unknown"
}
