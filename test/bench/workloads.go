package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/projections"
	"github.com/sfnd/sfnd/test/hostile"
)

// parallel calls fn(i) for i in [0, n) on workers goroutines and returns the first
// error (the others stop taking work).
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return first
}

// waitDone polls DescribeExecution until the execution left RUNNING; it returns an
// error unless it SUCCEEDED.
func (b *runner) waitDone(ctx context.Context, arn string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	pause := 500 * time.Microsecond
	for {
		out, err := b.c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		b.polls.Add(1)
		if err != nil {
			return errors.Wrap(err, "describe execution")
		}
		switch out.Status {
		case types.ExecutionStatusSucceeded:
			return nil
		case types.ExecutionStatusRunning:
		default:
			return errors.Newf("execution %s ended %s: %s %s", arn, out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
		select {
		case <-ctx.Done():
			return errors.Wrapf(ctx.Err(), "execution %s still running", arn)
		case <-time.After(pause):
		}
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// historyLength is the number of events of an execution's history.
func (b *runner) historyLength(ctx context.Context, arn string) (int, error) {
	n := 0
	p := sfn.NewGetExecutionHistoryPaginator(b.c, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, errors.Wrap(err, "get execution history")
		}
		n += len(out.Events)
	}
	return n, nil
}

// passChainStates is the length of the passchain workload's chain.
const passChainStates = 10

// passChain runs executions of a 10-state Pass chain from concurrent clients. Each
// execution's latency runs from the StartExecution call until DescribeExecution
// reports it SUCCEEDED; a state transition is one state of one execution.
func (b *runner) passChain(ctx context.Context) error {
	sz := b.cfg.Sizes
	smARN, err := b.createSM(ctx, "passchain", passChainDef(passChainStates))
	if err != nil {
		return err
	}
	startLat := make([]time.Duration, sz.PassChainExecutions+sz.PassChainClients)
	run := func(ctx context.Context, i int) (string, time.Duration, error) {
		t0 := time.Now()
		out, err := b.c.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(smARN), Name: aws.String("x" + strconv.Itoa(i)),
			Input: aws.String(`{"i":` + strconv.Itoa(i) + `}`),
		})
		if err != nil {
			return "", 0, errors.Wrap(err, "start execution")
		}
		startLat[i] = time.Since(t0)
		if err := b.waitDone(ctx, *out.ExecutionArn); err != nil {
			return "", 0, err
		}
		return *out.ExecutionArn, time.Since(t0), nil
	}
	// Warm up (connections, code paths); not counted.
	warm := min(sz.PassChainClients, sz.PassChainExecutions)
	if err := parallel(ctx, warm, sz.PassChainClients, func(ctx context.Context, i int) error {
		_, _, err := run(ctx, sz.PassChainExecutions+i)
		return err
	}); err != nil {
		return err
	}
	lat := make([]time.Duration, sz.PassChainExecutions)
	var sample atomic.Value
	cost0 := b.costsNow()
	t0 := time.Now()
	err = parallel(ctx, sz.PassChainExecutions, sz.PassChainClients, func(ctx context.Context, i int) error {
		arn, d, err := run(ctx, i)
		lat[i] = d
		sample.Store(arn)
		return err
	})
	elapsed := time.Since(t0)
	if err != nil {
		return err
	}
	evs, err := b.historyLength(ctx, sample.Load().(string))
	if err != nil {
		return err
	}
	n := sz.PassChainExecutions
	b.rep.PassChain = Throughput{
		Rate: float64(n*passChainStates) / elapsed.Seconds(), Count: n, Elapsed: elapsed, Latency: summarize(lat),
	}
	b.rep.Appends = float64(n*evs) / elapsed.Seconds()
	b.logf("passchain  %d executions in %s: %.0f transitions/s, %.0f executions/s, %d events each: %.0f events/s; p50 %s ms p99 %s ms",
		n, elapsed.Round(time.Millisecond), b.rep.PassChain.Rate, float64(n)/elapsed.Seconds(), evs, b.rep.Appends,
		ms(b.rep.PassChain.P50), ms(b.rep.PassChain.P99))
	sl := summarize(startLat[:n])
	b.logf("passchain  StartExecution part of it: p50 %s ms p99 %s ms", ms(sl.P50), ms(sl.P99))
	b.logCosts("passchain", "execution", n, cost0)
	return nil
}

// activity runs executions of one activity Task state served by concurrent
// GetActivityTask workers. A round trip runs from StartExecution (the task is
// scheduled when it returns) through the worker's SendTaskSuccess until the execution
// is seen SUCCEEDED (the next state ran).
func (b *runner) activity(ctx context.Context) error {
	sz := b.cfg.Sizes
	act, err := b.c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String(b.name("activity"))})
	if err != nil {
		return errors.Wrap(err, "create activity")
	}
	actARN := *act.ActivityArn
	smARN, err := b.createSM(ctx, "activity", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+actARN+`","Next":"After"},"After":{"Type":"Pass","End":true}}}`)
	if err != nil {
		return err
	}
	// Probe: are GetActivityTask / SendTaskSuccess served at all?
	if err := b.activityProbe(ctx, smARN, actARN); err != nil {
		return err
	}

	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	n := sz.ActivityExecutions
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	var werr atomic.Value
	var workers sync.WaitGroup
	for w := 0; w < sz.ActivityWorkers; w++ {
		workers.Go(func() {
			name := "w" + strconv.Itoa(w)
			for wctx.Err() == nil {
				task, err := b.c.GetActivityTask(wctx, &sfn.GetActivityTaskInput{ActivityArn: aws.String(actARN), WorkerName: aws.String(name)})
				if err != nil {
					if wctx.Err() == nil {
						werr.Store(errors.Wrap(err, "get activity task"))
					}
					return
				}
				if task.TaskToken == nil || *task.TaskToken == "" {
					continue
				}
				var in struct{ I int }
				if err := json.Unmarshal([]byte(aws.ToString(task.Input)), &in); err != nil {
					werr.Store(errors.Wrap(err, "task input"))
					return
				}
				if _, err := b.c.SendTaskSuccess(wctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"done":true}`)}); err != nil {
					if wctx.Err() == nil {
						werr.Store(errors.Wrap(err, "send task success"))
					}
					return
				}
				if in.I >= 0 && in.I < n {
					close(done[in.I])
				}
			}
		})
	}
	lat := make([]time.Duration, n)
	cost0 := b.costsNow()
	t0 := time.Now()
	err = parallel(ctx, n, sz.ActivityClients, func(ctx context.Context, i int) error {
		s := time.Now()
		out, err := b.c.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(smARN), Name: aws.String("a" + strconv.Itoa(i)),
			Input: aws.String(`{"I":` + strconv.Itoa(i) + `}`),
		})
		if err != nil {
			return errors.Wrap(err, "start execution")
		}
		select {
		case <-done[i]:
		case <-time.After(time.Minute):
			if e, ok := werr.Load().(error); ok {
				return e
			}
			return errors.Newf("task of %s not served in a minute", *out.ExecutionArn)
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := b.waitDone(ctx, *out.ExecutionArn); err != nil {
			return err
		}
		lat[i] = time.Since(s)
		return nil
	})
	elapsed := time.Since(t0)
	stopWorkers()
	workers.Wait()
	if err != nil {
		return err
	}
	b.rep.Activity = Throughput{Rate: float64(n) / elapsed.Seconds(), Count: n, Elapsed: elapsed, Latency: summarize(lat)}
	b.logf("activity   %d round trips in %s: %.0f/s; p50 %s ms p99 %s ms", n, elapsed.Round(time.Millisecond),
		b.rep.Activity.Rate, ms(b.rep.Activity.P50), ms(b.rep.Activity.P99))
	b.logCosts("activity", "round trip", n, cost0)
	return nil
}

// activityProbe runs one activity round trip; an error means the activity API is not
// (yet) served.
func (b *runner) activityProbe(ctx context.Context, smARN, actARN string) error {
	out, err := b.c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smARN), Name: aws.String("probe"), Input: aws.String(`{"I":-1}`)})
	if err != nil {
		return errors.Wrap(err, "start execution")
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	task, err := b.c.GetActivityTask(pctx, &sfn.GetActivityTaskInput{ActivityArn: aws.String(actARN)})
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return errors.Newf("GetActivityTask not served: %s", ae.ErrorCode())
	}
	if err != nil {
		return errors.Wrap(err, "GetActivityTask")
	}
	if task.TaskToken == nil {
		return errors.New("GetActivityTask returned no task for a scheduled activity")
	}
	if _, err := b.c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{}`)}); err != nil {
		return errors.Wrap(err, "SendTaskSuccess")
	}
	return b.waitDone(ctx, *out.ExecutionArn)
}

