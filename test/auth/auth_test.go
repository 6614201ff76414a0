// Package auth tests authentication and isolation with real clients: a node started
// with a credentials file of two accounts, aws-sdk-go-v2 and boto3 clients, and
// hand-signed requests with a fixed clock.
package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/test/testutil"
)

const credentialsFile = `# two teams, two accounts
[team-a]
aws_access_key_id = AKIAAAAAAAAAAAAAAAAA
aws_secret_access_key = secret-of-team-a
aws_account_id = 111111111111

[team-b]
aws_access_key_id=AKIABBBBBBBBBBBBBBBB
aws_secret_access_key=secret-of-team-b
aws_account_id=222222222222
`

// clock is the server's clock: real time unless a test fixes it.
type clock struct {
	mu    sync.Mutex
	fixed time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed.IsZero() {
		return time.Now()
	}
	return c.fixed
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.fixed = t
	c.mu.Unlock()
}

type node struct {
	endpoint string
	clock    *clock
	credPath string
}

func start(t *testing.T) *node {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte(credentialsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := api.LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{}
	a := testutil.Start(t, testutil.Options{Credentials: creds, Now: c.now})
	return &node{endpoint: a.Endpoint(), clock: c, credPath: path}
}

func (n *node) client(key, secret, region string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region: region, BaseEndpoint: aws.String(n.endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
	})
}

func (n *node) teamA(region string) *sfn.Client {
	return n.client("AKIAAAAAAAAAAAAAAAAA", "secret-of-team-a", region)
}

func (n *node) teamB(region string) *sfn.Client {
	return n.client("AKIABBBBBBBBBBBBBBBB", "secret-of-team-b", region)
}

var bg = context.Background()

