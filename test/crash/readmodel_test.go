package crash

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnd/sfnd/events"
)

// The read-model workload: short executions (a real 1 s Wait, a Pass chain, an inline
// Map of 5), started by 20 clients at a time, so that a kill -9 lands while many end.
var readModelMachines = []machine{
	{"rm-wait", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"P"},
		"P":{"Type":"Pass","Parameters":{"n.$":"$.n","waited":true},"End":true}}}`, 0},
	{"rm-chain", `{"StartAt":"S1","States":{
		"S1":{"Type":"Pass","Parameters":{"n.$":"$.n","s":1},"Next":"S2"},
		"S2":{"Type":"Pass","Parameters":{"n.$":"$.n","s":2},"Next":"S3"},
		"S3":{"Type":"Pass","Parameters":{"n.$":"$.n","s":3},"Next":"S4"},
		"S4":{"Type":"Pass","Parameters":{"n.$":"$.n","s":4},"Next":"S5"},
		"S5":{"Type":"Pass","Parameters":{"n.$":"$.n","s":5},"Next":"S6"},
		"S6":{"Type":"Pass","Parameters":{"n.$":"$.n","s":6},"Next":"S7"},
		"S7":{"Type":"Pass","Parameters":{"n.$":"$.n","s":7},"Next":"S8"},
		"S8":{"Type":"Pass","Parameters":{"n.$":"$.n","s":8},"End":true}}}`, 0},
	{"rm-map", `{"StartAt":"Gen","States":{
		"Gen":{"Type":"Pass","Parameters":{"items.$":"States.ArrayRange(1, 5, 1)","n.$":"$.n"},"Next":"M"},
		"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"i.$":"$$.Map.Item.Value","n.$":"$.n"},
		  "ItemProcessor":{"StartAt":"IP","States":{"IP":{"Type":"Pass","Parameters":{"v.$":"States.MathAdd($.i, $.n)"},"End":true}}},"End":true}}}`, 0},
}

// TestKill9ReadModelKeepsUp kills the server at random moments while executions end
// and checks that the read model (DescribeExecution, ListExecutions with a status
// filter, DeleteStateMachine) ends up exactly where the histories are: an execution
// whose history ended is never reported RUNNING, across any number of restarts.
//
// Each round starts 200 executions with 20 clients, kills the process 0.1 to 1.7 s
// into the round (seeded; SFND_CRASH_SEED replays a run) and restarts it on the same
// data directory; SFND_CRASH_ROUNDS changes the number of rounds (default 20).
func TestKill9ReadModelKeepsUp(t *testing.T) {
	skipProcs(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SFND_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SFND_CRASH_SEED: %v", err)
		}
		seed = v
	}
	rounds := 20
	if s := os.Getenv("SFND_CRASH_ROUNDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("SFND_CRASH_ROUNDS: %q", s)
		}
		rounds = v
	}
	const perRound, clients = 200, 20
	t.Logf("seed %d (rerun with SFND_CRASH_SEED=%d), %d rounds", seed, seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 0x7a11))
	began := time.Now()

	srv := server(t, "", 1)
	srv.Start()
	c := client(srv.URL())
	ctx := context.Background()
	for _, m := range readModelMachines {
		if _, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(m.name),
			Definition: aws.String(m.def), RoleArn: aws.String(role)}); err != nil {
			t.Fatalf("create %s: %v", m.name, err)
		}
	}

	var all []planned
	for r := range rounds {
		batch := make([]planned, perRound)
		for i := range batch {
			m := readModelMachines[i%len(readModelMachines)]
			batch[i] = planned{sm: m.name, name: fmt.Sprintf("r%02d-%03d", r, i), input: fmt.Sprintf(`{"n":%d}`, r*perRound+i)}
		}
		all = append(all, batch...)
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for range clients {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(batch) {
						return
					}
					if err := startWithRetry(ctx, c, batch[i]); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		up := time.Duration(100+rng.IntN(1600)) * time.Millisecond
		time.Sleep(up)
		srv.Kill9()
		t.Logf("round %d: kill -9 after %v (%d/%d starts taken)", r+1, up, min(next.Load(), perRound), perRound)
		srv.Start()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	crashPhase := time.Since(began)

	// Every execution ends, and what the read model says is what its history says.
	deadline := time.Now().Add(60 * time.Second)
	var stuck []string
	for _, p := range all {
		arn := execARN(p.sm, p.name)
		o, err := waitDone(c, arn, deadline)
		h := history(t, srv.URL(), arn)
		if len(h) == 0 {
			t.Fatalf("%s: %+v with an empty history", p.name, o)
		}
		last := h[len(h)-1]
		if err != nil {
			if len(stuck) == 0 {
				t.Logf("%v; its history:\n%s", err, compact(h))
			}
			stuck = append(stuck, fmt.Sprintf("%s (history ends with %s)", p.name, last.Type))
			continue
		}
		if want := terminalStatus(last.Type); o.Status != want {
			t.Fatalf("%s: DescribeExecution says %s, its history ends with %s", p.name, o.Status, last.Type)
		}
		if last.Type == events.ExecutionSucceeded && last.ExecutionSucceededEventDetails != nil &&
			aws.ToString(last.ExecutionSucceededEventDetails.Output) != o.Output {
			t.Fatalf("%s: DescribeExecution output %s, history %s", p.name, o.Output, aws.ToString(last.ExecutionSucceededEventDetails.Output))
		}
		if o.Status != "SUCCEEDED" {
			t.Errorf("%s ended %s", p.name, o.Status)
		}
	}
	if len(stuck) > 0 {
		t.Fatalf("%d of %d executions still RUNNING for DescribeExecution 60 s after the last kill: %s", len(stuck), len(all), strings.Join(stuck, ", "))
	}
	for _, m := range readModelMachines {
		out, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(smARN(m.name)),
			StatusFilter: types.ExecutionStatusRunning})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Executions) > 0 {
			t.Errorf("ListExecutions %s RUNNING lists %d executions, none runs (first %s)", m.name, len(out.Executions), aws.ToString(out.Executions[0].ExecutionArn))
		}
		listed := map[string]bool{}
		for pg := sfn.NewListExecutionsPaginator(c, &sfn.ListExecutionsInput{StateMachineArn: aws.String(smARN(m.name)),
			StatusFilter: types.ExecutionStatusSucceeded, MaxResults: 1000}); pg.HasMorePages(); {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Executions {
				listed[aws.ToString(e.Name)] = true
			}
		}
		var missing []string
		for _, p := range all {
			if p.sm == m.name && !listed[p.name] {
				missing = append(missing, p.name)
			}
		}
		if len(missing) > 0 {
			t.Errorf("ListExecutions %s SUCCEEDED misses %d executions: %s", m.name, len(missing), strings.Join(missing, ", "))
		}
	}
	// With nothing running, a deleted state machine goes away.
	for _, m := range readModelMachines {
		if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(smARN(m.name))}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range readModelMachines {
		for gone := time.Now().Add(15 * time.Second); ; {
			_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(smARN(m.name))})
			if apiCode(err) == "StateMachineDoesNotExist" {
				break
			}
			if time.Now().After(gone) {
				t.Fatalf("state machine %s not deleted 15 s after DeleteStateMachine (err %v)", m.name, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("%d executions under %d kill -9: every one ended, read model equal to the histories (crash phase %v, total %v)",
		len(all), rounds, crashPhase.Round(100*time.Millisecond), time.Since(began).Round(100*time.Millisecond))
}

func terminalStatus(t events.Type) string {
	switch t {
	case events.ExecutionSucceeded:
		return "SUCCEEDED"
	case events.ExecutionFailed:
		return "FAILED"
	case events.ExecutionAborted:
		return "ABORTED"
	case events.ExecutionTimedOut:
		return "TIMED_OUT"
	}
	return "RUNNING (" + strings.ToLower(string(t)) + ")"
}
