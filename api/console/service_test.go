package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/api/console"
	"github.com/sfnd/sfnd/events"
)

func edge(t *testing.T, d console.Deps) *httptest.Server {
	t.Helper()
	e := api.New(api.Config{Region: "us-east-1", Account: "123456789012"})
	d.Targets = e.Targets
	e.Register(console.Service(d))
	e.HandleGet("/", console.Handler())
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, url, target, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %s", err, b)
	}
	return res.StatusCode, out
}

func TestPageAndAssets(t *testing.T) {
	srv := edge(t, console.Deps{})
	for _, path := range []string{"/", "/executions/arn%3Aaws%3Astates%3Aus-east-1%3A1%3Aexecution%3Asm%3Ax", "/glue/workflows/w/runs/r"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), `<div id="app">`) {
			t.Errorf("GET %s: %d %q", path, res.StatusCode, b)
		}
	}
	for path, want := range map[string]int{"/_console/app.js": 200, "/_console/app.css": 200, "/_console/nope.js": 404, "/_console/../go.mod": 404} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
	}
	code, out := post(t, srv.URL+"/", "SfndConsole.DescribeConsole", "{}")
	if code != 200 || len(out["targets"].([]any)) != 4 {
		t.Errorf("DescribeConsole: %d %v", code, out)
	}
	// POST / stays the API.
	code, out = post(t, srv.URL+"/", "AWSStepFunctions.ListStateMachines", "{}")
	if code != 400 || out["__type"] != "UnknownOperationException" {
		t.Errorf("POST /: %d %v", code, out)
	}
}

func TestOperationsAnswerAWSErrors(t *testing.T) {
	const x = "arn:aws:states:us-east-1:123456789012:execution:sm:run"
	hist := []events.HistoryEvent{{ID: 1, Type: events.ExecutionStarted}}
	srv := edge(t, console.Deps{
		History: func(_ context.Context, arn string) ([]events.HistoryEvent, error) {
			if arn == x {
				return hist, nil
			}
			return nil, nil
		},
		ActivityExists: func(context.Context, string) (bool, error) { return false, nil },
		Queue:          func(context.Context, string) (actors.ActivityQueue, error) { return actors.ActivityQueue{}, nil },
	})
	for _, c := range []struct{ target, body, code string }{
		{"SfndConsole.GetExecutionHistory", `{}`, "MissingRequiredParameter"},
		{"SfndConsole.GetExecutionHistory", `{"executionArn":"nope"}`, "InvalidArn"},
		{"SfndConsole.GetExecutionHistory", `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:sm:other"}`, "ExecutionDoesNotExist"},
		{"SfndConsole.GetExecutionHistory", `{"executionArn":1}`, "SerializationException"},
		{"SfndConsole.VerifyExecutionHistory", `{"executionArn":"x"}`, "InvalidArn"},
		{"SfndConsole.DescribeActivityQueue", `{"activityArn":"arn:aws:states:us-east-1:123456789012:activity:a"}`, "ActivityDoesNotExist"},
		{"SfndConsole.Nope", `{}`, "UnknownOperationException"},
	} {
		code, out := post(t, srv.URL+"/", c.target, c.body)
		if code != 400 || out["__type"] != c.code {
			t.Errorf("%s %s: %d %v, want %s", c.target, c.body, code, out, c.code)
		}
	}
	code, out := post(t, srv.URL+"/", "SfndConsole.GetExecutionHistory", `{"executionArn":"`+x+`"}`)
	if code != 200 || out["status"] != "RUNNING" || len(out["events"].([]any)) != 1 {
		t.Errorf("history: %d %v", code, out)
	}
	code, out = post(t, srv.URL+"/", "SfndConsole.GetExecutionHistory", `{"executionArn":"`+x+`","afterEventId":1}`)
	if code != 200 || len(out["events"].([]any)) != 0 {
		t.Errorf("history after 1: %d %v", code, out)
	}
}