func wantCode(t *testing.T, err error, code, msgPrefix string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.HasPrefix(ae.ErrorMessage(), msgPrefix) {
		t.Fatalf("got %s %q, want %s %q...", ae.ErrorCode(), ae.ErrorMessage(), code, msgPrefix)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

const def = `{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"ACT","End":true}}}`

// TestAccountsAndRegionsIsolated: what team A creates does not exist for team B, nor
// for team A in another region, by name, by ARN or by task token.
func TestAccountsAndRegionsIsolated(t *testing.T) {
	n := start(t)
	a, b, aEU := n.teamA("us-east-1"), n.teamB("us-east-1"), n.teamA("eu-west-1")

	act := must[*sfn.CreateActivityOutput](t)(a.CreateActivity(bg, &sfn.CreateActivityInput{Name: aws.String("work")}))
	if got := aws.ToString(act.ActivityArn); got != "arn:aws:states:us-east-1:111111111111:activity:work" {
		t.Fatalf("team A's activity ARN %s", got)
	}
	sm := must[*sfn.CreateStateMachineOutput](t)(a.CreateStateMachine(bg, &sfn.CreateStateMachineInput{Name: aws.String("flow"),
		Definition: aws.String(strings.Replace(def, "ACT", aws.ToString(act.ActivityArn), 1)), RoleArn: aws.String("arn:aws:iam::111111111111:role/r")}))
	smARN := aws.ToString(sm.StateMachineArn)
	exec := must[*sfn.StartExecutionOutput](t)(a.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"n":1}`)}))

	for name, c := range map[string]*sfn.Client{"team B": b, "team A in eu-west-1": aEU} {
		t.Run(name, func(t *testing.T) {
			l := must[*sfn.ListStateMachinesOutput](t)(c.ListStateMachines(bg, &sfn.ListStateMachinesInput{}))
			la := must[*sfn.ListActivitiesOutput](t)(c.ListActivities(bg, &sfn.ListActivitiesInput{}))
			if len(l.StateMachines) != 0 || len(la.Activities) != 0 {
				t.Fatalf("lists another account's or region's resources: %v %v", l.StateMachines, la.Activities)
			}
			_, err := c.DescribeStateMachine(bg, &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn})
			wantCode(t, err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '"+smARN+"'")
			_, err = c.StartExecution(bg, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
			wantCode(t, err, "StateMachineDoesNotExist", "")
			_, err = c.UpdateStateMachine(bg, &sfn.UpdateStateMachineInput{StateMachineArn: sm.StateMachineArn, Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)})
			wantCode(t, err, "StateMachineDoesNotExist", "")
			_, err = c.TagResource(bg, &sfn.TagResourceInput{ResourceArn: sm.StateMachineArn, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			wantCode(t, err, "ResourceNotFound", "")
			_, err = c.ListTagsForResource(bg, &sfn.ListTagsForResourceInput{ResourceArn: act.ActivityArn})
			wantCode(t, err, "ResourceNotFound", "")
			_, err = c.DescribeActivity(bg, &sfn.DescribeActivityInput{ActivityArn: act.ActivityArn})
			wantCode(t, err, "ActivityDoesNotExist", "")
			_, err = c.GetActivityTask(bg, &sfn.GetActivityTaskInput{ActivityArn: act.ActivityArn})
			wantCode(t, err, "ActivityDoesNotExist", "")
			_, err = c.DescribeExecution(bg, &sfn.DescribeExecutionInput{ExecutionArn: exec.ExecutionArn})
			wantCode(t, err, "ExecutionDoesNotExist", "")
			_, err = c.GetExecutionHistory(bg, &sfn.GetExecutionHistoryInput{ExecutionArn: exec.ExecutionArn})
			wantCode(t, err, "ExecutionDoesNotExist", "")
			_, err = c.StopExecution(bg, &sfn.StopExecutionInput{ExecutionArn: exec.ExecutionArn})
			wantCode(t, err, "ExecutionDoesNotExist", "")
			_, err = c.ListExecutions(bg, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn})
			wantCode(t, err, "StateMachineDoesNotExist", "")
			_, _ = c.DeleteStateMachine(bg, &sfn.DeleteStateMachineInput{StateMachineArn: sm.StateMachineArn})
			_, _ = c.DeleteActivity(bg, &sfn.DeleteActivityInput{ActivityArn: act.ActivityArn})
		})
	}
	// Team A's resources are untouched, and its worker gets the task.
	d := must[*sfn.DescribeStateMachineOutput](t)(a.DescribeStateMachine(bg, &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn}))
	if d.Status != types.StateMachineStatusActive || strings.Contains(aws.ToString(d.Definition), `"P"`) {
		t.Fatalf("team A's state machine changed: %s %s", d.Status, aws.ToString(d.Definition))
	}
	task := must[*sfn.GetActivityTaskOutput](t)(a.GetActivityTask(bg, &sfn.GetActivityTaskInput{ActivityArn: act.ActivityArn}))
	if task.TaskToken == nil {
		t.Fatal("team A's worker got no task")
	}
	// The token is opaque: neither the execution, its account nor its region shows
	// in it, decoded or not.
	raw, _ := base64.RawURLEncoding.DecodeString(aws.ToString(task.TaskToken))
	for _, part := range []string{"111111111111", "us-east-1", "flow", aws.ToString(exec.ExecutionArn)} {
		if strings.Contains(aws.ToString(task.TaskToken)+string(raw), part) {
			t.Fatalf("task token %q shows %q", aws.ToString(task.TaskToken), part)
		}
	}
	// A forged token (a changed byte) and a made-up one are InvalidToken.
	forged := []byte(aws.ToString(task.TaskToken))
	forged[len(forged)/2] ^= 1
	for _, tok := range []string{string(forged), "AQ", strings.Repeat("A", 200)} {
		_, err := a.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`"forged"`)})
		wantCode(t, err, "InvalidToken", "")
	}
	// Team B (or team A in another region) holding A's token cannot use it.
	for _, c := range []*sfn.Client{b, aEU} {
		_, err := c.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`"forged"`)})
		wantCode(t, err, "InvalidToken", "")
		_, err = c.SendTaskHeartbeat(bg, &sfn.SendTaskHeartbeatInput{TaskToken: task.TaskToken})
		wantCode(t, err, "InvalidToken", "")
		_, err = c.SendTaskFailure(bg, &sfn.SendTaskFailureInput{TaskToken: task.TaskToken})
		wantCode(t, err, "InvalidToken", "")
	}
	must[*sfn.SendTaskSuccessOutput](t)(a.SendTaskSuccess(bg, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`"done"`)}))
	out := testutil.WaitDone(t, a, aws.ToString(exec.ExecutionArn), 10*time.Second)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Output) != `"done"` {
		t.Fatalf("team A's execution: %s %s", out.Status, aws.ToString(out.Output))
	}
	// The same name in team B's account is a resource of its own.
	smB := must[*sfn.CreateStateMachineOutput](t)(b.CreateStateMachine(bg, &sfn.CreateStateMachineInput{Name: aws.String("flow"),
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`), RoleArn: aws.String("arn:aws:iam::222222222222:role/r")}))
	if got := aws.ToString(smB.StateMachineArn); got != "arn:aws:states:us-east-1:222222222222:stateMachine:flow" {
		t.Fatalf("team B's ARN %s", got)
	}
}

