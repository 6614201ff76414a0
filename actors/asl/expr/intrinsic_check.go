package expr

import (
	"unicode/utf8"

	"github.com/cockroachdb/errors"
)

// This file is the static half of the intrinsic functions: what can be known about a call
// before it runs. Definition validation refuses a call whose argument count, or the type of
// an argument whose value is known at definition time (a literal, or the result of a nested
// call), contradicts what the AWS Step Functions developer guide documents for the function
// ("Intrinsic functions for JSONPath states", the "Input validation" part of each function).
// Path arguments are unknown until run time and are never judged here, and nothing is
// refused that the evaluator (intrinsic.go) would not refuse for every input: a call
// CheckIntrinsic refuses can never succeed (TestCheckIntrinsicIsSound).

// ErrIntrinsicStatic marks an error of CheckIntrinsic that is about arguments, not syntax.
var ErrIntrinsicStatic = errors.New("intrinsic function call refused statically")

// valueType is what is known of a value at definition time.
type valueType int

const (
	typeUnknown valueType = iota // a path, or a function whose result can be anything
	typeString
	typeNumber
	typeBoolean
	typeNull
	typeArray
	typeObject
)

func (t valueType) String() string {
	return [...]string{"unknown", "a string", "a number", "a boolean", "null", "an array", "an object"}[t]
}

// intrinsicResults is the documented result type of each function.
var intrinsicResults = map[string]valueType{
	"States.Format":         typeString,
	"States.StringToJson":   typeUnknown,
	"States.JsonToString":   typeString,
	"States.Array":          typeArray,
	"States.ArrayPartition": typeArray,
	"States.ArrayContains":  typeBoolean,
	"States.ArrayRange":     typeArray,
	"States.ArrayGetItem":   typeUnknown,
	"States.ArrayLength":    typeNumber,
	"States.ArrayUnique":    typeArray,
	"States.Base64Encode":   typeString,
	"States.Base64Decode":   typeString,
	"States.Hash":           typeString,
	"States.JsonMerge":      typeObject,
	"States.MathRandom":     typeNumber,
	"States.MathAdd":        typeNumber,
	"States.StringSplit":    typeArray,
	"States.UUID":           typeString,
}

// intrinsicParams is the documented type of each argument, by position; a function with a
// variable number of arguments lists only the fixed ones (typeUnknown: any value).
var intrinsicParams = map[string][]valueType{
	"States.Format":         {typeString},
	"States.StringToJson":   {typeString},
	"States.ArrayPartition": {typeArray, typeNumber},
	"States.ArrayContains":  {typeArray, typeUnknown},
	"States.ArrayRange":     {typeNumber, typeNumber, typeNumber},
	"States.ArrayGetItem":   {typeArray, typeNumber},
	"States.ArrayLength":    {typeArray},
	"States.ArrayUnique":    {typeArray},
	"States.Base64Encode":   {typeString},
	"States.Base64Decode":   {typeString},
	"States.Hash":           {typeString, typeString},
	"States.JsonMerge":      {typeObject, typeObject, typeBoolean},
	"States.MathRandom":     {typeNumber, typeNumber, typeNumber},
	"States.MathAdd":        {typeNumber, typeNumber},
	"States.StringSplit":    {typeString, typeString},
}

// hashAlgorithms are the algorithms States.Hash documents.
var hashAlgorithms = map[string]bool{"MD5": true, "SHA-1": true, "SHA-256": true, "SHA-384": true, "SHA-512": true}

// CheckIntrinsic parses s like ParseIntrinsic and then checks, for every call in it, the
// number of arguments and every argument whose type or value is known at definition time
// against what the function documents. It returns nil when the call may succeed for some
// input. Errors about arguments are marked ErrIntrinsicStatic.
func CheckIntrinsic(s string) error {
	n, err := parseIntrinsic(s)
	if err != nil {
		return err
	}
	if err := n.check(); err != nil {
		return errors.Mark(err, ErrIntrinsicStatic)
	}
	return nil
}

