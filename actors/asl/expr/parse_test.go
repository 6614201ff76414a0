package expr

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
)

// parseCases are texts where fastParse must agree with encoding/json's decoder:
// payload shapes, every escape, numbers at the grammar's edges, and invalid texts.
var parseCases = []string{
	`{}`, `[]`, ` { "a" : [ 1 , 2.5 , -0 , 1e3 , 1E+3 , 1.5e-300 ] } `, `"x"`, `null`, `true`, `false`,
	`{"a":1,"a":2,"b":{"c":[{}]}}`, `{"k":"v\"\\\/\b\f\n\r\t\u00e9\u0000x"}`, `"\ud83d\ude00"`, `"\ud83d"`,
	`"\udc00x"`, `"é漢字😀"`, "\"\xff\"", "\"a\x01\"", `"\u12"`, `"\x"`, `0`, `-`, `01`, `1.`, `.5`, `1e`,
	`1e+`, `-01`, `00`, `1.0e10`, `123456789012345678901234567890`, `[1,]`, `{"a":1,}`, `{,}`, `[,1]`,
	`{"a"}`, `{"a":}`, `{a:1}`, `[1 2]`, `{"a":1 "b":2}`, `1 2`, `{} {}`, `[`, `{`, `"abc`, ``, `   `,
	`nul`, `truex`, `[true,false,null]`, "\ufeff{}", `{"a":[[[[[]]]]]}`, "\t[\r\n1\n]\t", `[1]x`, `{"":""}`,
	`"\u00"`, `"\uD834\uDD1E"`, `"\uD834\u0041"`, `"\/"`, `[-0.0,-1.5E-2]`, `{"a":"b\\"}`,
}

func sameParse(t *testing.T, s string) {
	t.Helper()
	want, werr := decodeJSON(s)
	got, ok := fastParse(s)
	if !ok {
		return // left to the decoder: ParseJSON gives the reference result
	}
	if werr != nil {
		t.Fatalf("fastParse(%q) accepted what the decoder rejects (%v)", s, werr)
	}
	if !reflect.DeepEqual(normalize(got), normalize(want)) {
		t.Fatalf("fastParse(%q) = %#v, decoder %#v", s, got, want)
	}
}

// normalize turns objects into comparable key/value lists (Object's internals, such as
// capacities and its key index, are not part of the value).
func normalize(v any) any {
	switch t := v.(type) {
	case *Object:
		var out []any
		for k, e := range t.All() {
			out = append(out, k, normalize(e))
		}
		return append([]any{"obj"}, out...)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

func TestFastParseMatchesDecoder(t *testing.T) {
	accepted := 0
	for _, s := range parseCases {
		sameParse(t, s)
		if _, ok := fastParse(s); ok {
			accepted++
		}
	}
	if accepted < 20 {
		t.Fatalf("fastParse took only %d of the cases", accepted)
	}
	// Mutations of valid texts: one byte changed, dropped or doubled.
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`{}[]",:\ -+.eE0123456789abcdefnrtuxl` + "\t\n\x00\xc3\xa9\xff")
	for _, base := range parseCases {
		for n := 0; n < 200 && len(base) > 0; n++ {
			b := []byte(base)
			i := r.IntN(len(b))
			switch r.IntN(3) {
			case 0:
				b[i] = alphabet[r.IntN(len(alphabet))]
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i+1], b[i:]...)
			}
			sameParse(t, string(b))
		}
	}
}

func TestObjectIndex(t *testing.T) {
	o := NewObject(0)
	for i := range 20 {
		o.Set(string(rune('a'+i)), i)
	}
	o.Set("c", "again")
	o.Delete("b")
	o.Delete("zz")
	if o.Len() != 19 {
		t.Fatalf("len %d", o.Len())
	}
	if v, _ := o.Get("c"); v != "again" {
		t.Fatalf("c = %v", v)
	}
	if _, ok := o.Get("b"); ok {
		t.Fatal("b still there")
	}
	if v, _ := o.Get("t"); v != 19 {
		t.Fatalf("t = %v", v)
	}
	for i := range 15 {
		o.Delete(string(rune('c' + i)))
	}
	if got := Marshal(o); got != `{"a":0,"r":17,"s":18,"t":19}` {
		t.Fatalf("after deletes: %s", got)
	}
	c := o.shallowCopy()
	c.Set("u", 1)
	if o.Len() != 4 || c.Len() != 5 {
		t.Fatalf("copy shares entries: %d %d", o.Len(), c.Len())
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range parseCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { sameParse(t, s) })
}

func TestMarshalCanonical(t *testing.T) {
	obj := func(kv ...any) *Object {
		o := NewObject(0)
		for i := 0; i < len(kv); i += 2 {
			o.Set(kv[i].(string), kv[i+1])
		}
		return o
	}
	cases := []struct {
		v     any
		canon bool
	}{
		{obj("a", json.Number("1"), "b", []any{"x", nil, true, obj()}), true},
		{obj("a", json.Number("1.5E300"), "s", "é\n\"\x01"), true},
		{json.Number("1.10"), false},
		{json.Number("-0"), false},
		{json.Number("abc"), false},
		{json.Number("NaN"), false},
		{"bad \xff", false},
		{obj("k\xff", "v"), false},
		{[]any(nil), false},
		{(*Object)(nil), false},
		{obj("n", 3), false},
		{map[string]any{"a": "b"}, false},
		{[]any{obj("x", []any{json.Number("2.0")})}, true},
		{[]any{obj("x", []any{json.Number("2.00")})}, false},
	}
	for _, c := range cases {
		text, canon := MarshalCanonical(c.v)
		if text != Marshal(c.v) {
			t.Fatalf("%#v: %q != Marshal %q", c.v, text, Marshal(c.v))
		}
		if canon != c.canon {
			t.Fatalf("%s: canonical %v, want %v", text, canon, c.canon)
		}
		if canon {
			back, err := ParseJSON(text)
			if err != nil || !reflect.DeepEqual(normalize(back), normalize(c.v)) {
				t.Fatalf("%s: parses back to %#v (%v)", text, back, err)
			}
		}
	}
}