// TestSignatureChecks: the errors AWS answers for unsigned, malformed, unknown, wrong
// and expired signatures; /healthz is the one thing open without one.
func TestSignatureChecks(t *testing.T) {
	n := start(t)
	_, err := n.client("AKIAAAAAAAAAAAAAAAAA", "wrong-secret", "us-east-1").ListStateMachines(bg, &sfn.ListStateMachinesInput{})
	wantCode(t, err, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")
	_, err = n.client("AKIAUNKNOWNUNKNOWNUN", "secret-of-team-a", "us-east-1").ListStateMachines(bg, &sfn.ListStateMachinesInput{})
	wantCode(t, err, "UnrecognizedClientException", "The security token included in the request is invalid.")
	_, err = n.client("AKIAAAAAAAAAAAAAAAAA", "secret-of-team-a", "zz-evil-9").ListStateMachines(bg, &sfn.ListStateMachinesInput{})
	wantCode(t, err, "InvalidSignatureException", "Credential should be scoped to a valid region, not 'zz-evil-9'.")

	body := `{}`
	// No Authorization header at all, and garbage in it.
	r := n.raw(t, "AWSStepFunctions.ListStateMachines", body, nil)
	r.want(t, 400, "MissingAuthenticationTokenException", "Missing Authentication Token")
	r = n.raw(t, "AWSStepFunctions.ListStateMachines", body, func(h *http.Request) { h.Header.Set("Authorization", "Bearer abc") })
	r.want(t, 400, "IncompleteSignatureException", "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer abc")
	r = n.raw(t, "AWSStepFunctions.ListStateMachines", body, func(h *http.Request) {
		h.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential= AKIAAAAAAAAAAAAAAAAA/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=00")
	})
	r.want(t, 400, "IncompleteSignatureException", "'AKIAAAAAAAAAAAAAAAAA/20260101/us-east-1/states/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential= AKIA")
	// Unknown operations and other services are not even named to a stranger.
	n.raw(t, "AWSStepFunctions.NoSuchThing", body, nil).want(t, 400, "MissingAuthenticationTokenException", "")
	n.raw(t, "AWSGlue.GetJobs", body, nil).want(t, 400, "MissingAuthenticationTokenException", "")
	resp, err := http.Get(n.endpoint + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz without credentials: %v %v", err, resp)
	}
	resp.Body.Close()
	// The console's static page (no data: it asks for an access key and signs its API
	// calls) opens without a signature, deep links included; the metrics do not.
	for _, path := range []string{"/", "/executions/arn%3Aaws%3Astates%3Aus-east-1%3A111111111111%3Aexecution%3Ax%3Ay"} {
		resp, err := http.Get(n.endpoint + path)
		if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("console %s without credentials: %v %v", path, err, resp)
		}
		resp.Body.Close()
	}
	if resp, err := http.Get(n.endpoint + "/metrics"); err != nil || resp.StatusCode == 200 {
		t.Fatalf("/metrics without credentials: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}

	// Hand-signed requests with a fixed clock.
	signedAt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sign := func(h *http.Request, payload, region, service string) {
		sum := sha256.Sum256([]byte(payload))
		creds := aws.Credentials{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: "secret-of-team-a"}
		if err := v4.NewSigner().SignHTTP(bg, creds, h, hex.EncodeToString(sum[:]), service, region, signedAt); err != nil {
			t.Fatal(err)
		}
	}
	n.clock.set(signedAt.Add(4 * time.Minute))
	n.raw(t, "AWSStepFunctions.ListStateMachines", body, func(h *http.Request) { sign(h, body, "us-east-1", "states") }).want(t, 200, "", "")
	// Glue is served through the same edge: signed for "glue" it answers, for
	// "states" it is refused.
	n.raw(t, "AWSGlue.GetJobs", body, func(h *http.Request) { sign(h, body, "us-east-1", "glue") }).want(t, 200, "", "")
	n.raw(t, "AWSGlue.GetJobs", body, func(h *http.Request) { sign(h, body, "us-east-1", "states") }).
		want(t, 400, "InvalidSignatureException", "Credential should be scoped to correct service: 'glue'. ")
	// The body changed after signing.
	n.raw(t, "AWSStepFunctions.ListStateMachines", `{"maxResults":1}`, func(h *http.Request) { sign(h, body, "us-east-1", "states") }).
		want(t, 400, "InvalidSignatureException", "The request signature we calculated does not match")
	// A header added to the signed set after signing.
	n.raw(t, "AWSStepFunctions.ListStateMachines", body, func(h *http.Request) {
		sign(h, body, "us-east-1", "states")
		h.Header.Set("X-Amz-Target", "AWSStepFunctions.ListActivities")
	}).want(t, 400, "InvalidSignatureException", "The request signature we calculated does not match")
	// Scoped to another service, or to a region that does not exist.
	n.raw(t, "AWSStepFunctions.ListStateMachines", body, func(h *http.Request) { sign(h, body, "us-east-1", "glue") }).
		want(t, 400, "InvalidSignatureException", "Credential should be scoped to correct service: 'states'. ")
	n.raw(t, "AWSStepFunctions.ListStateMachines", body, func(h *http.Request) { sign(h, body, "zz-evil-9", "states") }).
		want(t, 400, "InvalidSignatureException", "Credential should be scoped to a valid region, not 'zz-evil-9'. ")
	// Expired and not yet current: AWS's five minutes either way.
	n.clock.set(signedAt.Add(5*time.Minute + time.Second))
	n.raw(t, "AWSStepFunctions.ListStateMachines", body, func(h *http.Request) { sign(h, body, "us-east-1", "states") }).
		want(t, 400, "InvalidSignatureException", "Signature expired: 20260301T120000Z is now earlier than 20260301T120001Z (20260301T120501Z - 5 min.)")
	n.clock.set(signedAt.Add(-5*time.Minute - time.Second))
	n.raw(t, "AWSStepFunctions.ListStateMachines", body, func(h *http.Request) { sign(h, body, "us-east-1", "states") }).
		want(t, 400, "InvalidSignatureException", "Signature not yet current: 20260301T120000Z is still later than 20260301T115959Z (20260301T115459Z + 5 min.)")
	n.clock.set(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	n.raw(t, "AWSStepFunctions.ListStateMachines", body, func(h *http.Request) { sign(h, body, "us-east-1", "states") }).
		want(t, 400, "InvalidSignatureException", "Signature not yet current")
	n.clock.set(time.Time{})
}

type rawResp struct {
	status int
	body   map[string]any
	text   string
}

func (n *node) raw(t *testing.T, target, body string, prepare func(*http.Request)) rawResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, n.endpoint+"/", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if prepare != nil {
		prepare(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := rawResp{status: resp.StatusCode, text: string(b)}
	_ = json.Unmarshal(b, &out.body)
	return out
}

func (r rawResp) want(t *testing.T, status int, code, msgPrefix string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.text)
	}
	if code == "" {
		return
	}
	msg, _ := r.body["message"].(string)
	if r.body["__type"] != code || !strings.HasPrefix(msg, msgPrefix) {
		t.Fatalf("got %v %q, want %s %q...", r.body["__type"], msg, code, msgPrefix)
	}
}

// TestBoto3TwoAccounts drives the node with boto3 from a shared credentials file with
// two profiles.
func TestBoto3TwoAccounts(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 with boto3 is not available")
	}
	n := start(t)
	script := `
import sys, boto3, botocore
endpoint = sys.argv[1]
def client(profile, region="us-east-1"):
    return boto3.Session(profile_name=profile).client("stepfunctions", region_name=region, endpoint_url=endpoint)
a, b = client("team-a"), client("team-b")
arn = a.create_activity(name="boto")["activityArn"]
assert arn == "arn:aws:states:us-east-1:111111111111:activity:boto", arn
assert [x["name"] for x in a.list_activities()["activities"]] == ["boto"]
assert b.list_activities()["activities"] == []
try:
    b.describe_activity(activityArn=arn)
    raise SystemExit("team B described team A's activity")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ActivityDoesNotExist", e.response
bad = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url=endpoint,
    aws_access_key_id="AKIAAAAAAAAAAAAAAAAA", aws_secret_access_key="nope")
try:
    bad.list_activities()
    raise SystemExit("a wrong secret was accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidSignatureException", e.response
print("ok")
`
	cmd := exec.Command("python3", "-c", script, n.endpoint)
	cmd.Env = append(os.Environ(), "AWS_SHARED_CREDENTIALS_FILE="+n.credPath, "AWS_CONFIG_FILE="+filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
