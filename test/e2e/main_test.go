package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/sfnd/sfnd/cmd/sfnd/app"
)

// node is the one server the tests of this package share; each test uses names of
// its own (uniq), and a region of its own where it counts list results.
var node *app.App

// httpClient carries every request of the tests. Its idle connections are closed
// before a node stops: a connection the client dialled but never used would hold the
// server's graceful shutdown for its 5 s grace.
var httpClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

func closeIdle() { httpClient.CloseIdleConnections() }

// binDir holds the sfnd binary the process tests build.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sfnd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = filepath.Join(dir, "bin")
	node, err = app.Start(context.Background(), app.Config{
		Listen: "127.0.0.1:0", DataDir: dir, NATSPort: 0,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start sfnd:", err)
		os.Exit(1)
	}
	code := m.Run()
	closeIdle()
	node.Close()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

const (
	account = "123456789012"
	roleArn = "arn:aws:iam::123456789012:role/sfn-role"
)

// passDefinition is a one-state definition whose result r makes it distinct.
func passDefinition(r string) string {
	return `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"` + r + `","End":true}}}`
}

var seq atomic.Int64

// uniq returns a name no other test uses.
func uniq(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, seq.Add(1))
}

// client returns an SDK client for the shared node that signs for region.
func client(region string) *sfn.Client {
	return clientFor(node.Endpoint(), region)
}

func clientFor(endpoint, region string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  aws.NewCredentialsCache(staticCreds{}),
		// The SDK's retries stay on: aws-sdk-go-v2 has a client-side race with fast local
		// servers ("use of closed network connection", aws/aws-sdk-go-v2#1825) that a retry
		// absorbs; documented errors are 4xx and are not retried.
		RetryMaxAttempts: 3,
		HTTPClient:       httpClient,
	})
}

type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", Source: "test"}, nil
}

func smARN(region, name string) string {
	return "arn:aws:states:" + region + ":" + account + ":stateMachine:" + name
}

func actARN(region, name string) string {
	return "arn:aws:states:" + region + ":" + account + ":activity:" + name
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// ok fails the test on an unexpected error.
func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantErr asserts that err is the AWS error code with message msg (any message when
// msg is empty), answered with HTTP 400 and a request id.
func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("%s message\n got %q\nwant %q", code, ae.ErrorMessage(), msg)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%v carries no HTTP response", err)
	}
	if re.HTTPStatusCode() != http.StatusBadRequest {
		t.Fatalf("%s: HTTP status %d, want 400", code, re.HTTPStatusCode())
	}
	if re.ServiceRequestID() == "" {
		t.Fatalf("%s: no x-amzn-RequestId", code)
	}
}

// rawResponse is an answer to a hand-made request.
type rawResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
	Text   string
}

// raw posts body with target as X-Amz-Target, for requests no SDK would send.
func raw(t *testing.T, target, body string) rawResponse {
	t.Helper()
	req, err := newRawRequest(target, body)
	if err != nil {
		t.Fatal(err)
	}
	r, err := httpDo(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newRawRequest(target, body string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, node.Endpoint()+"/", bytes.NewBufferString(body))
	if err != nil {
		return nil, err
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	return req, nil
}

func httpDo(req *http.Request) (rawResponse, error) {
	resp, err := httpClient.Do(req)
	if err != nil {
		return rawResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return rawResponse{}, err
	}
	out := rawResponse{Status: resp.StatusCode, Header: resp.Header, Text: string(b)}
	if err := json.Unmarshal(b, &out.Body); err != nil {
		return out, fmt.Errorf("answer is not a JSON object: %q", b)
	}
	return out, nil
}

// wantRawErr asserts a hand-made request's AWS error answer.
func wantRawErr(t *testing.T, r rawResponse, code, msgPrefix string) {
	t.Helper()
	if r.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", r.Status, r.Text)
	}
	if r.Body["__type"] != code {
		t.Fatalf("__type %v, want %s: %s", r.Body["__type"], code, r.Text)
	}
	if msg, _ := r.Body["message"].(string); !strings.HasPrefix(msg, msgPrefix) {
		t.Fatalf("message %q, want prefix %q", msg, msgPrefix)
	}
	if r.Header.Get("x-amzn-RequestId") == "" {
		t.Fatal("no x-amzn-RequestId")
	}
}
