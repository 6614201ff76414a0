package integrations

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

// TestKill9DuringCall: a service call in flight when the server is killed with
// SIGKILL is made again after the restart — integrations are at-least-once, as on
// AWS (the call's outcome was never recorded, so the task is dispatched again) — and
// the execution completes with one recorded result.
func TestKill9DuringCall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the sfnd binary")
	}
	hang := make(chan struct{})
	rec := newRecorder(t, func(op string, body map[string]any, n int) (int, string, string) {
		if n == 1 {
			<-hang // the first call never answers: the server dies while waiting
		}
		sum := md5.Sum([]byte(body["MessageBody"].(string)))
		return 200, "", `{"MD5OfMessageBody":"` + hex.EncodeToString(sum[:]) + `","MessageId":"m-` + strconv.Itoa(n) + `"}`
	})
	t.Cleanup(func() { close(hang) }) // before the recorder closes (cleanups run last first)
	bin := testutil.SfndBinary(t)
	dir, port := t.TempDir(), testutil.FreePort(t)
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:"+strconv.Itoa(port), "--data-dir", dir,
			"--sqs-endpoint", rec.URL, "--log-level", "warn")
		logf, _ := os.OpenFile(filepath.Join(dir, "sfnd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if resp, err := http.Get(endpoint + "/healthz"); err == nil {
				resp.Body.Close()
				return cmd
			}
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(filepath.Join(dir, "sfnd.log"))
				t.Fatalf("sfnd did not start:\n%s", log)
			}
		}
	}
	cmd := start()
	c := testutil.Client(endpoint)
	sm := testutil.CreateStateMachine(t, c, "send", `{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",
		"Parameters":{"QueueUrl":"`+rec.URL+`/123456789012/q","MessageBody.$":"$.msg"},"End":true}}}`)
	arn := testutil.StartExecution(t, c, sm, `{"msg":"hello"}`)
	for deadline := time.Now().Add(30 * time.Second); len(rec.Calls("SendMessage")) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the call was not made")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	start()
	out := testutil.WaitDoneRetrying(t, c, arn, 60*time.Second)
	if out.Status != types.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(out.Output), `"MessageId":"m-2"`) {
		t.Fatal(failed(t, out), aws.ToString(out.Output))
	}
	calls := rec.Calls("SendMessage")
	if len(calls) != 2 || calls[0].Body["MessageBody"] != "hello" || calls[1].Body["MessageBody"] != "hello" {
		t.Fatalf("calls %v", calls)
	}
	h := testutil.HistoryTypes(t, c, arn)
	if strings.Count(h, "TaskSucceeded") != 1 || !strings.Contains(h, "ExecutionSucceeded<") {
		t.Fatalf("history %s", h)
	}
}
