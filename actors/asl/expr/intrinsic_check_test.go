package expr

import (
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/errors"
)

func TestCheckIntrinsic(t *testing.T) {
	refused := []string{
		// the case: a string where States.MathAdd documents a number
		`States.MathAdd(1, '-1')`,
		`States.MathAdd(true, 1)`,
		`States.MathAdd(null, 1)`,
		`States.MathAdd(States.UUID(), 1)`, // a nested call's documented result type
		`States.ArrayRange('a', 1, 2)`,
		`States.ArrayRange(1.5, 3, 1)`, // "integer values for all of the arguments"
		`States.ArrayRange(1, 3, 0)`,   // "a non-zero value for the third argument"
		`States.ArrayRange(0, 1000, 1)`,
		`States.ArrayRange(1, 9, 2, 1)`, // arity
		`States.ArrayRange(1, 9)`,
		`States.UUID(1)`,
		`States.StringToJson()`,
		`States.StringToJson(1)`,
		`States.JsonToString($.a, $.b)`,
		`States.ArrayPartition('abc', 2)`,
		`States.ArrayPartition($.a, 0)`,
		`States.ArrayPartition($.a, -1)`,
		`States.ArrayPartition($.a, '2')`,
		`States.ArrayContains(1, 1)`,
		`States.ArrayGetItem($.a, 'x')`,
		`States.ArrayGetItem('abc', 1)`,
		`States.ArrayLength('abc')`,
		`States.ArrayLength(States.Format('{}', $.a))`,
		`States.ArrayUnique(42)`,
		`States.Base64Encode(123)`,
		`States.Base64Decode(false)`,
		`States.Base64Encode('` + strings.Repeat("x", MaxBase64InputChars+1) + `')`,
		`States.Hash($.a, 'SHA-3')`,
		`States.Hash($.a, 256)`,
		`States.Hash(1, 'MD5')`,
		`States.JsonMerge($.a, 'b', false)`,
		`States.JsonMerge($.a, $.b, true)`,
		`States.JsonMerge($.a, $.b, 'false')`,
		`States.JsonMerge($.a, $.b)`,
		`States.MathRandom('1', 10)`,
		`States.MathRandom(1, 10, 'seed')`,
		`States.MathRandom(1)`,
		`States.StringSplit($.a, 1)`,
		`States.StringSplit(States.Array(1), ',')`,
		`States.Format(1, $.a)`,
		`States.Format('{} and {}', $.a)`, // placeholders and arguments differ
		`States.Format('no placeholder', $.a)`,
		`States.Format()`,
		`States.Array(States.MathAdd(1, 'x'))`, // nested calls are checked too
	}
	for _, s := range refused {
		err := CheckIntrinsic(s)
		if err == nil {
			t.Errorf("%.80s: accepted", s)
			continue
		}
		if !errors.Is(err, ErrIntrinsicStatic) {
			t.Errorf("%.80s: %v is not marked ErrIntrinsicStatic", s, err)
		}
	}
	accepted := []string{
		`States.MathAdd(1, -1)`,
		`States.MathAdd($.a, 1.5)`,
		`States.MathAdd(States.ArrayLength($.a), 1)`,
		`States.MathAdd(States.ArrayGetItem($.a, 0), 1)`, // result type unknown
		`States.MathAdd(States.StringToJson($.a), 1)`,
		`States.ArrayRange(1, 9, 2)`,
		`States.ArrayRange(1, 1000, 1)`,
		`States.ArrayRange(10, 1, -1)`,
		`States.ArrayRange($.a, $.b, $.c)`,
		`States.ArrayRange(1, $.b, 1)`,
		`States.ArrayPartition($.a, 2)`,
		`States.ArrayPartition(States.Array(1, 2, 3), 2)`,
		`States.ArrayPartition(States.ArrayRange(1, 10, 1), 2.5)`, // rounding is AWS's business at run time
		`States.ArrayContains(States.StringSplit('a,b', ','), 'a')`,
		`States.ArrayGetItem($.a, 0)`,
		`States.ArrayGetItem(States.ArrayUnique($.a), States.ArrayLength($.b))`,
		`States.Base64Encode('abc')`,
		`States.Base64Decode(States.Base64Encode($.a))`,
		`States.Hash($.a, 'SHA-256')`,
		`States.Hash(States.JsonToString($.a), $.alg)`,
		`States.JsonMerge($.a, $.b, false)`,
		`States.JsonMerge(States.JsonMerge($.a, $.b, false), States.StringToJson($.c), false)`,
		`States.MathRandom(1, 10)`,
		`States.MathRandom(1, 10, 7)`,
		`States.StringSplit($.a, ',')`,
		`States.Format('{} and {}', $.a, $.b)`,
		`States.Format('escaped \{} is not a placeholder')`,
		`States.Format($.template, $.a, $.b)`,
		`States.Format('{}', States.Array(1, 'a', true, null))`,
		`States.JsonToString('a literal')`,
		`States.Array()`,
		`States.Array(1, 'a', true, null, $.a, States.UUID())`,
		`States.UUID()`,
		`States.StringToJson('{"a": 1}')`,
	}
	for _, s := range accepted {
		if err := CheckIntrinsic(s); err != nil {
			t.Errorf("%.80s: refused: %v", s, err)
		}
	}
	// Syntax errors stay syntax errors.
	if err := CheckIntrinsic(`States.MathAdd(1,`); err == nil || errors.Is(err, ErrIntrinsicStatic) || !errors.Is(err, ErrSyntax) {
		t.Errorf("syntax error: %v", err)
	}
}

