package auth

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// TestUnauthenticatedReach lists what a client without credentials reaches on a node
// with --credentials: /healthz and /ping, and the console's static shell and assets
// (the same bytes whatever the deployment holds); nothing with data: /readyz,
// /metrics and every operation answer MissingAuthenticationTokenException.
func TestUnauthenticatedReach(t *testing.T) {
	n := start(t)
	a := n.teamA("us-east-1")
	must[*sfn.CreateStateMachineOutput](t)(a.CreateStateMachine(bg, &sfn.CreateStateMachineInput{Name: aws.String("secret-flow"),
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`), RoleArn: aws.String("arn:aws:iam::111111111111:role/r")}))
	get := func(method, path string, hdr map[string]string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, n.endpoint+path, strings.NewReader("{}"))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	noData := func(path, body string) {
		t.Helper()
		for _, secret := range []string{"secret-flow", "111111111111", "team-a", "AKIA"} {
			if strings.Contains(body, secret) {
				t.Fatalf("%s shows %q to a client without credentials", path, secret)
			}
		}
	}
	for _, path := range []string{"/healthz", "/ping"} {
		if code, body := get(http.MethodGet, path, nil); code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		} else {
			noData(path, body)
		}
	}
	code, shell := get(http.MethodGet, "/", nil)
	if code != 200 || !strings.Contains(shell, "<html") {
		t.Fatalf("GET /: %d %.200s", code, shell)
	}
	noData("/", shell)
	for _, deep := range []string{"/statemachines/arn:aws:states:us-east-1:111111111111:stateMachine:secret-flow", "/glue/workflows", "/metrics/"} {
		if code, body := get(http.MethodGet, deep, nil); code != 200 || body != shell {
			t.Fatalf("GET %s: %d, not the static shell", deep, code)
		}
	}
	assets := regexp.MustCompile(`/_console/[^"']+`).FindAllString(shell, -1)
	if len(assets) == 0 {
		t.Fatal("the shell names no assets")
	}
	for _, asset := range assets {
		code, body := get(http.MethodGet, asset, nil)
		if code != 200 {
			t.Fatalf("GET %s: %d", asset, code)
		}
		noData(asset, body)
	}
	refused := func(method, path string, hdr map[string]string) {
		t.Helper()
		code, body := get(method, path, hdr)
		if code != 400 || !strings.Contains(body, "MissingAuthenticationTokenException") {
			t.Fatalf("%s %s %v without credentials: %d %s", method, path, hdr, code, body)
		}
	}
	refused(http.MethodGet, "/readyz", nil)
	refused(http.MethodGet, "/metrics", nil)
	for _, target := range []string{"AWSStepFunctions.ListStateMachines", "AWSGlue.GetJobs", "SfndConsole.DescribeConsole", "AWSStepFunctions.Nope"} {
		refused(http.MethodPost, "/", map[string]string{"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"})
	}
	refused(http.MethodPut, "/", nil)
	refused(http.MethodDelete, "/healthz", nil)
}
