package conformance

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	corpusOnce  sync.Once
	corpusCases []Case
	corpusErr   error
)

func loadTestCorpus(t *testing.T) []Case {
	t.Helper()
	corpusOnce.Do(func() { corpusCases, corpusErr = LoadCorpus("../testdata/conformance/aws-recorded.jsonl") })
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpusCases
}

func mustParse(t *testing.T, s string) any {
	t.Helper()
	v, err := parseJSONString(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func TestLoadCorpus(t *testing.T) {
	cases := loadTestCorpus(t)
	if len(cases) != 364 {
		t.Fatalf("corpus has %d cases, want 364", len(cases))
	}
	kinds := map[string]int{}
	for _, c := range cases {
		kinds[c.Kind]++
	}
	if kinds["execution"] != 233 || kinds["test_state"] != 52 {
		t.Errorf("kinds = %v", kinds)
	}
	if got := len(Select(cases, Options{Kind: "api,validate_definition"})); got != 37 {
		t.Errorf("Select by kind: %d cases, want 37", got)
	}
	if got := Select(cases, Options{Filter: "test_base_cases[BASE_EMPTY]"}); len(got) != 1 {
		t.Errorf("Select by filter: %d cases, want 1", len(got))
	}
}

// TestPythonDumps pins the json.dumps/repr emulation the text replacements rely on.
func TestPythonDumps(t *testing.T) {
	for in, want := range map[string]string{
		`{"b": 1, "a": [1.0, 1e16, 1.5e-05, 0.0001, 123.456, -0.0, 100]}`: `{"b": 1, "a": [1.0, 1e+16, 1.5e-05, 0.0001, 123.456, -0.0, 100]}`,
		`"caf\u00e9 \ud83d\ude00 \u007f \"q\" \\ \n"`:                     `"caf\u00e9 \ud83d\ude00 \u007f \"q\" \\ \n"`,
		`[true, false, null, {}, []]`:                                     `[true, false, null, {}, []]`,
	} {
		if got := pyDumps(mustParse(t, in), dumpStr); got != want {
			t.Errorf("pyDumps(%s) = %s, want %s", in, got, want)
		}
	}
	if got := pyRepr(mustParse(t, `{"a": [null, true, "it's"], "b": 1.5}`)); got != `{'a': [None, True, "it's"], 'b': 1.5}` {
		t.Errorf("pyRepr = %s", got)
	}
	d := pyDatetime{T: time.Date(2024, 5, 1, 10, 0, 0, 123000000, time.UTC)}
	if d.str() != "2024-05-01 10:00:00.123000+00:00" || d.isoformat() != "2024-05-01T10:00:00.123000+00:00" {
		t.Errorf("datetime str %q iso %q", d.str(), d.isoformat())
	}
}

func TestComparatorIsTypeStrict(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{`{"x": 1}`, `{"x": 1}`, true},
		{`{"x": 1}`, `{"x": 1.0}`, false},
		{`{"x": 1}`, `{"x": true}`, false},
		{`{"x": 1.0}`, `{"x": 1.00}`, true},
		{`{"x": "1"}`, `{"x": 1}`, false},
		{`{"x": [1, 2]}`, `{"x": [1, 2, 3]}`, false},
		{`{"x": {"a": 1, "b": 2}}`, `{"x": {"b": 2, "a": 1}}`, true},
		{`{"x": null}`, `{}`, false},
	} {
		a, b := mustParse(t, tc.a).(*pyObject), mustParse(t, tc.b).(*pyObject)
		_, diffs := compareSnapshots(a, b, []string{"x"}, 20)
		if (len(diffs) == 0) != tc.same {
			t.Errorf("compare %s with %s: diffs %v, want same=%v", tc.a, tc.b, diffs, tc.same)
		}
	}
}

// TestSelfCheck: the normaliser applied to every recorded snapshot reproduces it,
// with exactly the figures the Python harness's --self-check reports (356 fixed
// points, 12+12 explained differences, nothing unexplained).
func TestSelfCheck(t *testing.T) {
	res := SelfCheck(loadTestCorpus(t))
	if len(res.Unexplained) > 0 {
		t.Errorf("unexplained differences in %d cases, first: %s", len(res.Unexplained), res.Unexplained[0])
	}
	if res.FixedPoints != 356 {
		t.Errorf("%d fixed points, the Python harness finds 356", res.FixedPoints)
	}
	if res.Explained["nested JSON string parsed again"] != 12 || res.Explained["'date' under a *timestamp* key"] != 12 {
		t.Errorf("explained = %v, the Python harness finds 12 and 12", res.Explained)
	}
}

// TestComparatorSanity: comparing each case's expected snapshot with its own
// normalised form passes for every case (no false negatives), and a perturbed
// field or an extra field makes it fail (no false positives).
func TestComparatorSanity(t *testing.T) {
	cases := loadTestCorpus(t)
	perturbed := 0
	for i := range cases {
		c := &cases[i]
		_, base, err := selfNormalise(c, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		keys := c.objField("expected").Keys()
		if _, diffs := compareSnapshots(base, deepCopy(base).(*pyObject), keys, 20); len(diffs) > 0 {
			t.Errorf("%s: a snapshot differs from its copy: %+v", c.ID, diffs[0])
		}
		// An extra member is a difference.
		mod := deepCopy(base).(*pyObject)
		if o, ok := mod.vals[keys[0]].(*pyObject); ok {
			o.Set("zzzUnexpected", pyInt("1"))
			if _, diffs := compareSnapshots(base, mod, keys, 20); len(diffs) == 0 {
				t.Errorf("%s: an extra field went unnoticed", c.ID)
			}
		}
		// A changed leaf is a difference.
		mod = deepCopy(base).(*pyObject)
		if path, ok := perturbFirstLeaf(mod); ok {
			perturbed++
			if _, diffs := compareSnapshots(base, mod, keys, 20); len(diffs) == 0 {
				t.Errorf("%s: a changed value at %s went unnoticed", c.ID, path)
			}
		}
	}
	if perturbed < len(cases)/2 {
		t.Errorf("only %d cases had a leaf to perturb", perturbed)
	}
}

// perturbFirstLeaf changes the first string, number or bool leaf it finds.
func perturbFirstLeaf(v any) (string, bool) {
	switch x := v.(type) {
	case *pyObject:
		for _, k := range x.keys {
			switch y := x.vals[k].(type) {
			case string:
				x.vals[k] = y + "-changed"
				return k, true
			case pyInt:
				x.vals[k] = pyInt(string(y) + "1")
				return k, true
			case bool:
				x.vals[k] = !y
				return k, true
			default:
				if p, ok := perturbFirstLeaf(y); ok {
					return k + "." + p, true
				}
			}
		}
	case *pyList:
		for i, e := range x.Items {
			switch y := e.(type) {
			case string:
				x.Items[i] = y + "-changed"
				return fmt.Sprint(i), true
			default:
				if p, ok := perturbFirstLeaf(y); ok {
					return fmt.Sprintf("[%d].%s", i, p), true
				}
			}
		}
	}
	return "", false
}

var uuidPlaceholder = regexp.MustCompile(`<uuid:(\d+)>`)

// serverise turns a normalised snapshot back into what a real server (and boto3)
// would produce: datetimes for timestamps, real uuids, the account, region and
// partition.
func serverise(v any, key string, account string, uuids map[string]string, rng *rand.Rand) any {
	switch x := v.(type) {
	case *pyObject:
		out := newObject()
		for _, k := range x.keys {
			out.Set(k, serverise(x.vals[k], k, account, uuids, rng))
		}
		return out
	case *pyList:
		out := &pyList{Items: make([]any, len(x.Items))}
		for i, e := range x.Items {
			out.Items[i] = serverise(e, key, account, uuids, rng)
		}
		return out
	case string:
		if (x == "timestamp" && strings.Contains(strings.ToLower(key), "timestamp")) || x == "datetime" {
			return pyDatetime{T: time.Unix(1_700_000_000+rng.Int64N(1_000_000), rng.Int64N(1000)*int64(time.Millisecond)).UTC()}
		}
		x = uuidPlaceholder.ReplaceAllStringFunc(x, func(m string) string {
			if u, ok := uuids[m]; ok {
				return u
			}
			u := fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Int64N(1<<48))
			uuids[m] = u
			return u
		})
		x = strings.ReplaceAll(x, "111111111111", account)
		x = strings.ReplaceAll(x, "<region>", Region)
		x = strings.ReplaceAll(x, "arn:<partition>:", "arn:aws:")
		return x
	}
	return v
}

// TestNormaliserUndoesServerNoise: snapshots made to look like a real server's
// answers (datetimes, fresh uuids, a real account id, region and partition)
// normalise back to the recorded form.
func TestNormaliserUndoesServerNoise(t *testing.T) {
	cases := loadTestCorpus(t)
	rng := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for i := range cases {
		c := &cases[i]
		_, base, err := selfNormalise(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		exp := c.recordedSnapshot()
		if !strings.Contains(pyDumps(exp, dumpStr), "timestamp") && !strings.Contains(pyDumps(exp, dumpStr), "<uuid:") {
			continue
		}
		uuids := map[string]string{}
		observed := newObject()
		for _, k := range exp.keys {
			observed.Set(k, orderDict(serverise(deepCopy(exp.vals[k]), "", "111111111111", uuids, rng)))
		}
		_, got, err := selfNormalise(c, observed)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		if _, diffs := compareSnapshots(base, got, exp.Keys(), 20); len(diffs) > 0 {
			t.Errorf("%s: server noise not normalised away: %s: expected %s got %s", c.ID, diffs[0].Path,
				short(diffs[0].Expected, 120), short(diffs[0].Actual, 120))
		}
		checked++
	}
	if checked < 150 {
		t.Errorf("only %d cases checked", checked)
	}
}

// TestBotocoreEmulation pins the boto3 view of answers and of client-side validation.
func TestBotocoreEmulation(t *testing.T) {
	m, err := sfnModel()
	if err != nil {
		t.Fatal(err)
	}
	// Success: unknown and null members dropped, timestamps become datetimes.
	out, cerr, err := m.parseResponse("DescribeActivity", 200, http.Header{"X-Amzn-Requestid": {"r-1"}},
		[]byte(`{"activityArn":"arn:aws:states:us-east-1:123456789012:activity:a","name":"a","creationDate":1700000000.5,"bogus":1,"encryptionConfiguration":null}`))
	if err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	if got := pyDumps(orderDict(out), dumpStr); got != `{"activityArn": "arn:aws:states:us-east-1:123456789012:activity:a", "creationDate": "2023-11-14 22:13:20.500000+00:00", "name": "a", "ResponseMetadata": {"HTTPHeaders": {"x-amzn-requestid": "r-1"}, "HTTPStatusCode": 200, "RequestId": "r-1", "RetryAttempts": 0}}` {
		t.Errorf("parsed = %s", got)
	}
	// Errors: botocore's shape, with the modeled fields merged in.
	_, cerr, err = m.parseResponse("DescribeExecution", 400, http.Header{},
		[]byte(`{"__type":"com.amazonaws.swf.service.v2.model#InvalidArn","message":"Invalid Arn: 'x'"}`))
	if err != nil || cerr == nil {
		t.Fatal(err, cerr)
	}
	if cerr.typeName != "InvalidArn" || cerr.str != "An error occurred (InvalidArn) when calling the DescribeExecution operation: Invalid Arn: 'x'" {
		t.Errorf("error = %s %q", cerr.typeName, cerr.str)
	}
	if got := pyDumps(cerr.response, dumpStr); got != `{"Error": {"Message": "Invalid Arn: 'x'", "Code": "InvalidArn"}, "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}, "RetryAttempts": 0}, "message": "Invalid Arn: 'x'"}` {
		t.Errorf("error response = %s", got)
	}
	// Unmodeled codes raise a plain ClientError.
	_, cerr, _ = m.parseResponse("ListActivities", 400, http.Header{}, []byte(`{"__type":"NoSuchThing","message":"m"}`))
	if cerr == nil || cerr.typeName != "ClientError" {
		t.Errorf("unmodeled error: %+v", cerr)
	}
	// Client-side validation, with botocore's messages.
	for args, want := range map[string]string{
		`{"stateMachineArn": "a", "nextToken": ""}`:                                              "Parameter validation failed:\nInvalid length for parameter nextToken, value: 0, valid min length: 1",
		`{"resourceArn": "a", "tags": [{"key": null, "value": "v"}]}`:                            "Parameter validation failed:\nInvalid type for parameter tags[0].key, value: None, type: <class 'NoneType'>, valid types: <class 'str'>",
		`{"name": "n", "routingConfiguration": [{"stateMachineVersionArn": "a", "weight": -1}]}`: "Parameter validation failed:\nInvalid value for parameter routingConfiguration[0].weight, value: -1, valid min value: 0",
		`{"name": "n", "bogus": 1}`:                                                              "Parameter validation failed:\nMissing required parameter in input: \"definition\"\nMissing required parameter in input: \"roleArn\"\nUnknown parameter in input: \"bogus\", must be one of: name, definition, roleArn, type, loggingConfiguration, tags, tracingConfiguration, publish, versionDescription, encryptionConfiguration",
		`{"stateMachineArn": ["x", {"a": null}], "maxResults": true}`:                            "Parameter validation failed:\nInvalid type for parameter stateMachineArn, value: ['x', {'a': None}], type: <class 'list'>, valid types: <class 'str'>",
		`{"stateMachineArn": "a", "input": {"a": 1}}`:                                            "Parameter validation failed:\nInvalid type for parameter input, value: {'a': 1}, type: <class 'dict'>, valid types: <class 'str'>",
	} {
		op := map[string]string{"nextToken": "ListExecutions", "tags": "TagResource", "routingConfiguration": "CreateStateMachineAlias", "bogus": "CreateStateMachine", "maxResults": "ListExecutions", "input": "StartExecution"}
		var name string
		for k, v := range op {
			if strings.Contains(args, `"`+k+`"`) {
				name = v
			}
		}
		_, cerr := m.buildRequest(name, mustParse(t, args).(*pyObject))
		if cerr == nil || cerr.str != want {
			t.Errorf("%s %s: got %v, want %q", name, args, cerr, want)
		}
	}
	if xformName("StartExecution") != "start_execution" || xformName("ValidateStateMachineDefinition") != "validate_state_machine_definition" {
		t.Error("xformName")
	}
	if op, ok := m.operationName("start_execution"); !ok || op != "StartExecution" {
		t.Errorf("operationName(start_execution) = %q", op)
	}
}
