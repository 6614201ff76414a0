package integrations

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// apiCall is one request the test API received.
type apiCall struct {
	Method, Path, RawQuery, Body string
	Header                       http.Header
}

// testAPI is a third-party HTTP API for HTTP tasks.
type testAPI struct {
	*httptest.Server
	mu    sync.Mutex
	calls []apiCall
}

func newAPI(t *testing.T, h func(w http.ResponseWriter, c apiCall)) *testAPI {
	api := &testAPI{}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c := apiCall{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Body: string(b), Header: r.Header.Clone()}
		api.mu.Lock()
		api.calls = append(api.calls, c)
		api.mu.Unlock()
		w.Header().Set("Date", fixedDate)
		h(w, c)
	}))
	t.Cleanup(api.Close)
	return api
}

func (api *testAPI) Calls() []apiCall {
	api.mu.Lock()
	defer api.mu.Unlock()
	return append([]apiCall(nil), api.calls...)
}

func reply(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// httpOutput is the output of an HTTP task for the test API's answers: Headers
// (lower-case names to value lists), ResponseBody, StatusCode, StatusText.
func httpOutput(contentType, body, responseBody string, status int, statusText string) string {
	return `{"Headers":{"content-length":["` + strconv.Itoa(len(body)) + `"],"content-type":["` + contentType +
		`"],"date":["` + fixedDate + `"]},"ResponseBody":` + responseBody + `,"StatusCode":` + strconv.Itoa(status) +
		`,"StatusText":"` + statusText + `"}`
}

// TestHTTPInvokeGetAndPost: the request an HTTP task makes (URL with its query,
// method, headers, JSON body) and the output it records.
func TestHTTPInvokeGetAndPost(t *testing.T) {
	api := newAPI(t, func(w http.ResponseWriter, c apiCall) {
		switch c.Method {
		case http.MethodGet:
			reply(w, 200, "application/json", `{"items": [1, 2.50]}`)
		default:
			reply(w, 201, "text/plain; charset=utf-8", "created")
		}
	})
	a := node(t, "", "", 0.001)
	c := client(a)

	params := `{"ApiEndpoint":"` + api.URL + `/items?fixed=1","Method":"GET","Authentication":{"ConnectionArn":` +
		`"arn:aws:events:us-east-1:123456789012:connection/c/1"},"QueryParameters":{"q":"a b&c","n":3,"tags":["x","y"]}}`
	arn, out := run(t, c, "get", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::http:invoke",
		"Parameters":{"ApiEndpoint":"`+api.URL+`/items?fixed=1","Method":"GET",
			"Authentication":{"ConnectionArn":"arn:aws:events:us-east-1:123456789012:connection/c/1"},
			"QueryParameters":{"q.$":"$.q","n":3,"tags":["x","y"]}},"End":true}}}`, `{"q":"a b&c"}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	result := httpOutput("application/json", `{"items": [1, 2.50]}`, `{"items":[1,2.5]}`, 200, "OK")
	checkHistory(t, a.Endpoint(), arn,
		execStarted(`{"q":"a b&c"}`),
		entered(2, 0, "Task", "T", `{"q":"a b&c"}`),
		taskScheduled(3, 2, "http", "invoke", params, ""),
		taskStarted(4, 3, "http", "invoke"),
		taskSucceeded(5, 4, "http", "invoke", result),
		exited(6, 5, "Task", "T", result),
		execSucceeded(7, 6, result),
	)
	calls := api.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls %+v", calls)
	}
	g := calls[0]
	if g.Method != "GET" || g.Path != "/items" || g.RawQuery != "fixed=1&q=a+b%26c&n=3&tags[0]=x&tags[1]=y" || g.Body != "" {
		t.Fatalf("GET request %+v", g)
	}
	if g.Header.Get("User-Agent") != "Amazon|StepFunctions|HttpInvoke|us-east-1" || g.Header.Get("Range") != "bytes=0-262144" ||
		g.Header.Get("Authorization") != "" {
		t.Fatalf("GET headers %v", g.Header)
	}

	// POST with a JSON body and headers; a text answer is a string ResponseBody.
	_, out = run(t, c, "post", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::http:invoke",
		"Parameters":{"ApiEndpoint":"`+api.URL+`/items","Method":"POST","Headers":{"X-Api-Key":"k1","Accept":["text/plain","application/json"]},
			"RequestBody":{"name.$":"$.name","n":1.50,"nested":{"b":[true,null]}}},
		"ResultSelector":{"body.$":"$.ResponseBody","code.$":"$.StatusCode","text.$":"$.StatusText","ct.$":"$.Headers.content-type"},"End":true}}}`,
		`{"name":"<Ada>"}`)
	if want := `{"body":"created","code":201,"text":"Created","ct":["text/plain; charset=utf-8"]}`; aws.ToString(out.Output) != want {
		t.Fatalf("output %s, want %s (%s)", aws.ToString(out.Output), want, aws.ToString(out.Cause))
	}
	p := api.Calls()[1]
	if p.Method != "POST" || p.Body != `{"name":"<Ada>","n":1.5,"nested":{"b":[true,null]}}` ||
		p.Header.Get("Content-Type") != "application/json; charset=UTF-8" || p.Header.Get("X-Api-Key") != "k1" ||
		strings.Join(p.Header.Values("Accept"), "|") != "text/plain|application/json" {
		t.Fatalf("POST request %+v", p)
	}
}

// TestHTTPInvokeURLEncoded: Transform URL_ENCODED encodes the body as a form, arrays
// by each ArrayFormat.
func TestHTTPInvokeURLEncoded(t *testing.T) {
	api := newAPI(t, func(w http.ResponseWriter, c apiCall) { reply(w, 200, "application/json", `{}`) })
	a := node(t, "", "", 0.001)
	c := client(a)
	formats := []string{"INDICES", "REPEAT", "COMMAS", "BRACKETS", ""}
	var states []string
	for i, f := range formats {
		next := `"Next":"S` + strconv.Itoa(i+1) + `"`
		if i == len(formats)-1 {
			next = `"End":true`
		}
		transform := `{"RequestBodyEncoding":"URL_ENCODED","RequestEncodingOptions":{"ArrayFormat":"` + f + `"}}`
		if f == "" {
			transform = `{"RequestBodyEncoding":"URL_ENCODED"}`
		}
		states = append(states, `"S`+strconv.Itoa(i)+`":{"Type":"Task","Resource":"arn:aws:states:::http:invoke",
			"Parameters":{"ApiEndpoint":"`+api.URL+`/form","Method":"PUT","Transform":`+transform+`,
				"RequestBody":{"a":"1 2","arr":["x","y&z"],"obj":{"k":"v","n":7}}},"ResultPath":null,`+next+`}`)
	}
	_, out := run(t, c, "form", `{"StartAt":"S0","States":{`+strings.Join(states, ",")+`}}`, `{}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	want := []string{
		"a=1+2&arr[0]=x&arr[1]=y%26z&obj[k]=v&obj[n]=7",
		"a=1+2&arr=x&arr=y%26z&obj[k]=v&obj[n]=7",
		"a=1+2&arr=x,y%26z&obj[k]=v&obj[n]=7",
		"a=1+2&arr[]=x&arr[]=y%26z&obj[k]=v&obj[n]=7",
		"a=1+2&arr[0]=x&arr[1]=y%26z&obj[k]=v&obj[n]=7", // INDICES is the default
	}
	calls := api.Calls()
	if len(calls) != len(want) {
		t.Fatalf("%d calls", len(calls))
	}
	for i, w := range want {
		if calls[i].Body != w || calls[i].Method != "PUT" || calls[i].Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("%s: body %q (%s), want %q", formats[i], calls[i].Body, calls[i].Header.Get("Content-Type"), w)
		}
	}
}

