package conformance

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSFN is a tiny activity-only Step Functions endpoint for runner tests.
type fakeSFN struct {
	mu         sync.Mutex
	activities map[string]float64 // arn -> creation date
	// nameSuffix is appended to names in DescribeActivity answers (to break a case).
	nameSuffix string
	invalidArn string // message for DescribeExecution errors
	unsigned   int
}

func (f *fakeSFN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=testing/") ||
		r.Header.Get("X-Amz-Date") == "" || r.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		f.unsigned++
	}
	var in map[string]any
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", "0b7c3f55-8a0e-4a4e-9a57-4a0f8f1d2f3e")
	reply := func(status int, v any) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	arn, _ := in["activityArn"].(string)
	switch op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions."); op {
	case "CreateActivity":
		name, _ := in["name"].(string)
		a := "arn:aws:states:us-east-1:000000000042:activity:" + name
		if _, ok := f.activities[a]; !ok {
			f.activities[a] = float64(time.Now().UnixMilli()) / 1000
		}
		reply(200, map[string]any{"activityArn": a, "creationDate": f.activities[a]})
	case "DescribeActivity":
		c, ok := f.activities[arn]
		if !ok {
			reply(400, map[string]any{"__type": "ActivityDoesNotExist", "message": "Activity Does Not Exist: '" + arn + "'"})
			return
		}
		name := arn[strings.LastIndex(arn, ":")+1:] + f.nameSuffix
		reply(200, map[string]any{"activityArn": arn, "name": name, "creationDate": c,
			"encryptionConfiguration": map[string]any{"type": "AWS_OWNED_KEY"}, "somethingNew": true})
	case "DeleteActivity":
		delete(f.activities, arn)
		reply(200, map[string]any{})
	case "DescribeExecution":
		reply(400, map[string]any{"__type": "com.amazonaws.swf.service.v2.model#InvalidArn", "message": f.invalidArn})
	default:
		reply(400, map[string]any{"__type": "UnknownOperationException"})
	}
}

func TestRunAgainstFakeEndpoint(t *testing.T) {
	cases := loadTestCorpus(t)
	sel := Select(cases, Options{Filter: "test_create_describe_delete_activity[Activity1]"})
	sel = append(sel, Select(cases, Options{Filter: "test_describe_execution_invalid_arn"})...)
	sel = append(sel, Select(cases, Options{Filter: "test_list_executions_pagination"})...)
	if len(sel) != 3 {
		t.Fatalf("selected %d cases", len(sel))
	}
	fake := &fakeSFN{activities: map[string]float64{}, invalidArn: "Invalid Arn: 'Invalid ARN prefix: invalid_state_machine_arn'"}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	rep := Run(context.Background(), srv.URL, sel, Options{Jobs: 2})
	if rep.Account != "000000000042" {
		t.Errorf("probed account %q", rep.Account)
	}
	if fake.unsigned > 0 {
		t.Errorf("%d requests were not SigV4-signed AWS JSON 1.0 requests", fake.unsigned)
	}
	verdicts := map[string]string{}
	for _, c := range rep.Cases {
		verdicts[c.ID[strings.LastIndex(c.ID, "::")+2:]] = c.Status + " " + c.Category
	}
	want := map[string]string{
		"test_create_describe_delete_activity[Activity1]": "PASS ",
		"test_describe_execution_invalid_arn":             "PASS ",
		"test_list_executions_pagination":                 "FAIL CreateStateMachine raised UnknownOperationException",
	}
	for id, v := range want {
		if verdicts[id] != v {
			t.Errorf("%s: got %q, want %q\n%s", id, verdicts[id], v, rep.String())
		}
	}
	if rep.Passed() != 2 || rep.Failed() != 1 {
		t.Errorf("totals %v", rep.Totals)
	}
	text := rep.String()
	for _, s := range []string{"conformance: 2 passed, 1 failed", "per kind:", "per feature:",
		"FAIL tests/aws/services/stepfunctions/v2/test_sfn_api.py::TestSnfApi::test_list_executions_pagination"} {
		if !strings.Contains(text, s) {
			t.Errorf("report lacks %q:\n%s", s, text)
		}
	}

	// A wrong name in DescribeActivity is caught, with the path of the difference.
	fake.nameSuffix = "-x"
	rep = Run(context.Background(), srv.URL, sel[:1], Options{})
	c := rep.Cases[0]
	if c.Passed() || len(c.Diffs) == 0 || c.Diffs[0].Path != "describe_activity_response.name" {
		t.Errorf("wrong name not caught: %+v", c)
	}
	if !strings.Contains(rep.String(), "at describe_activity_response.name:") {
		t.Errorf("report lacks the first difference:\n%s", rep.String())
	}
	// So is an error message that differs from AWS's (the test skips
	// $..exception_value, so only the type name counts: this one still passes).
	fake.nameSuffix = ""
	fake.invalidArn = "some other text"
	rep = Run(context.Background(), srv.URL, sel[1:2], Options{})
	if !rep.Cases[0].Passed() {
		t.Errorf("skip_snapshot_verify ignored: %+v", rep.Cases[0])
	}
}
