// Package distmap tests Distributed Map end to end: Map Runs of real child executions,
// ItemReader / ItemBatcher / ResultWriter against a local root and against a real S3
// server (versitygw), and the Map Run API through aws-sdk-go-v2.
package distmap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/test/testutil"
)

var ctx = context.Background()

// node starts sfnd with a local S3 root holding bucket "data"; it returns the client
// and the root.
func node(t *testing.T) (*sfn.Client, string) {
	t.Helper()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := testutil.Start(t, testutil.Options{S3LocalRoot: root})
	return testutil.Client(a.Endpoint()), root
}

func run(t *testing.T, c *sfn.Client, def, input string) (*sfn.DescribeExecutionOutput, string) {
	t.Helper()
	sm := testutil.CreateStateMachine(t, c, fmt.Sprintf("dm-%d", time.Now().UnixNano()), def)
	arn := testutil.StartExecution(t, c, sm, input)
	return testutil.WaitDone(t, c, arn, 60*time.Second), arn
}

func mapDef(extra, processor string) string {
	if processor == "" {
		processor = `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	}
	var p map[string]any
	_ = json.Unmarshal([]byte(processor), &p)
	p["ProcessorConfig"] = map[string]any{"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
	pb, _ := json.Marshal(p)
	return `{"StartAt":"M","States":{"M":{"Type":"Map",` + extra + `"ItemProcessor":` + string(pb) + `,"End":true}}}`
}

func compact(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}

func wantTypes(t *testing.T, c *sfn.Client, exec, want string) {
	t.Helper()
	if got := testutil.HistoryTypes(t, c, exec); got != want {
		t.Errorf("history of %s:\n got %s\nwant %s", exec, got, want)
	}
}

func mapRunOf(t *testing.T, c *sfn.Client, exec string) string {
	t.Helper()
	out, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(exec)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MapRuns) != 1 {
		t.Fatalf("ListMapRuns: %d map runs", len(out.MapRuns))
	}
	mr := out.MapRuns[0]
	if aws.ToString(mr.ExecutionArn) != exec || !strings.Contains(aws.ToString(mr.MapRunArn), ":mapRun:") {
		t.Fatalf("map run %+v", mr)
	}
	return aws.ToString(mr.MapRunArn)
}

func children(t *testing.T, c *sfn.Client, mapRun string) []types.ExecutionListItem {
	t.Helper()
	var all []types.ExecutionListItem
	var tok *string
	for {
		out, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(mapRun), NextToken: tok, MaxResults: 1000})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.Executions...)
		if out.NextToken == nil {
			return all
		}
		tok = out.NextToken
	}
}

// A Map Run's iterations are executions of their own: listed under the Map Run,
// describable, with the Map Run's ARN; the parent's history shows the Map Run.
func TestMapRunChildren(t *testing.T) {
	c, _ := node(t)
	def := mapDef(`"Label":"lbl","MaxConcurrency":2,"ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},`, "")
	d, exec := run(t, c, def, `[10,20,30,40,50]`)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	want := `[{"v":10,"i":0},{"v":20,"i":1},{"v":30,"i":2},{"v":40,"i":3},{"v":50,"i":4}]`
	if compact(aws.ToString(d.Output)) != want {
		t.Fatalf("output %s, want %s", aws.ToString(d.Output), want)
	}
	wantTypes(t, c, exec, "1:ExecutionStarted<0 2:MapStateEntered<0 3:MapStateStarted<2 4:MapRunStarted<3 5:MapRunSucceeded<4 6:MapStateSucceeded<5 7:MapStateExited<4 8:ExecutionSucceeded<7")
	mr := mapRunOf(t, c, exec)
	if !strings.Contains(mr, "/lbl:") {
		t.Errorf("map run ARN %s has no label", mr)
	}
	dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr)})
	if err != nil {
		t.Fatal(err)
	}
	if dm.Status != types.MapRunStatusSucceeded || dm.MaxConcurrency != 2 || dm.ExecutionCounts.Total != 5 ||
		dm.ExecutionCounts.Succeeded != 5 || dm.ItemCounts.Total != 5 || dm.ItemCounts.Succeeded != 5 || dm.StopDate == nil ||
		aws.ToString(dm.ExecutionArn) != exec {
		t.Errorf("DescribeMapRun %+v items %+v executions %+v", dm, dm.ItemCounts, dm.ExecutionCounts)
	}
	kids := children(t, c, mr)
	if len(kids) != 5 {
		t.Fatalf("ListExecutions(mapRunArn): %d children", len(kids))
	}
	var inputs []string
	for _, k := range kids {
		if k.Status != types.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(k.StateMachineArn), ":stateMachine:") ||
			!strings.HasSuffix(aws.ToString(k.StateMachineArn), "/lbl") {
			t.Errorf("child %+v", k)
		}
		de, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: k.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(de.MapRunArn) != mr {
			t.Errorf("child's mapRunArn %q", aws.ToString(de.MapRunArn))
		}
		inputs = append(inputs, compact(aws.ToString(de.Input)))
		h := testutil.HistoryTypes(t, c, aws.ToString(k.ExecutionArn))
		if h != "1:ExecutionStarted<0 2:PassStateEntered<0 3:PassStateExited<2 4:ExecutionSucceeded<3" {
			t.Errorf("child history %s", h)
		}
		sfe, err := c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: k.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(sfe.MapRunArn) != mr || aws.ToString(sfe.Label) != "lbl" || !strings.Contains(aws.ToString(sfe.Definition), `"StartAt":"P"`) {
			t.Errorf("DescribeStateMachineForExecution(child) %+v", sfe)
		}
	}
	sort.Strings(inputs)
	if strings.Join(inputs, " ") != `{"v":10,"i":0} {"v":20,"i":1} {"v":30,"i":2} {"v":40,"i":3} {"v":50,"i":4}` {
		t.Errorf("children's inputs %v", inputs)
	}
}

