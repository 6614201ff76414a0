// Package hostile builds the worst-case request payloads that sfnd must handle in time
// linear in their size: huge flat arrays, deep nesting, unterminated nesting, long
// strings, wide objects and very large definitions. Benchmarks and the smoke tests of
// several packages share them, so every layer is measured on the same inputs.
package hostile

import (
	"fmt"
	"strings"
)

// MaxInput is AWS's limit on an execution input (256 KiB).
const MaxInput = 256 * 1024

// MaxDefinition is AWS's limit on a definition (1 MiB).
const MaxDefinition = 1 << 20

// MaxDepth is the deepest nesting sfnd accepts in a definition or an input
// (validate.MaxNestingDepth).
const MaxDepth = 10000

// Case is one named payload.
type Case struct {
	Name string
	Text string
	// Valid says whether Text is syntactically valid JSON.
	Valid bool
}

// EmptyObjects is a JSON array of n empty objects: "[{},{},...]".
func EmptyObjects(n int) string {
	var b strings.Builder
	b.Grow(3*n + 2)
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("{}")
	}
	b.WriteByte(']')
	return b.String()
}

// Realistic is an input of about size bytes that looks like real data: an object with an
// array of records holding strings (escapes and non-ASCII included), numbers, booleans,
// nulls and small nested objects and arrays.
func Realistic(size int) string {
	var b strings.Builder
	b.Grow(size + 512)
	b.WriteString(`{"batchId":"b-0001","source":"s3://bucket/key.json","items":[`)
	for i := 0; b.Len() < size-300; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item \"%d\" caf\u00e9 \u2713","price":%d.%02d,"tags":["a","b\\n","c/%d"],`+
			`"active":%t,"note":null,"dims":{"w":%d,"h":%d,"unit":"cm"}}`,
			i, i, i%1000, i%100, i, i%2 == 0, i%37, i%41)
	}
	b.WriteString(`],"count":1}`)
	return b.String()
}

// OpenArrays is n opening brackets and nothing else: "[[[[...".
func OpenArrays(n int) string { return strings.Repeat("[", n) }

// OpenObjects is n unterminated nested objects: `{"a":{"a":{"a":...`.
func OpenObjects(n int) string { return strings.Repeat(`{"a":`, n) }

// DeepArrays is n nested arrays, closed: "[[[...]]]".
func DeepArrays(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// DeepObjects is n nested objects, closed: `{"a":{"a":...1...}}`.
func DeepObjects(n int) string {
	return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
}

// WideObject is one object with n distinct keys.
func WideObject(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

// DuplicateKeys is one object in which the key "k" appears n times.
func DuplicateKeys(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k":%d`, i)
	}
	b.WriteByte('}')
	return b.String()
}

// EscapedString is one JSON string of n escaped characters.
func EscapedString(n int) string {
	return `"` + strings.Repeat(`\u00e9`, n) + `"`
}

// LongString is one JSON string of n plain characters.
func LongString(n int) string { return `"` + strings.Repeat("x", n) + `"` }

// Inputs are execution inputs of at most MaxInput bytes, each a worst case of its kind.
// The first four are the cases of issue 10.
func Inputs() []Case {
	return []Case{
		{"empty-objects-87000", EmptyObjects(87000), true},
		{"realistic-256k", Realistic(256000), true},
		{"open-arrays-100000", OpenArrays(100000), false},
		{"open-arrays-max", OpenArrays(MaxInput), false},
		{"open-objects-max", OpenObjects(MaxInput / 5), false},
		{"deep-arrays-limit", DeepArrays(MaxDepth), true},
		{"deep-objects-limit", DeepObjects(MaxDepth), true},
		{"deep-arrays-max", DeepArrays(MaxInput / 2), false},
		{"deep-objects-max", DeepObjects((MaxInput - 1) / 6), false},
		{"wide-object-max", WideObject(MaxInput / 14), true},
		{"duplicate-keys-max", DuplicateKeys(MaxInput / 10), true},
		{"escaped-string-max", EscapedString(MaxInput/6 - 1), true},
		{"long-string-max", LongString(MaxInput - 2), true},
		{"trailing-garbage-max", EmptyObjects(MaxInput/3-1) + "x", false},
		{"late-error-max", strings.TrimSuffix(EmptyObjects(MaxInput/3-1), "]") + ",}", false},
	}
}

// PassChain is a valid definition of n Pass states, each passing to the next.
func PassChain(n int) string {
	var b strings.Builder
	b.WriteString(`{"Comment":"a long chain","StartAt":"S0","States":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if i == n-1 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Result":{"i":%d},"ResultPath":"$.last","End":true}`, i, i)
		} else {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Result":{"i":%d},"ResultPath":"$.last","Next":"S%d"}`, i, i, i+1)
		}
	}
	b.WriteString(`}}`)
	return b.String()
}

// ChoiceFan is a valid definition whose first state is a Choice with n rules, each to
// its own Pass state.
func ChoiceFan(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"C","States":{"C":{"Type":"Choice","Default":"P0","Choices":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"Variable":"$.v","NumericEquals":%d,"Next":"P%d"}`, i, i)
	}
	b.WriteString(`]}`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `,"P%d":{"Type":"Pass","End":true}`, i)
	}
	b.WriteString(`}}`)
	return b.String()
}

// BigResult is a valid one-state definition whose Pass Result is a realistic value of
// about size bytes.
func BigResult(size int) string {
	return `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":` + Realistic(size) + `,"End":true}}}`
}

// deepResult is a one-state definition whose Pass Result is n nested objects.
func deepResult(n int) string {
	return `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true,"Result":` + DeepObjects(n) + `}}}`
}

// Definitions are definitions of at most MaxDefinition bytes, each a worst case of its
// kind. The first is the case of issue 10.
func Definitions() []Case {
	return []Case{
		{"pass-chain-10000", PassChain(10000), true},
		{"pass-chain-max", PassChain(12000), true},
		{"choice-fan-5000", ChoiceFan(5000), true},
		{"big-result-max", BigResult(MaxInput - 1000), true},
		{"open-arrays-max", OpenArrays(MaxDefinition), false},
		{"open-objects-max", OpenObjects(MaxDefinition / 5), false},
		{"deep-result-limit", deepResult(MaxDepth - 3), true},
		{"deep-result-max", deepResult(MaxDefinition/6 - 20), false},
	}
}