// TestCheckIntrinsicIsSound: a call CheckIntrinsic refuses can never succeed. For
// generated calls whose arguments are all known statically (literals and nested calls), the
// result does not depend on the input, so "refused" must imply "evaluation fails" — the
// validator refuses nothing the interpreter could run. It also counts both verdicts, so the
// generator cannot silently produce only one kind.
func TestCheckIntrinsicIsSound(t *testing.T) {
	r := rand.New(rand.NewSource(18))
	names := make([]string, 0, len(intrinsics))
	for n := range intrinsics {
		names = append(names, n)
	}
	// a fixed order, so that the seed reproduces the same calls
	sort.Strings(names)
	literals := []string{`'a'`, `'a,b'`, `'{}'`, `'{} {}'`, `'{"k": 1}'`, `'[1,2]'`, `'MD5'`, `'SHA-256'`,
		`'SGVsbG8='`, `''`, `0`, `1`, `2`, `-1`, `2.5`, `999`, `1001`, `true`, `false`, `null`}
	var gen func(depth int) string
	gen = func(depth int) string {
		name := names[r.Intn(len(names))]
		n := r.Intn(5)
		if lim := intrinsics[name]; r.Intn(4) > 0 && lim[1] >= 0 {
			n = lim[0] + r.Intn(lim[1]-lim[0]+1) // mostly the right arity
		}
		args := make([]string, n)
		for i := range args {
			if depth < 3 && r.Intn(4) == 0 {
				args[i] = gen(depth + 1)
			} else {
				args[i] = literals[r.Intn(len(literals))]
			}
		}
		return name + "(" + strings.Join(args, ", ") + ")"
	}
	var refused, accepted int
	for i := 0; i < 20000; i++ {
		s := gen(0)
		cerr := CheckIntrinsic(s)
		if cerr == nil {
			accepted++
			continue
		}
		refused++
		v, err := EvalIntrinsic(s, Env{Rand: &seqRand{}})
		if err == nil {
			t.Fatalf("%s: refused statically (%v), but evaluates to %v", s, cerr, v)
		}
	}
	if refused < 1000 || accepted < 1000 {
		t.Fatalf("generator is lopsided: %d refused, %d accepted", refused, accepted)
	}
}
