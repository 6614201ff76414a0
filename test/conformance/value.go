package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/errors"
)

// The normaliser works on a small model of Python values, because the Python
// harness's verdicts depend on Python semantics: dicts keep insertion order (the
// order in which references are registered numbers the <uuid:N> placeholders),
// ints and floats are distinct types (1 != 1.0 in the comparison), and
// json.dumps text is what the regular-expression replacements run on.
//
// A value is one of:
//
//	nil          None / null
//	bool         True / False
//	pyInt        a Python int, as canonical decimal text
//	float64      a Python float
//	string       a Python str
//	*pyList      a Python list (pointer: lists are mutated in place, as in Python)
//	*pyObject    a Python dict with insertion order
//	pyDatetime   a datetime.datetime (what botocore makes of timestamp members)

// pyInt is a Python int held as its canonical decimal text ("-12", "0").
type pyInt string

// pyDatetime is a timezone-aware datetime, as botocore returns timestamp members.
type pyDatetime struct{ T time.Time }

// pyList is a Python list.
type pyList struct{ Items []any }

// pyObject is a Python dict: string keys in insertion order.
type pyObject struct {
	keys []string
	vals map[string]any
}

// newObject returns an empty pyObject.
func newObject() *pyObject { return &pyObject{vals: map[string]any{}} }

// Len is the number of keys.
func (o *pyObject) Len() int { return len(o.keys) }

// Keys returns the keys in insertion order (a copy).
func (o *pyObject) Keys() []string { return append([]string(nil), o.keys...) }

// Get returns the value under k.
func (o *pyObject) Get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// Has reports whether k is present.
func (o *pyObject) Has(k string) bool { _, ok := o.vals[k]; return ok }

// Set assigns k; a new key goes last, an existing key keeps its position.
func (o *pyObject) Set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// Delete removes k.
func (o *pyObject) Delete(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, kk := range o.keys {
		if kk == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// Pop removes k and returns its value.
func (o *pyObject) Pop(k string) any {
	v := o.vals[k]
	o.Delete(k)
	return v
}

// newList returns a list holding items.
func newList(items ...any) *pyList { return &pyList{Items: items} }

// deepCopy copies containers recursively (copy.deepcopy).
func deepCopy(v any) any {
	switch x := v.(type) {
	case *pyObject:
		o := &pyObject{keys: append([]string(nil), x.keys...), vals: make(map[string]any, len(x.vals))}
		for k, vv := range x.vals {
			o.vals[k] = deepCopy(vv)
		}
		return o
	case *pyList:
		l := &pyList{Items: make([]any, len(x.Items))}
		for i, vv := range x.Items {
			l.Items[i] = deepCopy(vv)
		}
		return l
	}
	return v
}

// ---- parsing (json.loads) ---------------------------------------------------------

// parseJSON decodes JSON text like Python's json.loads: objects keep key order,
// integers become pyInt, other numbers float64.
func parseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("extra data after JSON value")
	}
	return v, nil
}

func parseJSONString(s string) (any, error) { return parseJSON([]byte(s)) }

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return decodeFrom(dec, tok)
}

func decodeFrom(dec *json.Decoder, tok json.Token) (any, error) {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				v, err := decodeValue(dec)
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
			l := &pyList{Items: []any{}}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				l.Items = append(l.Items, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, errors.Newf("unexpected delimiter %v", t)
	case json.Number:
		return numberValue(string(t)), nil
	case string, bool, nil:
		return t, nil
	}
	return nil, errors.Newf("unexpected token %v", tok)
}

func numberValue(s string) any {
	if !strings.ContainsAny(s, ".eE") {
		neg := strings.HasPrefix(s, "-")
		d := strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")
		if d == "" {
			return pyInt("0")
		}
		if neg {
			return pyInt("-" + d)
		}
		return pyInt(d)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Out of range: Python gives +-inf (or 0.0 for underflow, which ParseFloat also returns).
		return f
	}
	return f
}

// fromGo converts values built with encoding/json types (map[string]any is not
// ordered, so only used for literals in tests) and Go scalars into the model.
func fromGo(v any) any {
	switch x := v.(type) {
	case int:
		return pyInt(strconv.Itoa(x))
	case int64:
		return pyInt(strconv.FormatInt(x, 10))
	case []any:
		l := &pyList{Items: make([]any, len(x))}
		for i, e := range x {
			l.Items[i] = fromGo(e)
		}
		return l
	}
	return v
}

// ---- dumping (json.dumps) ---------------------------------------------------------

// dumpOptions selects how non-JSON values are rendered: botocore datetimes become
// str(dt) in snapshot_transform (default=str) and isoformat() in the parallel
// transformer's sort key.
type dumpMode int

const (
	dumpStr dumpMode = iota
	dumpISO
)

// pyDumps renders v like Python's json.dumps(v) (ensure_ascii, ", " and ": ").
func pyDumps(v any, mode dumpMode) string {
	var b strings.Builder
	writeDump(&b, v, mode)
	return b.String()
}