// start measures StartExecution latency at a fixed rate (open loop: a slow answer
// does not slow the arrivals).
func (b *runner) start(ctx context.Context) error {
	sz := b.cfg.Sizes
	smARN, err := b.createSM(ctx, "start", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	if err != nil {
		return err
	}
	n := max(1, int(float64(sz.StartRate)*sz.StartDuration.Seconds()))
	interval := time.Second / time.Duration(sz.StartRate)
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var failed atomic.Value
	cost0 := b.costsNow()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			s := time.Now()
			_, err := b.c.StartExecution(ctx, &sfn.StartExecutionInput{
				StateMachineArn: aws.String(smARN), Name: aws.String("s" + strconv.Itoa(i)),
			})
			lat[i] = time.Since(s)
			if err != nil {
				failed.Store(err)
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return errors.Wrap(err, "start execution")
	}
	b.rep.Start = summarize(lat)
	b.logf("start      %d starts at %d/s: p50 %s ms p99 %s ms max %s ms", n, sz.StartRate,
		ms(b.rep.Start.P50), ms(b.rep.Start.P99), ms(b.rep.Start.Max))
	b.logCosts("start", "start", n, cost0)
	return nil
}

// replayDef loops Inc -> Check k times: 6 + 4k events.
func replayDef(k int) string {
	return `{"StartAt":"Init","States":{
"Init":{"Type":"Pass","Result":{"i":0},"Next":"Inc"},
"Inc":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)"},"Next":"Check"},
"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThan":` + strconv.Itoa(k) + `,"Next":"Inc"}],"Default":"Done"},
"Done":{"Type":"Succeed"}}}`
}

// replay runs one execution with a history of about ReplayEvents events, then times
// what an execution's actor does when it is woken: read the history from JetStream,
// parse the recorded definition, fold the events (asl.Rebuild).
func (b *runner) replay(ctx context.Context) error {
	st := b.cfg.Store
	if st == nil {
		return errors.New("needs the server's NATS (in-process or --nats-url)")
	}
	sz := b.cfg.Sizes
	k := max(1, (sz.ReplayEvents-6)/4)
	smARN, err := b.createSM(ctx, "replay", replayDef(k))
	if err != nil {
		return err
	}
	out, err := b.c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smARN), Name: aws.String("r")})
	if err != nil {
		return errors.Wrap(err, "start execution")
	}
	arn := *out.ExecutionArn
	if err := b.waitDone(ctx, arn); err != nil {
		return err
	}
	var times []time.Duration
	var evs int
	for r := 0; r < max(1, sz.ReplayRounds); r++ {
		t0 := time.Now()
		x, n, err := RebuildExecution(ctx, st, arn)
		if err != nil {
			return err
		}
		times = append(times, time.Since(t0))
		if x.Status() != asl.StatusSucceeded {
			return errors.Newf("rebuilt execution is %s, want SUCCEEDED", x.Status())
		}
		evs = n
	}
	b.rep.Replay, b.rep.ReplayN = summarize(times).P50, evs
	b.logf("replay25k  %d events: median %s ms over %d rebuilds (%.0f events/s)", evs, ms(b.rep.Replay), len(times),
		float64(evs)/b.rep.Replay.Seconds())
	return nil
}

