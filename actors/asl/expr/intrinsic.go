package expr

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cockroachdb/errors"
)

// Limits AWS applies to intrinsic function arguments and results.
const (
	MaxArrayRangeItems  = 1000  // States.ArrayRange result size
	MaxBase64InputChars = 10000 // States.Base64Encode input / Base64Decode input
	MaxHashInputChars   = 10000 // States.Hash input
)

// intrinsics maps each function to its [min, max] argument count (max -1: unbounded).
var intrinsics = map[string][2]int{
	"States.Format":         {1, -1},
	"States.StringToJson":   {1, 1},
	"States.JsonToString":   {1, 1},
	"States.Array":          {0, -1},
	"States.ArrayPartition": {2, 2},
	"States.ArrayContains":  {2, 2},
	"States.ArrayRange":     {3, 3},
	"States.ArrayGetItem":   {2, 2},
	"States.ArrayLength":    {1, 1},
	"States.ArrayUnique":    {1, 1},
	"States.Base64Encode":   {1, 1},
	"States.Base64Decode":   {1, 1},
	"States.Hash":           {2, 2},
	"States.JsonMerge":      {3, 3},
	"States.MathRandom":     {2, 3},
	"States.MathAdd":        {2, 2},
	"States.StringSplit":    {2, 2},
	"States.UUID":           {0, 0},
}

type nodeKind int

const (
	nCall nodeKind = iota
	nString
	nNumber
	nBool
	nNull
	nPath
)

// inode is a parsed intrinsic function call or argument.
type inode struct {
	kind nodeKind
	name string   // nCall: "States.Format"
	args []*inode // nCall
	str  string   // nString: value with escapes resolved; nPath: the path text
	raw  string   // nString: text between the quotes, escapes kept (States.Format needs it)
	num  json.Number
	b    bool
	ref  *ref // nPath
}

var intrinsicCache sync.Map // string -> *inode

// argNotFound is the failure of a path argument that selects nothing.
type argNotFound struct{ path string }

func (e *argNotFound) Error() string { return "path " + e.path + " selects nothing" }

// ParseIntrinsic checks that s is a well-formed intrinsic function call (known function,
// string literals with only the escapes \' \{ \} \\, valid path arguments). Definition
// validation uses it; argument counts and types are checked when the call is evaluated.
func ParseIntrinsic(s string) error {
	_, err := parseIntrinsic(s)
	return err
}

// IsIntrinsic reports whether s is a well-formed intrinsic function call.
func IsIntrinsic(s string) bool { return ParseIntrinsic(s) == nil }

func parseIntrinsic(s string) (*inode, error) {
	if n, ok := intrinsicCache.Load(s); ok {
		return n.(*inode), nil
	}
	p := &iparser{s: s}
	p.space()
	n, err := p.call()
	if err == nil {
		p.space()
		if p.pos != len(p.s) {
			err = p.fail("unexpected text after the function call")
		}
	}
	if err != nil {
		return nil, err
	}
	intrinsicCache.Store(s, n)
	return n, nil
}

type iparser struct {
	s   string
	pos int
}

func (p *iparser) fail(why string) error {
	return errors.Mark(newError(ErrNameRuntime, "Invalid intrinsic function call '%s': %s at position %d", p.s, why, p.pos), ErrSyntax)
}

func (p *iparser) space() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\n\r", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *iparser) call() (*inode, error) {
	if !strings.HasPrefix(p.s[p.pos:], "States.") {
		return nil, p.fail("expected a function name")
	}
	start := p.pos
	p.pos += len("States.")
	for p.pos < len(p.s) && isAlnum(p.s[p.pos]) {
		p.pos++
	}
	name := p.s[start:p.pos]
	if _, ok := intrinsics[name]; !ok {
		p.pos = start
		return nil, p.fail("unknown function '" + name + "'")
	}
	p.space()
	if p.pos >= len(p.s) || p.s[p.pos] != '(' {
		return nil, p.fail("expected '('")
	}
	p.pos++
	n := &inode{kind: nCall, name: name}
	p.space()
	if p.pos < len(p.s) && p.s[p.pos] == ')' {
		p.pos++
		return n, nil
	}
	for {
		p.space()
		a, err := p.arg()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, a)
		p.space()
		if p.pos >= len(p.s) {
			return nil, p.fail("expected ')'")
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return n, nil
		default:
			return nil, p.fail("expected ',' or ')'")
		}
	}
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *iparser) arg() (*inode, error) {
	if p.pos >= len(p.s) {
		return nil, p.fail("expected an argument")
	}
	rest := p.s[p.pos:]
	c := rest[0]
	switch {
	case c == '\'':
		return p.stringLit()
	case c == '$':
		return p.pathArg()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case strings.HasPrefix(rest, "States."):
		return p.call()
	}
	for _, kw := range []string{"true", "false", "null"} {
		if strings.HasPrefix(rest, kw) && (len(rest) == len(kw) || !isAlnum(rest[len(kw)])) {
			p.pos += len(kw)
			if kw == "null" {
				return &inode{kind: nNull}, nil
			}
			return &inode{kind: nBool, b: kw == "true"}, nil
		}
	}
	return nil, p.fail("invalid argument")
}

