package expr

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/recolabs/gnata"
)

// ErrNameQueryEvaluation is the AWS error of a failed JSONata evaluation.
const ErrNameQueryEvaluation = "States.QueryEvaluationError"

// JSONataEnv is what a JSONata expression of a state can see: the $states object
// (input, context, and result or errorOutput where the field allows them), the
// variables in scope, the trigger's clock ($now, $millis) and its recorded randomness
// ($random, $uuid, $shuffle).
type JSONataEnv struct {
	States *Object
	Vars   map[string]any
	Rand   Rand
	Now    time.Time
	// Limits bound the evaluation (zero fields: DefaultLimits).
	Limits Limits
}

// IsJSONata reports whether s is a JSONata expression string: "{% ... %}".
func IsJSONata(s string) bool {
	return len(s) >= 4 && strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}")
}

// JSONataBody returns the expression text of a "{% ... %}" string, trimmed.
func JSONataBody(s string) string {
	if !IsJSONata(s) {
		return s
	}
	return strings.TrimSpace(s[2 : len(s)-2])
}

// EvalJSONataTemplate evaluates a JSONata-state field value (Output, Arguments, Assign,
// ItemSelector, Items ...): every string "{% expr %}" anywhere in it is replaced by the
// value of expr; other values are copied. field names the field in AWS's messages;
// nested keys extend it ("Output/result").
func EvalJSONataTemplate(tmpl any, field string, env JSONataEnv) (any, error) {
	switch t := canon(tmpl).(type) {
	case string:
		if IsJSONata(t) {
			return EvalJSONata(t, field, env)
		}
		return t, nil
	case *Object:
		out := NewObject(t.Len())
		for k, v := range t.All() {
			r, err := EvalJSONataTemplate(v, field+"/"+k, env)
			if err != nil {
				return nil, err
			}
			out.Set(k, r)
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			r, err := EvalJSONataTemplate(v, field+"["+strconv.Itoa(i)+"]", env)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	default:
		return t, nil
	}
}

var compiled sync.Map // expression text -> *gnata.Expression

func compileJSONata(src string) (*gnata.Expression, error) {
	if e, ok := compiled.Load(src); ok {
		return e.(*gnata.Expression), nil
	}
	e, err := gnata.Compile(src)
	if err != nil {
		return nil, err
	}
	compiled.Store(src, e)
	return e, nil
}

// CheckJSONata reports whether a "{% ... %}" string holds an expression that parses.
func CheckJSONata(s string) error {
	_, err := compileJSONata(JSONataBody(s))
	return err
}

// EvalJSONata evaluates one "{% expr %}" string (or bare expression text). An undefined
// result, a function result or an evaluation error fail with
// States.QueryEvaluationError and AWS's cause text.
func EvalJSONata(s, field string, env JSONataEnv) (any, error) {
	src := JSONataBody(s)
	fail := func(format string, a ...any) error {
		return &Error{Name: ErrNameQueryEvaluation, Location: field,
			Cause: fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' ", src, field) + fmt.Sprintf(format, a...)}
	}
	e, err := compileJSONata(src)
	if err != nil {
		return nil, fail("threw an error during evaluation. %s", jsonataMessage(err))
	}
	genv := gnata.NewCustomEnv(nil)
	for name, fn := range awsFunctions(env) {
		genv.Bind(name, fn)
	}
	var input any
	if env.States != nil {
		if v, ok := env.States.Get("input"); ok {
			input = toGnata(v)
		}
		genv.Bind("states", toGnata(env.States))
	}
	for k, v := range env.Vars {
		genv.Bind(k, toGnata(v))
	}
	res, err := e.EvalWithCustomFuncs(newBudget(env.Limits), input, genv)
	if err != nil {
		var lim *LimitError
		if errors.As(err, &lim) {
			return nil, fail("threw an error during evaluation. %s", lim.Error())
		}
		return nil, fail("threw an error during evaluation. %s", jsonataMessage(err))
	}
	if res == nil {
		return nil, fail("returned nothing (undefined).")
	}
	v, ok := fromGnata(res)
	if !ok {
		return nil, fail("returned an unsupported result type.")
	}
	return v, nil
}

func jsonataMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i > 0 && i <= 6 {
		// "T2001: message" -> "message"
		return msg[i+2:]
	}
	return msg
}

// toGnata converts a value of this package into gnata's representation (ordered maps,
// json.Number, its null sentinel).
func toGnata(v any) any {
	g, err := gnata.DecodeJSON(json.RawMessage(Marshal(v)))
	if err != nil {
		return nil
	}
	return g
}

type orderedMap interface {
	Keys() []string
	Get(key string) (any, bool)
}

// fromGnata converts a gnata result into this package's values; false for values JSON
// cannot hold (functions, regular expressions).
func fromGnata(v any) (any, bool) {
	if v == nil || gnata.IsNull(v) {
		return nil, true
	}
	switch t := v.(type) {
	case bool, string, json.Number:
		return t, true
	case float64:
		return floatResult(t)
	case int:
		return json.Number(strconv.Itoa(t)), true
	case int64:
		return json.Number(strconv.FormatInt(t, 10)), true
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			if e == nil {
				continue // undefined members vanish from a JSONata array
			}
			c, ok := fromGnata(e)
			if !ok {
				return nil, false
			}
			out = append(out, c)
		}
		return out, true
	case orderedMap:
		o := NewObject(len(t.Keys()))
		for _, k := range t.Keys() {
			e, _ := t.Get(k)
			if e == nil {
				continue
			}
			c, ok := fromGnata(e)
			if !ok {
				return nil, false
			}
			o.Set(k, c)
		}
		return o, true
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := NewObject(len(keys))
		for _, k := range keys {
			if t[k] == nil {
				continue
			}
			c, ok := fromGnata(t[k])
			if !ok {
				return nil, false
			}
			o.Set(k, c)
		}
		return o, true
	}
	// A *Sequence of gnata's evaluator: collapse it as JSONata does.
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.Elem().Kind() == reflect.Struct {
		if vals := rv.Elem().FieldByName("Values"); vals.IsValid() && vals.Kind() == reflect.Slice {
			items, _ := vals.Interface().([]any)
			keep := false
			if k := rv.Elem().FieldByName("KeepSingleton"); k.IsValid() && k.Kind() == reflect.Bool {
				keep = k.Bool()
			}
			switch {
			case len(items) == 0:
				return nil, true
			case len(items) == 1 && !keep:
				return fromGnata(items[0])
			}
			return fromGnata(items)
		}
	}
	return nil, false
}