func writeDump(b *strings.Builder, v any, mode dumpMode) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case pyInt:
		b.WriteString(string(x))
	case float64:
		switch {
		case math.IsNaN(x):
			b.WriteString("NaN")
		case math.IsInf(x, 1):
			b.WriteString("Infinity")
		case math.IsInf(x, -1):
			b.WriteString("-Infinity")
		default:
			b.WriteString(pyFloatRepr(x))
		}
	case string:
		writeDumpString(b, x)
	case pyDatetime:
		if mode == dumpISO {
			writeDumpString(b, x.isoformat())
		} else {
			writeDumpString(b, x.str())
		}
	case *pyList:
		b.WriteByte('[')
		for i, e := range x.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeDump(b, e, mode)
		}
		b.WriteByte(']')
	case *pyObject:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeDumpString(b, k)
			b.WriteString(": ")
			writeDump(b, x.vals[k], mode)
		}
		b.WriteByte('}')
	default:
		writeDumpString(b, fmt.Sprint(x))
	}
}

func writeDumpString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r >= 0x20 && r <= 0x7e {
				b.WriteRune(r)
			} else if r == utf8.RuneError || r < 0x10000 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			}
		}
	}
	b.WriteByte('"')
}

// pyFloatRepr is Python's repr(float) for a finite value.
func pyFloatRepr(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddddde±XX
	neg := strings.HasPrefix(e, "-")
	e = strings.TrimPrefix(e, "-")
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -5 && exp < 16 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			} else {
				out = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
		// Python switches to exponent notation below 1e-4.
		if exp < -4 {
			out = ""
		}
	}
	if out == "" {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		out = fmt.Sprintf("%se%s%02d", m, sign, exp)
	}
	if neg {
		return "-" + out
	}
	return out
}

// str is Python's str(datetime) for a botocore timestamp (UTC).
func (d pyDatetime) str() string {
	t := d.T.UTC()
	s := t.Format("2006-01-02 15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

// isoformat is Python's datetime.isoformat().
func (d pyDatetime) isoformat() string {
	return strings.Replace(d.str(), " ", "T", 1)
}

// ---- str() / repr() -------------------------------------------------------------

// pyStr is Python's str(v).
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if d, ok := v.(pyDatetime); ok {
		return d.str()
	}
	return pyRepr(v)
}

// pyRepr is Python's repr(v).
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case pyInt:
		return string(x)
	case float64:
		switch {
		case math.IsNaN(x):
			return "nan"
		case math.IsInf(x, 1):
			return "inf"
		case math.IsInf(x, -1):
			return "-inf"
		}
		return pyFloatRepr(x)
	case string:
		return pyStrRepr(x)
	case pyDatetime:
		t := x.T.UTC()
		parts := []string{strconv.Itoa(t.Year()), strconv.Itoa(int(t.Month())), strconv.Itoa(t.Day()),
			strconv.Itoa(t.Hour()), strconv.Itoa(t.Minute())}
		if t.Second() != 0 || t.Nanosecond() != 0 {
			parts = append(parts, strconv.Itoa(t.Second()))
		}
		if t.Nanosecond() != 0 {
			parts = append(parts, strconv.Itoa(t.Nanosecond()/1000))
		}
		return "datetime.datetime(" + strings.Join(parts, ", ") + ", tzinfo=tzlocal())"
	case *pyList:
		s := make([]string, len(x.Items))
		for i, e := range x.Items {
			s[i] = pyRepr(e)
		}
		return "[" + strings.Join(s, ", ") + "]"
	case *pyObject:
		s := make([]string, len(x.keys))
		for i, k := range x.keys {
			s[i] = pyStrRepr(k) + ": " + pyRepr(x.vals[k])
		}
		return "{" + strings.Join(s, ", ") + "}"
	}
	return fmt.Sprint(v)
}

func pyStrRepr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyTypeName is type(v).__name__.
func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case pyInt:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case *pyList:
		return "list"
	case *pyObject:
		return "dict"
	case pyDatetime:
		return "datetime"
	}
	return fmt.Sprintf("%T", v)
}

// pyEqual is Python ==, used for scalars and for list.remove-like checks.
func pyEqual(a, b any) bool {
	switch x := a.(type) {
	case *pyObject:
		y, ok := b.(*pyObject)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, k := range x.keys {
			yv, ok := y.vals[k]
			if !ok || !pyEqual(x.vals[k], yv) {
				return false
			}
		}
		return true
	case *pyList:
		y, ok := b.(*pyList)
		if !ok || len(x.Items) != len(y.Items) {
			return false
		}
		for i := range x.Items {
			if !pyEqual(x.Items[i], y.Items[i]) {
				return false
			}
		}
		return true
	case pyDatetime:
		y, ok := b.(pyDatetime)
		return ok && x.T.Equal(y.T)
	}
	// numbers: bool, pyInt and float compare by value in Python
	if an, ok := pyNumber(a); ok {
		if bn, ok := pyNumber(b); ok {
			return an == bn
		}
		return false
	}
	return a == b
}

func pyNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case pyInt:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f, true
	case float64:
		return x, true
	}
	return 0, false
}