// TestHTTPInvokeFailures: a status outside 2xx fails the task with
// States.Http.StatusCode.<code>, the response as cause; Retry and Catch see it; a
// request without an answer is States.Http.Socket.
func TestHTTPInvokeFailures(t *testing.T) {
	var busy atomic.Int32
	api := newAPI(t, func(w http.ResponseWriter, c apiCall) {
		switch c.Path {
		case "/missing":
			reply(w, 404, "text/plain", "no such thing")
		case "/busy":
			if busy.Add(1) == 1 {
				reply(w, 503, "application/json", `{"retry":true}`)
				return
			}
			reply(w, 200, "application/json", `{"ok":1}`)
		}
	})
	a := node(t, "", "", 0.001)
	c := client(a)

	notFound := httpOutput("text/plain", "no such thing", `"no such thing"`, 404, "Not Found")
	params := `{"ApiEndpoint":"` + api.URL + `/missing","Method":"GET"}`
	arn, out := run(t, c, "missing", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::http:invoke",
		"Parameters":{"ApiEndpoint":"`+api.URL+`/missing","Method":"GET"},
		"Catch":[{"ErrorEquals":["States.Http.StatusCode.404"],"ResultPath":"$.err","Next":"C"}],"End":true},
		"C":{"Type":"Pass","End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s %s", out.Status, aws.ToString(out.Error))
	}
	caught := `{"err":` + errorOutput("States.Http.StatusCode.404", notFound) + `}`
	checkHistory(t, a.Endpoint(), arn,
		execStarted(`{}`),
		entered(2, 0, "Task", "T", `{}`),
		taskScheduled(3, 2, "http", "invoke", params, ""),
		taskStarted(4, 3, "http", "invoke"),
		taskFailed(5, 4, "http", "invoke", "States.Http.StatusCode.404", notFound),
		exited(6, 5, "Task", "T", caught),
		entered(7, 6, "Pass", "C", caught),
		exited(8, 7, "Pass", "C", caught),
		execSucceeded(9, 8, caught),
	)

	// Uncaught: the execution fails with the status's error.
	_, out = run(t, c, "missing-uncaught", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::http:invoke",
		"Parameters":{"ApiEndpoint":"`+api.URL+`/missing","Method":"DELETE"},"End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Http.StatusCode.404" ||
		aws.ToString(out.Cause) != notFound {
		t.Fatalf("got %s %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}

	// 503 retried, then the answer.
	arn, out = run(t, c, "busy", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::http:invoke",
		"Parameters":{"ApiEndpoint":"`+api.URL+`/busy","Method":"GET"},"OutputPath":"$.ResponseBody",
		"Retry":[{"ErrorEquals":["States.Http.StatusCode.503"],"IntervalSeconds":1,"MaxAttempts":2}],"End":true}}}`, `{}`)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Output) != `{"ok":1}` {
		t.Fatalf("got %s %s %s", out.Status, aws.ToString(out.Output), aws.ToString(out.Error))
	}
	h := rawHistory(t, a.Endpoint(), arn)
	var seq []string
	for _, e := range h {
		seq = append(seq, e["type"].(string))
	}
	if got := strings.Join(seq, " "); got != "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskFailed "+
		"TaskScheduled TaskStarted TaskSucceeded TaskStateExited ExecutionSucceeded" {
		t.Fatalf("history %s", got)
	}
	if f := h[4]["taskFailedEventDetails"].(map[string]any); f["error"] != "States.Http.StatusCode.503" ||
		f["cause"] != httpOutput("application/json", `{"retry":true}`, `{"retry":true}`, 503, "Service Unavailable") {
		t.Fatalf("TaskFailed %v", f)
	}

	// Nothing listening: States.Http.Socket.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String()
	_ = ln.Close()
	_, out = run(t, c, "socket", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::http:invoke",
		"Parameters":{"ApiEndpoint":"`+deadURL+`/x","Method":"GET"},
		"Catch":[{"ErrorEquals":["States.Http.Socket"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}`, `{}`)
	var e struct{ Error, Cause string }
	_ = json.Unmarshal([]byte(aws.ToString(out.Output)), &e)
	if out.Status != types.ExecutionStatusSucceeded || e.Error != "States.Http.Socket" || e.Cause == "" {
		t.Fatalf("got %s %s", out.Status, aws.ToString(out.Output))
	}
}
