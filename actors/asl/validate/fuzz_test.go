package validate

import (
	"encoding/json"
	"os"
	"sort"
	"testing"
)

// FuzzValidate checks that Validate never panics and that its verdict is stable, whatever
// the definition text.
func FuzzValidate(f *testing.F) {
	raw, err := os.ReadFile("testdata/corpus_accepted.json")
	if err != nil {
		f.Fatal(err)
	}
	var cases []struct{ Definition string }
	if err := json.Unmarshal(raw, &cases); err != nil {
		f.Fatal(err)
	}
	for i, c := range cases {
		if i%10 == 0 {
			f.Add(c.Definition)
		}
	}
	f.Add(`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"And":[{"Not":{}}]}]}}}`)
	f.Add(`{"StartAt":"A","States":{"A":{"Type":"Map","ItemReader":{"ReaderConfig":[]},"ResultWriter":{"WriterConfig":1}}}}`)
	f.Fuzz(func(t *testing.T, def string) {
		diags := Validate(def)
		again := Validate(def)
		if HasErrors(diags) != HasErrors(again) || len(diags) != len(again) {
			t.Fatalf("unstable verdict for %q", def)
		}
		_ = InvalidDefinitionMessage(diags)
	})
}

// TestTruncatedDefinitionsDoNotPanic feeds every prefix of a few corpus definitions.
func TestTruncatedDefinitionsDoNotPanic(t *testing.T) {
	var cases []struct{ Definition string }
	loadJSON(t, "testdata/corpus_accepted.json", &cases)
	for i := 0; i < len(cases); i += 20 {
		d := cases[i].Definition
		for n := 0; n <= len(d); n++ {
			if diags := Validate(d[:n]); n < len(d) && len(diags) == 0 && n > 0 {
				// A strict prefix of an object is never a complete object.
				t.Errorf("prefix %q accepted", d[:n])
			}
		}
	}
}

// TestTypeConfusionDoesNotPanic replaces, one at a time, every value of some corpus
// definitions with a value of each JSON type, and validates the result.
func TestTypeConfusionDoesNotPanic(t *testing.T) {
	var cases []struct{ Definition string }
	loadJSON(t, "testdata/corpus_accepted.json", &cases)
	replacements := []any{nil, 1.5, -3.0, "x", "{% %}", []any{}, []any{"a"}, map[string]any{}, true}
	for i := 0; i < len(cases); i += 7 {
		var doc any
		if err := json.Unmarshal([]byte(cases[i].Definition), &doc); err != nil {
			t.Fatal(err)
		}
		var slots []func(any)
		var collect func(v any)
		collect = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				keys := make([]string, 0, len(x))
				for k := range x {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					slots = append(slots, func(r any) { x[k] = r })
					collect(x[k])
				}
			case []any:
				for j, c := range x {
					slots = append(slots, func(r any) { x[j] = r })
					collect(c)
				}
			}
		}
		collect(doc)
		for s := range slots {
			for _, r := range replacements {
				var fresh any
				_ = json.Unmarshal([]byte(cases[i].Definition), &fresh)
				slots = slots[:0]
				collect(fresh)
				slots[s](r)
				b, _ := json.Marshal(fresh)
				_ = InvalidDefinitionMessage(Validate(string(b)))
			}
		}
	}
}