func (n *inode) staticType() valueType {
	switch n.kind {
	case nString:
		return typeString
	case nNumber:
		return typeNumber
	case nBool:
		return typeBoolean
	case nNull:
		return typeNull
	case nCall:
		return intrinsicResults[n.name]
	}
	return typeUnknown
}

func (n *inode) check() error {
	if n.kind != nCall {
		return nil
	}
	lim := intrinsics[n.name]
	if len(n.args) < lim[0] || (lim[1] >= 0 && len(n.args) > lim[1]) {
		return n.failf("expected %s but got %d", argCount(lim), len(n.args))
	}
	for _, a := range n.args {
		if err := a.check(); err != nil {
			return err
		}
	}
	for i, want := range intrinsicParams[n.name] {
		if i >= len(n.args) || want == typeUnknown {
			continue
		}
		if got := n.args[i].staticType(); got != typeUnknown && got != want {
			return n.failf("argument %d must be %s, but is %s", i+1, want, got)
		}
	}
	return n.checkValues()
}

// literalInt is the value of a number literal argument, and whether it is an integer.
func (n *inode) literalInt() (int64, bool) {
	if n.kind != nNumber {
		return 0, false
	}
	return intArg(n.num)
}

// literalFloat is the value of a number literal argument.
func (n *inode) literalFloat() (float64, bool) {
	if n.kind != nNumber {
		return 0, false
	}
	f, err := n.num.Float64()
	return f, err == nil
}

// checkValues checks the documented constraints on literal argument values.
func (n *inode) checkValues() error {
	a := n.args
	switch n.name {
	case "States.Format":
		// "There must be as many remaining arguments in the Invocation as there are
		// occurrences of {}" (Amazon States Language specification).
		if a[0].kind == nString {
			if p := placeholders(a[0].raw); p != len(a)-1 {
				return n.failf("the number of arguments (%d) does not match the number of placeholders (%d)", len(a)-1, p)
			}
		}
	case "States.ArrayPartition":
		// "You must specify a non-zero, positive integer for the second argument."
		if f, ok := a[1].literalFloat(); ok && f <= 0 {
			return n.failf("the chunk size must be a positive integer")
		}
	case "States.ArrayRange":
		// "You must specify integer values for all of the arguments. You must specify a
		// non-zero value for the third argument. The newly generated array can't contain
		// more than 1000 items."
		var v [3]int64
		known := true
		for i := range v {
			if a[i].kind != nNumber {
				known = false
				continue
			}
			x, ok := a[i].literalInt()
			if !ok {
				return n.failf("argument %d must be an integer", i+1)
			}
			v[i] = x
		}
		if a[2].kind == nNumber && v[2] == 0 {
			return n.failf("the step must not be 0")
		}
		if known {
			start, end, step := v[0], v[1], v[2]
			count := int64(0)
			if (step > 0 && end >= start) || (step < 0 && end <= start) {
				count = (end-start)/step + 1
			}
			if count > MaxArrayRangeItems {
				return n.failf("the array range must not exceed %d elements", MaxArrayRangeItems)
			}
		}
	case "States.Base64Encode", "States.Base64Decode":
		if a[0].kind == nString && utf8.RuneCountInString(a[0].str) > MaxBase64InputChars {
			return n.failf("the input must not exceed %d characters", MaxBase64InputChars)
		}
	case "States.Hash":
		if a[0].kind == nString && utf8.RuneCountInString(a[0].str) > MaxHashInputChars {
			return n.failf("the data must not exceed %d characters", MaxHashInputChars)
		}
		if a[1].kind == nString && !hashAlgorithms[a[1].str] {
			return n.failf("the hash algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512")
		}
	case "States.JsonMerge":
		// Only a shallow merge is supported: "you must set the boolean value to false".
		if a[2].kind == nBool && a[2].b {
			return n.failf("deep merge is not supported, the third argument must be false")
		}
	}
	return nil
}

// placeholders counts the "{}" of a States.Format template literal (raw text, escapes
// kept), as format does.
func placeholders(raw string) int {
	count := 0
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '\\' && i+1 < len(raw):
			i++
		case raw[i] == '{' && i+1 < len(raw) && raw[i+1] == '}':
			count++
			i++
		}
	}
	return count
}