// floatResult renders a computed number: integral values as integers (as AWS prints
// them), others as doubles.
func floatResult(f float64) (any, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64)), true
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
}

// builtinType is the function type gnata's evaluator calls for built-ins (an internal
// named type, reached through a registered built-in).
var builtinType = func() reflect.Type {
	fn, ok := gnata.NewCustomEnv(nil).Lookup("sum")
	if !ok {
		return nil
	}
	return reflect.TypeOf(fn)
}()

func builtin(fn func(args []any, focus any) (any, error)) any {
	if builtinType == nil {
		return gnata.CustomFunc(fn)
	}
	return reflect.ValueOf(fn).Convert(builtinType).Interface()
}

func qeError(format string, a ...any) error {
	return &Error{Name: ErrNameQueryEvaluation, Cause: fmt.Sprintf(format, a...)}
}

// awsFunctions are the functions AWS Step Functions adds to JSONata, and replacements
// for the standard ones that read the clock or draw random numbers, so that a replay
// reproduces them.
func awsFunctions(env JSONataEnv) map[string]any {
	rnd := func() float64 {
		if env.Rand == nil {
			return 0
		}
		return float64(env.Rand.Uint64()>>11) / float64(1<<53)
	}
	arg := func(args []any, i int) (any, bool) {
		if i >= len(args) || args[i] == nil {
			return nil, false
		}
		v, ok := fromGnata(args[i])
		return v, ok
	}
	num := func(args []any, i int) (float64, bool) {
		v, ok := arg(args, i)
		if !ok {
			return 0, false
		}
		n, isNum := v.(json.Number)
		if !isNum {
			return 0, false
		}
		f, err := n.Float64()
		return f, err == nil
	}
	return map[string]any{
		"partition": builtin(func(args []any, _ any) (any, error) {
			v, ok := arg(args, 0)
			arr, isArr := v.([]any)
			if !ok || !isArr {
				return nil, qeError("The first argument of $partition must be an array")
			}
			size, ok := num(args, 1)
			if !ok || size <= 0 || size != math.Trunc(size) {
				return nil, qeError("The second argument of $partition must be a positive integer")
			}
			n := int(size)
			out := []any{}
			for i := 0; i < len(arr); i += n {
				end := min(i+n, len(arr))
				out = append(out, toGnata(arr[i:end]))
			}
			return out, nil
		}),
		"range": builtin(func(args []any, _ any) (any, error) {
			start, ok1 := num(args, 0)
			end, ok2 := num(args, 1)
			step, ok3 := num(args, 2)
			if !ok1 || !ok2 || !ok3 || step == 0 || start != math.Trunc(start) || end != math.Trunc(end) || step != math.Trunc(step) {
				return nil, qeError("The arguments of $range must be integers and the step must not be zero")
			}
			out := []any{}
			for x := start; (step > 0 && x <= end) || (step < 0 && x >= end); x += step {
				out = append(out, json.Number(strconv.FormatFloat(x, 'f', -1, 64)))
				if len(out) > 1000 {
					return nil, qeError("The result of $range exceeds 1000 items")
				}
			}
			if len(out) == 1 {
				return out[0], nil
			}
			return out, nil
		}),
		"hash": builtin(func(args []any, _ any) (any, error) {
			v, ok := arg(args, 0)
			alg, _ := arg(args, 1)
			if !ok {
				return nil, qeError("The first argument of $hash must be defined")
			}
			s, isStr := v.(string)
			if !isStr {
				s = Marshal(v)
			}
			var h hash.Hash
			switch a, _ := alg.(string); a {
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
				return nil, qeError("The hashing algorithm '%v' is not supported. Supported algorithms: MD5, SHA-1, SHA-256, SHA-384, SHA-512", alg)
			}
			h.Write([]byte(s))
			return hex.EncodeToString(h.Sum(nil)), nil
		}),
		"random": builtin(func(args []any, _ any) (any, error) {
			if seed, ok := num(args, 0); ok {
				r := splitRand(uint64(int64(seed)))
				return float64(r.Uint64()>>11) / float64(1<<53), nil
			}
			return rnd(), nil
		}),
		"uuid": builtin(func(args []any, _ any) (any, error) {
			var a, b uint64
			if env.Rand != nil {
				a, b = env.Rand.Uint64(), env.Rand.Uint64()
			}
			a = (a &^ (0xf << 12)) | (4 << 12)
			b = (b &^ (0x3 << 62)) | (0x2 << 62)
			return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff), nil
		}),
		"parse": builtin(func(args []any, _ any) (any, error) {
			v, ok := arg(args, 0)
			s, isStr := v.(string)
			if !ok || !isStr {
				return nil, qeError("The argument of $parse must be a string")
			}
			g, err := gnata.DecodeJSON(json.RawMessage(s))
			if err != nil {
				return nil, qeError("The argument of $parse is not valid JSON: %s", s)
			}
			return g, nil
		}),
		"shuffle": builtin(func(args []any, _ any) (any, error) {
			v, ok := arg(args, 0)
			if !ok {
				return nil, nil
			}
			arr, isArr := v.([]any)
			if !isArr {
				arr = []any{v}
			}
			out := append([]any(nil), arr...)
			for i := len(out) - 1; i > 0; i-- {
				j := int(rnd() * float64(i+1))
				out[i], out[j] = out[j], out[i]
			}
			return toGnata(out), nil
		}),
		"now": builtin(func(args []any, _ any) (any, error) {
			return env.Now.UTC().Format("2006-01-02T15:04:05.000Z"), nil
		}),
		"millis": builtin(func(args []any, _ any) (any, error) {
			return float64(env.Now.UnixMilli()), nil
		}),
	}
}

// splitRand is a SplitMix64 source for $random(seed).
type splitRand uint64

func (s *splitRand) Uint64() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
