package asl

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"

	"github.com/sfnd/sfnd/actors/asl/expr"
)

// evalRule evaluates a JSONPath Choice rule against env.
func evalRule(r *Rule, env expr.Env) (bool, error) {
	switch {
	case r.And != nil:
		for _, s := range r.And {
			ok, err := evalRule(s, env)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for _, s := range r.Or {
			ok, err := evalRule(s, env)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := evalRule(r.Not, env)
		return !ok && err == nil, err
	}
	v, found, err := expr.Lookup(r.Variable, env)
	if err != nil {
		return false, err
	}
	op := r.Op
	operand := r.Operand
	if strings.HasSuffix(op, "Path") {
		p, _ := operand.(string)
		ov, ofound, err := expr.Lookup(p, env)
		if err != nil {
			return false, err
		}
		if !ofound {
			return false, nil
		}
		operand = ov
		op = strings.TrimSuffix(op, "Path")
	}
	if op == "IsPresent" {
		want, _ := operand.(bool)
		return found == want, nil
	}
	if !found {
		return false, nil
	}
	switch op {
	case "IsNull":
		want, _ := operand.(bool)
		return (v == nil) == want, nil
	case "IsNumeric":
		want, _ := operand.(bool)
		_, is := v.(json.Number)
		return is == want, nil
	case "IsString":
		want, _ := operand.(bool)
		_, is := v.(string)
		return is == want, nil
	case "IsBoolean":
		want, _ := operand.(bool)
		_, is := v.(bool)
		return is == want, nil
	case "IsTimestamp":
		want, _ := operand.(bool)
		s, is := v.(string)
		if is {
			_, is = parseTimestamp(s)
		}
		return is == want, nil
	case "BooleanEquals":
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b, nil
	case "StringMatches":
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		return ok1 && ok2 && stringMatches(a, b), nil
	}
	switch {
	case strings.HasPrefix(op, "Numeric"):
		if a, b, ok := int64Pair(v, operand); ok {
			return compareOp(strings.TrimPrefix(op, "Numeric"), cmpInt64(a, b)), nil
		}
		a, ok1 := numberOf(v)
		b, ok2 := numberOf(operand)
		if !ok1 || !ok2 {
			return false, nil
		}
		return compareOp(strings.TrimPrefix(op, "Numeric"), a.Cmp(b)), nil
	case strings.HasPrefix(op, "String"):
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		return compareOp(strings.TrimPrefix(op, "String"), strings.Compare(a, b)), nil
	case strings.HasPrefix(op, "Timestamp"):
		as, ok1 := v.(string)
		bs, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		a, ok1 := parseTimestamp(as)
		b, ok2 := parseTimestamp(bs)
		if !ok1 || !ok2 {
			return false, nil
		}
		return compareOp(strings.TrimPrefix(op, "Timestamp"), a.Compare(b)), nil
	}
	return false, nil
}

// int64Pair returns two numbers that are both integers in int64's range, which compare
// exactly as numberOf's 200-bit floats do, without building those.
func int64Pair(x, y any) (int64, int64, bool) {
	xn, ok1 := x.(json.Number)
	yn, ok2 := y.(json.Number)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	a, err1 := strconv.ParseInt(string(xn), 10, 64)
	b, err2 := strconv.ParseInt(string(yn), 10, 64)
	return a, b, err1 == nil && err2 == nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func numberOf(v any) (*big.Float, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	f, _, err := big.ParseFloat(string(n), 10, 200, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	return f, true
}

func compareOp(op string, c int) bool {
	switch op {
	case "Equals":
		return c == 0
	case "GreaterThan":
		return c > 0
	case "GreaterThanEquals":
		return c >= 0
	case "LessThan":
		return c < 0
	case "LessThanEquals":
		return c <= 0
	}
	return false
}

// stringMatches matches s against a StringMatches pattern: "*" matches any run of
// characters, "\*" a literal star and "\\" a literal backslash.
func stringMatches(s, pattern string) bool {
	type tok struct {
		star bool
		r    rune
	}
	var toks []tok
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		if rs[i] == '\\' && i+1 < len(rs) {
			toks = append(toks, tok{r: rs[i+1]})
			i++
			continue
		}
		toks = append(toks, tok{star: rs[i] == '*', r: rs[i]})
	}
	str := []rune(s)
	// Greedy wildcard matching with backtracking to the last star.
	si, ti, starT, starS := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].r == str[si]:
			si++
			ti++
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case starT >= 0:
			ti = starT + 1
			starS++
			si = starS
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}
