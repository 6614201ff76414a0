// Package cluster runs several sfnd nodes on one NATS server, as a deployment that
// scales out does, and checks that any node answers for anything.
package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/test/testutil"
)

func startNodes(t *testing.T, n int) []*sfn.Client {
	t.Helper()
	ns, err := jsstore.StartEmbedded(jsstore.EmbeddedConfig{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	var clients []*sfn.Client
	for range n {
		a, err := app.Start(context.Background(), app.Config{
			Listen: "127.0.0.1:0", NatsURL: ns.ClientURL(), WaitTimeScale: 0.01,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		clients = append(clients, testutil.Client(a.Endpoint()))
	}
	return clients
}

func TestNodesShareOneNATS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nodes := startNodes(t, 2)
	a, b := nodes[0], nodes[1]

	// Control plane: written on one node, read at once on the other.
	for i := range 10 {
		name := fmt.Sprintf("sm%d", i)
		out, err := a.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name: aws.String(name), RoleArn: aws.String("arn:aws:iam::123456789012:role/r"),
			Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"W"},"W":{"Type":"Wait","Seconds":1,"End":true}}}`),
		})
		if err != nil {
			t.Fatalf("create on node a: %v", err)
		}
		if _, err := b.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: out.StateMachineArn}); err != nil {
			t.Fatalf("describe on node b right after create on a: %v", err)
		}
		// Writes through the other node too.
		if _, err := b.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: out.StateMachineArn,
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String(name)}}}); err != nil {
			t.Fatalf("tag on node b: %v", err)
		}
		tags, err := a.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: out.StateMachineArn})
		if err != nil || len(tags.Tags) != 1 {
			t.Fatalf("tags on node a after tagging on b: %v %v", tags, err)
		}
	}

	// Executions started on either node finish, and either node describes them.
	list, err := b.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(list.StateMachines) != 10 {
		t.Fatalf("list on node b: %v %v", list, err)
	}
	var arns []string
	for i, sm := range list.StateMachines {
		c := nodes[i%2]
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(fmt.Sprintf(`{"i":%d}`, i))})
		if err != nil {
			t.Fatalf("start on node %d: %v", i%2, err)
		}
		arns = append(arns, *out.ExecutionArn)
	}
	for i, arn := range arns {
		c := nodes[(i+1)%2]
		for {
			d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
			if err != nil {
				t.Fatalf("describe on the other node: %v", err)
			}
			if d.Status == types.ExecutionStatusSucceeded {
				if want := fmt.Sprintf(`{"i":%d}`, i); aws.ToString(d.Output) != want {
					t.Fatalf("output %s, want %s", aws.ToString(d.Output), want)
				}
				break
			}
			if d.Status != types.ExecutionStatusRunning || ctx.Err() != nil {
				t.Fatalf("execution %s: %s (%v)", arn, d.Status, ctx.Err())
			}
			time.Sleep(20 * time.Millisecond)
		}
		h, err := nodes[i%2].GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
		if err != nil || len(h.Events) != 6 {
			t.Fatalf("history: %d events, %v", len(h.Events), err)
		}
	}
}

// TestReadYourWritesUnderLoad: more control-plane writes than one node's projection
// consumer pulls in one batch, so both nodes' consumers apply some of them; every
// write must still be visible when its call returns, on both nodes.
func TestReadYourWritesUnderLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	nodes := startNodes(t, 2)
	for i := range 700 {
		w, r := nodes[i%2], nodes[(i+1)%2]
		out, err := w.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String(fmt.Sprintf("act%d", i))})
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		if _, err := r.DescribeActivity(ctx, &sfn.DescribeActivityInput{ActivityArn: out.ActivityArn}); err != nil {
			t.Fatalf("describe %d on the other node: %v", i, err)
		}
	}
}

// TestStopFromAnotherNode: an execution started through one node is stopped through
// the other, promptly, and both see it ABORTED.
func TestStopFromAnotherNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nodes := startNodes(t, 2)
	sm, err := nodes[0].CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("long"), RoleArn: aws.String("arn:aws:iam::123456789012:role/r"),
		Definition: aws.String(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		out, err := nodes[0].StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if _, err := nodes[1].StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: out.ExecutionArn, Error: aws.String("E")}); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(t0); took > 2*time.Second {
			t.Errorf("stop %d took %v", i, took)
		}
		for _, c := range nodes {
			d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
			if err != nil || d.Status != types.ExecutionStatusAborted {
				t.Fatalf("after stop: %v %v", d.Status, err)
			}
		}
	}
}

// TestReadyzChecksPartitions: /readyz is 200 while the node pulls on every command
// partition it should own, and 503 naming the partition once it cannot (here the
// partition's consumer is deleted under it; its pull ends and cannot start again).
func TestReadyzChecksPartitions(t *testing.T) {
	a := testutil.Start(t, testutil.Options{})
	get := func() (int, string) {
		t.Helper()
		resp, err := http.Get(a.Endpoint() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(); code != http.StatusOK {
		t.Fatalf("/readyz of a started node: %d %s", code, body)
	}
	if err := a.Store.CommandStream().DeleteConsumer(context.Background(), actors.ConsumerName(3)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get()
		if code == http.StatusServiceUnavailable && strings.Contains(body, "not consuming command partitions [3]") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with partition 3's consumer gone: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