// RebuildExecution is what an execution actor does on wake-up: read the history,
// parse the recorded definition and fold the events. It returns the rebuilt
// execution and the number of events.
func RebuildExecution(ctx context.Context, st interface {
	ReadHistory(context.Context, string) ([]events.HistoryEvent, uint64, error)
}, arn string) (*asl.Execution, int, error) {
	hist, _, err := st.ReadHistory(ctx, arn)
	if err != nil {
		return nil, 0, err
	}
	if len(hist) == 0 || hist[0].Ext == nil {
		return nil, 0, errors.Newf("execution %s has no recorded start", arn)
	}
	sm, err := asl.Parse(hist[0].Ext.Definition)
	if err != nil {
		return nil, 0, err
	}
	return asl.Rebuild(sm, hist), len(hist), nil
}

// list seeds ListExecutions executions under one state machine (directly in the read
// model when the store is at hand, the way StartExecution records them; through
// StartExecution otherwise), then times first-page ListExecutions calls.
func (b *runner) list(ctx context.Context) error {
	sz := b.cfg.Sizes
	smARN, err := b.createSM(ctx, "list", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	if err != nil {
		return err
	}
	n := sz.ListExecutions
	t0 := time.Now()
	if st := b.cfg.Store; st != nil {
		execs, err := projections.OpenExecutions(ctx, st, 0)
		if err != nil {
			return err
		}
		execPrefix := strings.Replace(smARN, ":stateMachine:", ":execution:", 1) + ":"
		base := time.Now().UTC().Add(-time.Duration(n) * time.Millisecond)
		err = parallel(ctx, n, 64, func(ctx context.Context, i int) error {
			name := "l" + strconv.Itoa(i)
			start := base.Add(time.Duration(i) * time.Millisecond)
			stop := start.Add(time.Millisecond / 2)
			_, err := execs.Reserve(ctx, events.ExecutionRecord{
				ARN: execPrefix + name, StateMachineARN: smARN, Name: name, Status: "SUCCEEDED",
				StartDate: start, StopDate: &stop,
				Start: &events.StartCommand{Name: name, Input: "{}", StateMachineARN: smARN, StartDate: start, RoleARN: role},
			})
			return err
		})
		if err != nil {
			return errors.Wrap(err, "seed executions")
		}
	} else if err := parallel(ctx, n, 64, func(ctx context.Context, i int) error {
		_, err := b.c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smARN), Name: aws.String("l" + strconv.Itoa(i))})
		return errors.Wrap(err, "start execution")
	}); err != nil {
		return err
	}
	b.logf("list       seeded %d executions in %s", n, time.Since(t0).Round(time.Millisecond))

	// Check the pages once: newest first, no repeats, nextToken chains.
	seen := map[string]bool{}
	var prev time.Time
	var token *string
	for page := 0; page < 3; page++ {
		out, err := b.c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(smARN), NextToken: token})
		if err != nil {
			return errors.Wrap(err, "list executions")
		}
		if want := min(100, n-100*page); len(out.Executions) != want {
			return errors.Newf("page %d has %d executions, want %d", page, len(out.Executions), want)
		}
		for _, e := range out.Executions {
			arn := aws.ToString(e.ExecutionArn)
			if seen[arn] {
				return errors.Newf("execution %s listed twice", arn)
			}
			seen[arn] = true
			// Newest first, up to starts that raced for ordinals (the seeding is parallel).
			if !prev.IsZero() && e.StartDate.After(prev.Add(time.Second)) {
				return errors.Newf("list not newest first at %s", arn)
			}
			prev = *e.StartDate
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	lat := make([]time.Duration, sz.ListQueries)
	for i := range lat {
		s := time.Now()
		out, err := b.c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(smARN)})
		lat[i] = time.Since(s)
		if err != nil {
			return errors.Wrap(err, "list executions")
		}
		if len(out.Executions) != min(100, n) {
			return errors.Newf("first page has %d executions", len(out.Executions))
		}
	}
	b.rep.List, b.rep.ListN = summarize(lat), n
	b.logf("list       %d first pages over %d executions: p50 %s ms p99 %s ms", len(lat), n, ms(b.rep.List.P50), ms(b.rep.List.P99))
	return nil
}

