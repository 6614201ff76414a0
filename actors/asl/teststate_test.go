package asl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfnd/sfnd/events/fault"
)

// testStateFloor is the number of test_state cases of the corpus TestState must pass.
const testStateFloor = 52

type tsCase struct {
	ID       string                     `json:"id"`
	Kind     string                     `json:"kind"`
	Calls    []corpusCall               `json:"calls"`
	Expected map[string]json.RawMessage `json:"expected"`
	Skip     []string                   `json:"skip_snapshot_verify"`
}

// TestTestStateCorpus runs the corpus's TestState calls through TestState.
func TestTestStateCorpus(t *testing.T) {
	f, err := os.Open("testdata/aws-recorded.jsonl")
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	pass, fail, skip := 0, 0, 0
	for sc.Scan() {
		var c tsCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if c.Kind != "test_state" || len(c.Calls) != 1 {
			continue
		}
		got, ok := runTestStateCall(c.Calls[0].Args)
		if !ok {
			skip++
			continue
		}
		var exp map[string]any
		for k, raw := range c.Expected {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var v any
			_ = dec.Decode(&v)
			exp = map[string]any{k: v}
		}
		var key string
		for k := range exp {
			key = k
		}
		var actual any
		switch {
		case got["error"] != nil:
			actual = reshapeError(got, key)
		case got["exception"] != nil:
			actual = got["exception"]
		default:
			actual = got["test_case_response"]
		}
		actual = normaliseTS(actual)
		want := exp[key]
		for _, p := range c.Skip {
			removePath(want, p)
			removePath(actual, p)
		}
		if d := jsonDiff(want, actual, key); d != "" {
			fail++
			if os.Getenv("ASL_CORPUS_VERBOSE") != "" {
				t.Logf("FAIL %s\n    %s", c.ID, d)
			}
			continue
		}
		pass++
	}
	t.Logf("TestState corpus: %d passed, %d failed (%d skipped)", pass, fail, skip)
	if pass < testStateFloor {
		t.Errorf("TestState corpus: %d passed, below the floor of %d", pass, testStateFloor)
	}
}

func runTestStateCall(args map[string]json.RawMessage) (map[string]any, bool) {
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(args[k], &s)
		return s
	}
	var mock *TestStateMock
	if raw, ok := args["mock"]; ok {
		mock = &TestStateMock{}
		_ = json.Unmarshal(raw, mock)
	}
	if _, ok := args["stateName"]; ok && str("stateName") == "" {
		return map[string]any{"exception": map[string]any{"exception_typename": "ParamValidationError",
			"exception_value": "Parameter validation failed:\nInvalid length for parameter stateName, value: 0, valid min length: 1"}}, true
	}
	res, err := TestState(str("definition"), str("input"), TestStateOptions{
		StateName: str("stateName"), InspectionLevel: str("inspectionLevel"), Variables: str("variables"),
		Context: str("context"), Mock: mock, RoleArn: str("roleArn"), Region: "us-east-1", Account: "111111111111",
		Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Seed: 7,
	})
	if err != nil {
		fe, ok := fault.As(err)
		if !ok {
			return nil, false
		}
		return map[string]any{"error": map[string]any{"code": string(fe.Code), "message": fe.Message}}, true
	}
	b, _ := json.Marshal(res)
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	_ = dec.Decode(&m)
	m["ResponseMetadata"] = map[string]any{"HTTPHeaders": map[string]any{}, "HTTPStatusCode": json.Number("200")}
	return map[string]any{"test_case_response": m}, true
}

func reshapeError(got map[string]any, key string) any {
	e, ok := got["error"].(map[string]any)
	if !ok {
		if x, ok := got["exception"]; ok {
			return x
		}
		return nil
	}
	code, msg := e["code"].(string), e["message"].(string)
	if key == "exception" {
		return map[string]any{"exception_typename": code,
			"exception_value": "An error occurred (" + code + ") when calling the TestState operation: " + msg}
	}
	return map[string]any{"Error": map[string]any{"Code": code, "Message": msg}, "message": msg,
		"ResponseMetadata": map[string]any{"HTTPHeaders": map[string]any{}, "HTTPStatusCode": json.Number("400")}}
}

var arnRe = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:([a-zA-Z0-9-_.]+)?:([^:]+)?:(\d{12})?:(.*)`)

// normaliseTS applies the corpus normalisation of TestState snapshots: JSON strings
// starting with "{" parsed, ARN resource names numbered, partition and region masked.
func normaliseTS(v any) any {
	v = parseJSONStrings(v)
	var names []string
	seen := map[string]bool{}
	var walk func(x any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for _, k := range sortedKeys(t) {
				if s, ok := t[k].(string); ok {
					if m := arnRe.FindStringSubmatch(s); m != nil {
						res := m[5]
						if i := strings.LastIndex(res, ":"); i >= 0 {
							res = res[i+1:]
						}
						if !seen[res] {
							seen[res] = true
							names = append(names, res)
						}
					}
				}
				walk(t[k])
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	b, _ := json.Marshal(v)
	text := string(b)
	for i, n := range names {
		text = strings.ReplaceAll(text, n, "<resource:"+itoa(i+1)+">")
	}
	text = strings.ReplaceAll(text, "arn:aws:", "arn:<partition>:")
	text = strings.ReplaceAll(text, "us-east-1", "<region>")
	text = isoRe.ReplaceAllString(text, "date")
	var out any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
