package auth

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/gluejob"
	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/test/testutil"
)

// TestNATSGlueWorker: with --nats-worker-password, an outside Glue worker connects as
// user glue-worker and runs the node's Glue jobs (here sfnd's own runner, on a
// connection of that user), while everything else is refused to it: the task token
// key bucket, a direct read of it, a stream sourcing it, another stream, a
// subscription to the key's subject.
func TestNATSGlueWorker(t *testing.T) {
	const workerPW = "worker-password-0123456789"
	a := testutil.Start(t, testutil.Options{NATSWorkerPassword: workerPW, GlueWork: app.GlueWork{NoRunner: true}})
	var mu sync.Mutex
	var violations []string
	nc, err := nats.Connect(a.NATSPublicURL(), nats.UserInfo(app.NATSWorkerUser, workerPW),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			mu.Lock()
			violations = append(violations, err.Error())
			mu.Unlock()
		}))
	if err != nil {
		t.Fatalf("the worker user: %v", err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	refused := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("the worker user could %s", what)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	_, err = js.KeyValue(ctx, "sfn_keys")
	cancel()
	refused("open the task token key bucket", err)
	_, err = nc.Request("$JS.API.DIRECT.GET.KV_sfn_keys.$KV.sfn_keys.task-token-hmac", nil, 2*time.Second)
	refused("read the task token key directly", err)
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "STEAL", Sources: []*jetstream.StreamSource{{Name: "KV_sfn_keys"}}})
	cancel()
	refused("create a stream sourcing the key bucket", err)
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
	_, err = js.Stream(ctx, "SFN_HISTORY")
	cancel()
	refused("look at the histories", err)
	sub, err := nc.SubscribeSync("$KV.sfn_keys.>")
	if err == nil {
		_ = nc.Flush()
		time.Sleep(200 * time.Millisecond)
		if _, err := sub.NextMsg(200 * time.Millisecond); err == nil {
			t.Fatal("the worker user received a key message")
		}
		mu.Lock()
		got := strings.Join(violations, "; ")
		mu.Unlock()
		if !strings.Contains(strings.ToLower(got), "permissions violation") {
			t.Fatalf("subscribing to the key's subject was not refused: %q", got)
		}
	}

	// The worker does its job: sfnd's runner on the worker's connection runs a job.
	dir := t.TempDir()
	runner, err := gluejob.Start(context.Background(), js, nc, gluejob.Config{
		Endpoint: a.Endpoint(), Region: "us-east-1", OutputDir: filepath.Join(dir, "out"), Fetcher: gluejob.ObjectsFetcher{Store: a.Objects},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("runner as the worker user: %v", err)
	}
	defer runner.Close()
	script := filepath.Join(dir, "job.py")
	if err := os.WriteFile(script, []byte("print('worked')\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := glue.New(glue.Options{Region: "us-east-1", BaseEndpoint: aws.String(a.Endpoint()), Credentials: aws.AnonymousCredentials{}})
	must[*glue.CreateJobOutput](t)(g.CreateJob(bg, &glue.CreateJobInput{Name: aws.String("outside"), Role: aws.String("arn:aws:iam::123456789012:role/r"),
		Command: &types.JobCommand{Name: aws.String("pythonshell"), ScriptLocation: aws.String(script)}}))
	run := must[*glue.StartJobRunOutput](t)(g.StartJobRun(bg, &glue.StartJobRunInput{JobName: aws.String("outside")}))
	deadline := time.Now().Add(90 * time.Second)
	for {
		jr := must[*glue.GetJobRunOutput](t)(g.GetJobRun(bg, &glue.GetJobRunInput{JobName: aws.String("outside"), RunId: run.JobRunId}))
		if jr.JobRun.JobRunState == types.JobRunStateSucceeded {
			break
		}
		if s := jr.JobRun.JobRunState; s == types.JobRunStateFailed || s == types.JobRunStateError || time.Now().After(deadline) {
			t.Fatalf("job run by the outside worker: %s %s", s, aws.ToString(jr.JobRun.ErrorMessage))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
