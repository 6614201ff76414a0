package asl

import (
	"encoding/json"
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics, whatever the definition text, and that a
// definition it accepts parses the same way twice.
func FuzzParse(f *testing.F) {
	raw, err := os.ReadFile("validate/testdata/corpus_accepted.json")
	if err != nil {
		f.Fatal(err)
	}
	var cases []struct{ Definition string }
	if err := json.Unmarshal(raw, &cases); err != nil {
		f.Fatal(err)
	}
	for i, c := range cases {
		if i%5 == 0 {
			f.Add(c.Definition)
		}
	}
	f.Add(`{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`)
	f.Add(`{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.input %}","End":true}}}`)
	f.Fuzz(func(t *testing.T, def string) {
		sm, err := Parse(def)
		if err != nil {
			return
		}
		if _, err := Parse(def); err != nil {
			t.Fatalf("second parse of an accepted definition failed: %v", err)
		}
		// An accepted definition starts a fresh execution without panicking.
		_ = NewExecution(sm)
	})
}