// ceiling measures the raw append rate of the server's JetStream: concurrent writers,
// each appending to its own subject of a file-backed stream and waiting for the ack,
// with the expected last subject sequence, as the engine appends history.
func (b *runner) ceiling(ctx context.Context) error {
	st := b.cfg.Store
	if st == nil {
		return errors.New("needs the server's NATS (in-process or --nats-url)")
	}
	sz := b.cfg.Sizes
	name := "SFND_BENCH_CEILING"
	_ = st.JS.DeleteStream(ctx, name)
	if _, err := st.JS.CreateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{"sfnd.bench.ceiling.>"}, Storage: jetstream.FileStorage, Replicas: 1,
	}); err != nil {
		return errors.Wrap(err, "create ceiling stream")
	}
	defer func() { _ = st.JS.DeleteStream(context.WithoutCancel(ctx), name) }()
	payload := []byte(`{"timestamp":"2026-01-01T00:00:00.000000000Z","type":"PassStateExited","id":12,"previousEventId":11,"stateExitedEventDetails":{"name":"S5","output":"{\"i\":1,\"last\":{\"step\":5}}","outputDetails":{"truncated":false}}}`)
	var total atomic.Int64
	deadline := time.Now().Add(sz.CeilingDuration)
	t0 := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := 0; w < sz.CeilingWriters; w++ {
		wg.Go(func() {
			subj := "sfnd.bench.ceiling." + strconv.Itoa(w)
			var last uint64
			for time.Now().Before(deadline) {
				ack, err := st.JS.Publish(ctx, subj, payload, jetstream.WithExpectLastSequencePerSubject(last))
				if err != nil {
					failed.Store(err)
					return
				}
				last = ack.Sequence
				total.Add(1)
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return errors.Wrap(err, "ceiling append")
	}
	elapsed := time.Since(t0)
	b.rep.Ceiling = float64(total.Load()) / elapsed.Seconds()
	b.logf("ceiling    %d appends by %d writers in %s: %.0f appends/s", total.Load(), sz.CeilingWriters, elapsed.Round(time.Millisecond), b.rep.Ceiling)
	return nil
}

// Summary is a human-readable table of the report.
func (r *Report) Summary() string {
	var sb strings.Builder
	row := func(name, fig string) {
		if why, ok := r.Unavailable[name]; ok {
			fig = "unavailable (" + why + ")"
		}
		fmt.Fprintf(&sb, "  %-10s %s\n", name, fig)
	}
	ratio := func(x float64) string {
		if r.Ceiling <= 0 {
			return ""
		}
		return fmt.Sprintf(" (%.0f%% of ceiling)", 100*x/r.Ceiling)
	}
	row("ceiling", fmt.Sprintf("%.0f appends/s", r.Ceiling))
	row("passchain", fmt.Sprintf("%.0f transitions/s, e2e p50 %s ms p99 %s ms; appends %.0f events/s%s",
		r.PassChain.Rate, ms(r.PassChain.P50), ms(r.PassChain.P99), r.Appends, ratio(r.Appends)))
	row("activity", fmt.Sprintf("%.0f round trips/s, p50 %s ms p99 %s ms", r.Activity.Rate, ms(r.Activity.P50), ms(r.Activity.P99)))
	row("start", fmt.Sprintf("p50 %s ms p99 %s ms (max %s ms)", ms(r.Start.P50), ms(r.Start.P99), ms(r.Start.Max)))
	row("replay25k", fmt.Sprintf("%s ms for %d events", ms(r.Replay), r.ReplayN))
	row("list", fmt.Sprintf("first page p50 %s ms p99 %s ms over %d executions", ms(r.List.P50), ms(r.List.P99), r.ListN))
	row("parked", fmt.Sprintf("%d executions on a timer: RSS %d MiB; kill -9 to the first answer %.2f s; timers late p50 %.2f s p99 %.2f s",
		r.Parked, r.ParkedRSS>>20, r.Restart.Seconds(), r.Resume.P50.Seconds(), r.Resume.P99.Seconds()))
	return sb.String()
}

// distMap runs one Distributed Map over DistMapItems inline items in batches of
// DistMapBatch (one Pass child execution per batch, all at once) and measures items
// per second from StartExecution to SUCCEEDED.
func (b *runner) distMap(ctx context.Context) error {
	sz := b.cfg.Sizes
	def := fmt.Sprintf(`{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1000,"ItemBatcher":{"MaxItemsPerBatch":%d},`+
		`"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},`+
		`"ResultSelector":{"batches.$":"States.ArrayLength($)"},"End":true}}}`, sz.DistMapBatch)
	smARN, err := b.createSM(ctx, "distmap", def)
	if err != nil {
		return err
	}
	var in strings.Builder
	in.WriteByte('[')
	for i := range sz.DistMapItems {
		if i > 0 {
			in.WriteByte(',')
		}
		in.WriteString(strconv.Itoa(i))
	}
	in.WriteByte(']')
	t0 := time.Now()
	out, err := b.c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smARN), Input: aws.String(in.String())})
	if err != nil {
		return errors.Wrap(err, "start execution")
	}
	if err := b.waitDone(ctx, aws.ToString(out.ExecutionArn)); err != nil {
		return err
	}
	el := time.Since(t0)
	batches := (sz.DistMapItems + sz.DistMapBatch - 1) / sz.DistMapBatch
	b.rep.DistMap = Throughput{Rate: float64(sz.DistMapItems) / el.Seconds(), Count: batches, Elapsed: el}
	b.logf("distmap    %d items in %d child executions: %s, %.0f items/s", sz.DistMapItems, batches, el.Round(time.Millisecond), b.rep.DistMap.Rate)
	return nil
}

