package validate

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// The corpus files are copied from the AWS-recorded conformance corpus by
// testdata/extract_corpus.py.

type rejectedCase struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"` // create | validate
	Definition  string `json:"definition"`
	Message     string `json:"message"`
	Result      string `json:"result"`
	Diagnostics []struct {
		Severity string `json:"severity"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		Location string `json:"location"`
	} `json:"diagnostics"`
}

func loadJSON(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatal(err)
	}
}

// TestCorpusRejected replays every definition AWS refused (or judged) in the corpus and
// compares the exact message or diagnostics AWS returned.
func TestCorpusRejected(t *testing.T) {
	var cases []rejectedCase
	loadJSON(t, "testdata/corpus_rejected.json", &cases)
	if len(cases) == 0 {
		t.Fatal("no corpus cases")
	}
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			diags := Validate(c.Definition)
			switch c.Kind {
			case "create":
				if !HasErrors(diags) {
					t.Fatalf("accepted; AWS said %q", c.Message)
				}
				if got := InvalidDefinitionMessage(diags); got != c.Message {
					t.Errorf("message\n got: %s\nwant: %s", got, c.Message)
				}
			case "validate":
				rep := Summarize(diags, "", 0)
				if rep.Result != c.Result || rep.Truncated {
					t.Errorf("result %s truncated %v, want %s false (diags %+v)", rep.Result, rep.Truncated, c.Result, diags)
				}
				var want []Diagnostic
				for _, d := range c.Diagnostics {
					want = append(want, Diagnostic(d))
				}
				got := rep.Diagnostics
				if len(got) == 0 && len(want) == 0 {
					return
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("diagnostics\n got: %+v\nwant: %+v", got, want)
				}
			default:
				t.Fatalf("unknown kind %q", c.Kind)
			}
		})
	}
}

// TestCorpusAccepted checks that no definition AWS accepted is refused.
func TestCorpusAccepted(t *testing.T) {
	var cases []struct {
		ID         string `json:"id"`
		Definition string `json:"definition"`
	}
	loadJSON(t, "testdata/corpus_accepted.json", &cases)
	if len(cases) < 200 {
		t.Fatalf("only %d accepted definitions", len(cases))
	}
	for _, c := range cases {
		if diags := Validate(c.Definition); HasErrors(diags) {
			t.Errorf("%s: AWS accepted this definition but Validate refuses it: %s\n%s",
				c.ID, InvalidDefinitionMessage(diags), c.Definition)
		}
	}
}

// TestCorpusAcceptedStates checks the single states AWS accepted in TestState: wrapped in a
// machine of their own, they must raise no schema error (their Next may name a state that
// TestState does not need, so graph findings are not judged).
func TestCorpusAcceptedStates(t *testing.T) {
	var cases []struct {
		ID         string          `json:"id"`
		Definition json.RawMessage `json:"definition"`
	}
	loadJSON(t, "testdata/corpus_accepted_states.json", &cases)
	if len(cases) < 20 {
		t.Fatalf("only %d accepted states", len(cases))
	}
	for _, c := range cases {
		var state string
		if err := json.Unmarshal(c.Definition, &state); err != nil {
			t.Fatal(err)
		}
		def := `{"StartAt":"StateName","States":{"StateName":` + state + `}}`
		for _, d := range Validate(def) {
			if d.Severity == SeverityError && d.Code != CodeMissingTransitionTarget && d.Code != CodeMissingEndState {
				t.Errorf("%s: AWS accepted this state but Validate refuses it: %+v\n%s", c.ID, d, state)
			}
		}
	}
}