func (p *iparser) stringLit() (*inode, error) {
	p.pos++ // opening quote
	start := p.pos
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch c {
		case '\\':
			if p.pos+1 >= len(p.s) || strings.IndexByte(`'{}\`, p.s[p.pos+1]) < 0 {
				return nil, p.fail("invalid escape sequence in a string literal")
			}
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
		case '\'':
			n := &inode{kind: nString, str: b.String(), raw: p.s[start:p.pos]}
			p.pos++
			return n, nil
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return nil, p.fail("unterminated string literal")
}

func (p *iparser) number() (*inode, error) {
	start := p.pos
	if p.s[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		s := p.pos
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
		}
		return p.pos - s
	}
	if digits() == 0 {
		return nil, p.fail("invalid number")
	}
	if p.pos < len(p.s) && p.s[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.fail("invalid number")
		}
	}
	if p.pos < len(p.s) && (p.s[p.pos] == 'e' || p.s[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.s) && (p.s[p.pos] == '+' || p.s[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.fail("invalid number")
		}
	}
	return &inode{kind: nNumber, num: json.Number(p.s[start:p.pos])}, nil
}

// pathArg reads a path up to the ',' or ')' that ends the argument.
func (p *iparser) pathArg() (*inode, error) {
	start := p.pos
	depth := 0
	var quote byte
loop:
	for ; p.pos < len(p.s); p.pos++ {
		c := p.s[p.pos]
		if quote != 0 {
			if c == '\\' {
				p.pos++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '[', '(':
			depth++
		case ']':
			depth--
		case ')':
			if depth == 0 {
				break loop
			}
			depth--
		case ',':
			if depth == 0 {
				break loop
			}
		}
	}
	if p.pos > len(p.s) {
		p.pos = len(p.s) // a backslash ending the text inside a quote stepped past it
	}
	text := strings.TrimRight(p.s[start:p.pos], " \t\n\r")
	r, perr := compileRef(text)
	if perr != nil {
		p.pos = start
		return nil, p.fail("invalid path '" + text + "': " + perr.msg)
	}
	return &inode{kind: nPath, str: text, ref: r}, nil
}

// EvalIntrinsic evaluates an intrinsic function call such as
// "States.Format('Hello {}', $.name)" against env. Path arguments are evaluated like
// Query. Failures are *Error: States.Runtime for a call that does not parse (ErrSyntax)
// and for a path argument that selects nothing (ErrNotFound), States.IntrinsicFailure for
// arguments a function does not accept.
func EvalIntrinsic(expr string, env Env) (any, error) {
	v, err := evalIntrinsic(expr, env)
	if err != nil {
		var nf *argNotFound
		if errors.As(err, &nf) {
			return nil, errors.Mark(fieldNotFound(nf.path, expr, env), ErrNotFound)
		}
		return nil, err
	}
	return v, nil
}

// evalIntrinsic is EvalIntrinsic with a path argument's miss left as *argNotFound.
func evalIntrinsic(expr string, env Env) (any, error) {
	n, err := parseIntrinsic(expr)
	if err != nil {
		return nil, err
	}
	if env.budget == nil {
		env.budget = newBudget(env.Limits)
	}
	return n.eval(env)
}

func (n *inode) eval(env Env) (any, error) {
	switch n.kind {
	case nString:
		return n.str, nil
	case nNumber:
		return n.num, nil
	case nBool:
		return n.b, nil
	case nNull:
		return nil, nil
	case nPath:
		v, perr := n.ref.eval(env)
		if perr != nil {
			return nil, &argNotFound{path: n.str}
		}
		return v, nil
	}
	lim := intrinsics[n.name]
	if len(n.args) < lim[0] || (lim[1] >= 0 && len(n.args) > lim[1]) {
		return nil, n.failf("expected %s but got %d", argCount(lim), len(n.args))
	}
	args := make([]any, len(n.args))
	for i, a := range n.args {
		v, err := a.eval(env)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	// What the call may produce is charged before it runs: the text of its arguments
	// for the functions that turn them into text, their items for the others.
	for _, a := range args {
		cost := shallowSize(a)
		switch n.name {
		case "States.Format", "States.JsonToString", "States.Hash", "States.Base64Encode",
			"States.ArrayUnique", "States.ArrayContains": // text produced, or compared in full
			cost = textSize(a, env.budget.Left())
		}
		if err := env.budget.Charge(cost); err != nil {
			return nil, n.failf("%s", err.Error())
		}
	}
	return n.apply(args, env)
}

// textSize is about the size of v's JSON text, or a number over limit once it is
// known to be over limit; it walks no further than that.
func textSize(v any, limit int) int {
	n := 0
	var walk func(v any) bool
	walk = func(v any) bool {
		switch t := canon(v).(type) {
		case string:
			n += len(t) + 2
		case json.Number:
			n += len(t)
		case []any:
			n += 2 + len(t)
			for _, e := range t {
				if n > limit || !walk(e) {
					return false
				}
			}
		case *Object:
			n += 2
			for k, e := range t.All() {
				n += len(k) + 4
				if n > limit || !walk(e) {
					return false
				}
			}
		default:
			n += 5
		}
		return n <= limit
	}
	walk(v)
	return n
}

// shallowSize is what producing a copy of v costs at least: its text, or 16 bytes per
// item or member.
func shallowSize(v any) int {
	switch t := canon(v).(type) {
	case string:
		return len(t)
	case []any:
		return 16 * len(t)
	case *Object:
		return 16 * t.Len()
	}
	return 0
}

func argCount(lim [2]int) string {
	switch {
	case lim[1] < 0:
		return fmt.Sprintf("at least %d arguments", lim[0])
	case lim[0] == lim[1]:
		if lim[0] == 1 {
			return "1 argument"
		}
		return fmt.Sprintf("%d arguments", lim[0])
	default:
		return fmt.Sprintf("%d to %d arguments", lim[0], lim[1])
	}
}

func (n *inode) failf(format string, a ...any) *Error {
	return newError(ErrNameIntrinsicFailure, "Invalid arguments in %s: %s", n.name, fmt.Sprintf(format, a...))
}

func (n *inode) apply(args []any, env Env) (any, error) {
	switch n.name {
	case "States.Format":
		return n.format(args)
	case "States.StringToJson":
		s, ok := args[0].(string)
		if !ok {
			return nil, n.failf("the argument must be a string but was %s", TypeName(args[0]))
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		v, err := ParseJSON(s)
		if err != nil {
			return nil, n.failf("the string is not valid JSON: %s", s)
		}
		return v, nil
	case "States.JsonToString":
		return Marshal(args[0]), nil
	case "States.Array":
		return append([]any{}, args...), nil
	case "States.ArrayPartition":
		a, ok := args[0].([]any)
		if !ok {
			return nil, n.failf("the first argument must be an array")
		}
		size, ok := intArg(args[1])
		if !ok || size <= 0 {
			return nil, n.failf("the chunk size must be a positive integer")
		}
		out := []any{}
		for i := int64(0); i < int64(len(a)); i += size {
			out = append(out, append([]any{}, a[i:min(i+size, int64(len(a)))]...))
		}
		return out, nil
	case "States.ArrayContains":
		a, ok := args[0].([]any)
		if !ok {
			return nil, n.failf("the first argument must be an array")
		}
		for _, e := range a {
			if Equal(e, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		var v [3]int64
		for i := range v {
			x, ok := intArg(args[i])
			if !ok {
				return nil, n.failf("the arguments must be integers")
			}
			v[i] = x
		}
		start, end, step := v[0], v[1], v[2]
		if step == 0 {
			return nil, n.failf("the step must not be 0")
		}
		count := int64(0)
		if (step > 0 && end >= start) || (step < 0 && end <= start) {
			count = (end-start)/step + 1
		}
		if count > MaxArrayRangeItems {
			return nil, n.failf("the array range must not exceed %d elements", MaxArrayRangeItems)
		}
		out := make([]any, 0, count)
		for i := int64(0); i < count; i++ {
			out = append(out, json.Number(strconv.FormatInt(start+i*step, 10)))
		}
		return out, nil
	case "States.ArrayGetItem":
		a, ok := args[0].([]any)
		if !ok {
			return nil, n.failf("the first argument must be an array")
		}
		i, ok := intArg(args[1])
		if !ok || i < 0 {
			return nil, n.failf("the index must be a non-negative integer")
		}
		if i >= int64(len(a)) {
			return nil, n.failf("the index %d is out of bounds for an array of length %d", i, len(a))
		}
		return a[i], nil
	case "States.ArrayLength":
		a, ok := args[0].([]any)
		if !ok {
			return nil, n.failf("the argument must be an array")
		}
		return json.Number(strconv.Itoa(len(a))), nil
	case "States.ArrayUnique":
		a, ok := args[0].([]any)
		if !ok {
			return nil, n.failf("the argument must be an array")
		}
		// Values are bucketed by a key that equal values share, so the check is
		// linear rather than quadratic in the array's length.
		out := []any{}
		seen := map[string][]any{}
	outer:
		for _, e := range a {
			k := equalKey(e)
			for _, prev := range seen[k] {
				if Equal(prev, e) {
					continue outer
				}
			}
			seen[k] = append(seen[k], e)
			out = append(out, e)
		}
		return out, nil
	case "States.Base64Encode":
		s, ok := args[0].(string)
		if !ok {
			return nil, n.failf("the argument must be a string")
		}
		if utf8.RuneCountInString(s) > MaxBase64InputChars {
			return nil, n.failf("the input must not exceed %d characters", MaxBase64InputChars)
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, ok := args[0].(string)
		if !ok {
			return nil, n.failf("the argument must be a string")
		}
		if utf8.RuneCountInString(s) > MaxBase64InputChars {
			return nil, n.failf("the input must not exceed %d characters", MaxBase64InputChars)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, n.failf("the argument is not valid base64")
		}
		return string(b), nil
	case "States.Hash":
		s, ok := args[0].(string)
		if !ok {
			return nil, n.failf("the data must be a string")
		}
		if utf8.RuneCountInString(s) > MaxHashInputChars {
			return nil, n.failf("the data must not exceed %d characters", MaxHashInputChars)
		}
		alg, _ := args[1].(string)
		var h hash.Hash
		switch alg {
		case "MD5":
			h = md5.New()
		case "SHA-1":
			h = sha1.New()
		case "SHA-256":
			h = sha256.New()
		case "SHA-384":
			h = sha512.New384()
		case "SHA-512":
			h = sha512.New()
		default:
			return nil, n.failf("the hash algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512")
		}
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)), nil
	case "States.JsonMerge":
		a, ok1 := args[0].(*Object)
		b, ok2 := args[1].(*Object)
		if !ok1 || !ok2 {
			return nil, n.failf("the first two arguments must be JSON objects")
		}
		deep, ok := args[2].(bool)
		if !ok {
			return nil, n.failf("the third argument must be a boolean")
		}
		if deep {
			return nil, n.failf("deep merge is not supported, the third argument must be false")
		}
		out := a.shallowCopy()
		for k, v := range b.All() {
			out.Set(k, v)
		}
		return out, nil
	case "States.MathRandom":
		lo, ok1 := roundArg(args[0])
		hi, ok2 := roundArg(args[1])
		if !ok1 || !ok2 {
			return nil, n.failf("the start and end must be numbers")
		}
		if hi <= lo {
			return nil, n.failf("the end must be greater than the start")
		}
		span := hi - lo
		if len(args) == 3 {
			seed, ok := intArg(args[2])
			if !ok {
				return nil, n.failf("the seed must be an integer")
			}
			if span > math.MaxInt32 {
				return nil, n.failf("the range is too large")
			}
			return json.Number(strconv.FormatInt(lo+int64(newJavaRandom(seed).nextInt(int32(span))), 10)), nil
		}
		if env.Rand == nil {
			return nil, n.failf("no random source")
		}
		return json.Number(strconv.FormatInt(lo+int64(env.Rand.Uint64()%uint64(span)), 10)), nil
	case "States.MathAdd":
		a, ok1 := roundArg(args[0])
		b, ok2 := roundArg(args[1])
		if !ok1 || !ok2 {
			return nil, n.failf("the arguments must be numbers")
		}
		return json.Number(strconv.FormatInt(a+b, 10)), nil
	case "States.StringSplit":
		s, ok1 := args[0].(string)
		d, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, n.failf("the arguments must be strings")
		}
		parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(d, r) })
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "States.UUID":
		if env.Rand == nil {
			return nil, n.failf("no random source")
		}
		return uuidV4(env.Rand), nil
	}
	return nil, n.failf("unsupported function")
}

// format implements States.Format. In a literal template \{ and \} are literal braces;
// a template read from a path has no escapes.
func (n *inode) format(args []any) (any, error) {
	tmpl, ok := args[0].(string)
	if !ok {
		return nil, n.failf("the first argument must be a string")
	}
	escaped := n.args[0].kind == nString
	if escaped {
		tmpl = n.args[0].raw
	}
	var b strings.Builder
	used := 0
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if escaped && c == '\\' && i+1 < len(tmpl) {
			b.WriteByte(tmpl[i+1])
			i++
			continue
		}
		if c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}' {
			used++
			if used < len(args) {
				b.WriteString(javaString(args[used]))
			}
			i++
			continue
		}
		b.WriteByte(c)
	}
	if used != len(args)-1 {
		return nil, n.failf("the number of arguments (%d) does not match the number of placeholders (%d)", len(args)-1, used)
	}
	return b.String(), nil
}

// javaString renders a value as AWS's States.Format inserts it: strings as they are,
// other values as Java's toString of the decoded value ({a=1, b=[x, y]}).
func javaString(v any) string {
	switch t := canon(v).(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(t)
	case string:
		return t
	case json.Number:
		return FormatNumber(string(t))
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = javaString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *Object:
		parts := make([]string, 0, t.Len())
		for k, e := range t.All() {
			parts = append(parts, k+"="+javaString(e))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return Marshal(v)
}

// intArg reads an integral number argument.
func intArg(v any) (int64, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := num.Int64(); err == nil {
		return i, true
	}
	f, err := num.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// roundArg reads a number argument rounded as Java's Math.round (half up), which is how
// AWS turns States.MathAdd / States.MathRandom arguments into integers.
func roundArg(v any) (int64, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := num.Int64(); err == nil {
		return i, true
	}
	if bf, _, err := big.ParseFloat(string(num), 10, 200, big.ToNearestEven); err == nil && bf.IsInt() {
		if i, acc := bf.Int64(); acc == big.Exact {
			return i, true
		}
	}
	f, err := num.Float64()
	if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1<<62 {
		return 0, false
	}
	return int64(math.Floor(f + 0.5)), true
}

// uuidV4 builds a random (version 4) UUID from r.
func uuidV4(r Rand) string {
	var b [16]byte
	for i := 0; i < 2; i++ {
		x := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i*8+j] = byte(x >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// javaRandom is java.util.Random, used for seeded States.MathRandom so that a seed always
// gives the same number.
type javaRandom struct{ seed int64 }

const (
	javaMult = 0x5DEECE66D
	javaMask = (1 << 48) - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (seed ^ javaMult) & javaMask}
}

func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*javaMult + 0xB) & javaMask
	return int32(r.seed >> (48 - bits))
}

func (r *javaRandom) nextInt(bound int32) int32 {
	if bound&(-bound) == bound {
		return int32((int64(bound) * int64(r.next(31))) >> 31)
	}
	for {
		bits := r.next(31)
		val := bits % bound
		if bits-val+(bound-1) >= 0 {
			return val
		}
	}
}

// equalKey is a key that values Equal holds equal share: their JSON with object members
// sorted and numbers as doubles (values it conflates are told apart by Equal).
func equalKey(v any) string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch t := canon(v).(type) {
		case json.Number:
			f, err := t.Float64()
			if err != nil {
				b.WriteString(string(t))
				return
			}
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		case []any:
			b.WriteByte('[')
			for _, e := range t {
				walk(e)
				b.WriteByte(',')
			}
			b.WriteByte(']')
		case *Object:
			keys := make([]string, 0, t.Len())
			for k := range t.All() {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b.WriteByte('{')
			for _, k := range keys {
				e, _ := t.Get(k)
				b.WriteString(strconv.Quote(k))
				b.WriteByte(':')
				walk(e)
				b.WriteByte(',')
			}
			b.WriteByte('}')
		default:
			b.WriteString(Marshal(t))
		}
	}
	walk(v)
	return b.String()
}