// ItemBatcher: items grouped by count (and bytes), BatchInput added.
func TestItemBatcher(t *testing.T) {
	c, _ := node(t)
	def := mapDef(`"ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"k.$":"$.k"}},"ItemsPath":"$.items",`, "")
	d, exec := run(t, c, def, `{"k":"x","items":[1,2,3]}`)
	want := `[{"BatchInput":{"k":"x"},"Items":[1,2]},{"BatchInput":{"k":"x"},"Items":[3]}]`
	if d.Status != types.ExecutionStatusSucceeded || compact(aws.ToString(d.Output)) != want {
		t.Fatalf("%s %s, want %s (%s)", d.Status, aws.ToString(d.Output), want, aws.ToString(d.Cause))
	}
	dm, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mapRunOf(t, c, exec))})
	if err != nil {
		t.Fatal(err)
	}
	if dm.ItemCounts.Total != 3 || dm.ExecutionCounts.Total != 2 {
		t.Errorf("counts: items %+v executions %+v", dm.ItemCounts, dm.ExecutionCounts)
	}
	// By bytes: each item is 9 bytes ("\"aaaaaaa\""); a batch {"Items":[...]} of two is 31.
	def = mapDef(`"ItemBatcher":{"MaxInputBytesPerBatch":31},`, "")
	d, _ = run(t, c, def, `["aaaaaaa","bbbbbbb","ccccccc"]`)
	want = `[{"Items":["aaaaaaa","bbbbbbb"]},{"Items":["ccccccc"]}]`
	if compact(aws.ToString(d.Output)) != want {
		t.Fatalf("by bytes: %s, want %s", aws.ToString(d.Output), want)
	}
}

// Tolerated failures: within the tolerance the run succeeds (the failed item's entry
// is its error); beyond it, States.ExceedToleratedFailureThreshold.
func TestToleratedFailures(t *testing.T) {
	c, _ := node(t)
	proc := `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":3,"Next":"F"}],"Default":"P"},"P":{"Type":"Pass","End":true},"F":{"Type":"Fail","Error":"Bad","Cause":"three"}}}`
	d, exec := run(t, c, mapDef(`"ToleratedFailureCount":1,`, proc), `[1,2,3,4]`)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("within tolerance: %s %s", d.Status, aws.ToString(d.Cause))
	}
	if compact(aws.ToString(d.Output)) != `[1,2,{"Error":"Bad","Cause":"three"},4]` {
		t.Errorf("output %s", aws.ToString(d.Output))
	}
	dm, _ := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mapRunOf(t, c, exec))})
	if dm.ExecutionCounts.Failed != 1 || dm.ExecutionCounts.Succeeded != 3 || dm.ToleratedFailureCount != 1 {
		t.Errorf("counts %+v tolerated %d", dm.ExecutionCounts, dm.ToleratedFailureCount)
	}
	d, exec = run(t, c, mapDef(`"ToleratedFailurePercentage":20,`, proc), `[1,2,3,4]`)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.ExceedToleratedFailureThreshold" {
		t.Fatalf("beyond tolerance: %s %s", d.Status, aws.ToString(d.Error))
	}
	wantTypes(t, c, exec, "1:ExecutionStarted<0 2:MapStateEntered<0 3:MapStateStarted<2 4:MapRunStarted<3 5:MapRunFailed<4 6:MapStateFailed<5 7:ExecutionFailed<6")
	dm, _ = c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mapRunOf(t, c, exec))})
	if dm.Status != types.MapRunStatusFailed {
		t.Errorf("map run status %s", dm.Status)
	}
	// No tolerance: one failure fails the run.
	d, _ = run(t, c, mapDef(``, proc), `[3]`)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.ExceedToleratedFailureThreshold" {
		t.Fatalf("no tolerance: %s %s", d.Status, aws.ToString(d.Error))
	}
}