// costsNow is what has been used so far: the message counters of the node's NATS
// connection (the bench's own node: the one connection its engine, API and
// projections share; zero without a store) and this process's CPU time.
func (b *runner) costsNow() costs {
	c := costs{cpu: hostile.CPUTime(), polls: b.polls.Load()}
	if b.cfg.Store != nil && b.cfg.Store.NC != nil {
		c.nats = b.cfg.Store.NC.Stats()
	}
	return c
}

// costs is what a workload has used so far: the node connection's NATS messages and
// the CPU time of this process (with the bench's own node: client and server).
type costs struct {
	nats  nats.Statistics
	cpu   time.Duration
	polls int64 // DescribeExecution calls of waitDone
}

// logCosts logs the NATS messages the node's connection sent and received per unit of
// a workload since before: a figure the machine's load does not change (with
// --endpoint, the connection is the bench's, and the figure says nothing); and the
// CPU time this process spent per unit (client and server when the node is the
// bench's own: a cost that other load on the machine changes far less than a rate).
func (b *runner) logCosts(workload, unit string, n int, before costs) {
	after := b.costsNow()
	if n == 0 {
		return
	}
	if after.nats.OutMsgs > 0 {
		b.logf("%-10s NATS messages per %s (node connection): %.1f sent, %.1f received", workload, unit,
			float64(after.nats.OutMsgs-before.nats.OutMsgs)/float64(n), float64(after.nats.InMsgs-before.nats.InMsgs)/float64(n))
	}
	if p := after.polls - before.polls; p > 0 {
		b.logf("%-10s DescribeExecution polls per %s: %.2f", workload, unit, float64(p)/float64(n))
	}
	if after.cpu > 0 {
		who := "client and server"
		if b.cfg.Store == nil {
			who = "client only"
		}
		b.logf("%-10s CPU per %s (this process: %s): %.2f ms", workload, unit, who,
			float64(after.cpu-before.cpu)/float64(time.Millisecond)/float64(n))
	}
}
