package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/cockroachdb/errors"
)

// ParkedNode is a server process of its own that the parked workload fills, measures,
// kills with SIGKILL and restarts on the same data directory.
type ParkedNode interface {
	// Start starts the process (again) and returns its endpoint without waiting
	// until it serves.
	Start(ctx context.Context) (string, error)
	// Kill kills the process with SIGKILL and waits for it.
	Kill() error
	// RSS is the process's resident memory in bytes.
	RSS() (int64, error)
	// Stop stops the process cleanly.
	Stop()
	// Running tells whether the process runs.
	Running() bool
}

// ProcessNode runs `<Bin> serve` on Dir (see ParkedNode).
type ProcessNode struct {
	Bin, Dir string
	port     int
	cmd      *exec.Cmd
	done     chan struct{}
}

var _ ParkedNode = (*ProcessNode)(nil)

// Start implements ParkedNode.
func (p *ProcessNode) Start(ctx context.Context) (string, error) {
	if p.port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", errors.Wrap(err, "free port")
		}
		p.port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	level := "error" // SFND_LOG_LEVEL, when set, shows more of the node's log
	if l := os.Getenv("SFND_LOG_LEVEL"); l != "" {
		level = l
	}
	cmd := exec.Command(p.Bin, "serve", "--listen", "127.0.0.1:"+strconv.Itoa(p.port), "--data-dir", p.Dir, "--log-level", level)
	cmd.Env = append(os.Environ(), "SFND_EXIT_WITH_PARENT=1")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", errors.Wrap(err, "start sfnd serve")
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(p.done)
	return "http://127.0.0.1:" + strconv.Itoa(p.port), nil
}

// Running implements ParkedNode.
func (p *ProcessNode) Running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Kill implements ParkedNode.
func (p *ProcessNode) Kill() error {
	if p.cmd == nil {
		return nil
	}
	err := p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
	return errors.Wrap(err, "kill sfnd")
}

// Stop implements ParkedNode.
func (p *ProcessNode) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.Kill()
	}
	p.cmd = nil
}

// RSS implements ParkedNode (Linux: VmRSS of /proc/<pid>/status).
func (p *ProcessNode) RSS() (int64, error) {
	if p.cmd == nil {
		return 0, errors.New("not running")
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, errors.Wrap(err, "read process status")
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, errors.Wrap(err, "parse VmRSS")
			}
		}
	}
	return 0, errors.New("no VmRSS")
}

// parked starts executions that wait on a timer, measures the server's memory once
// all are parked, kills it with SIGKILL, restarts it and measures the time until it
// answers DescribeExecution again, then how late the timers fire.
func (b *runner) parked(ctx context.Context) error {
	node, sz := b.cfg.Parked, b.cfg.Sizes
	if node == nil {
		return errors.New("needs a server process of its own (not with --endpoint)")
	}
	defer node.Stop()
	ep, err := node.Start(ctx)
	if err != nil {
		return err
	}
	if err := waitServing(ctx, ep, 60*time.Second); err != nil {
		return err
	}
	c := Client(ep)
	wait := int(sz.ParkedWait / time.Second)
	def := fmt.Sprintf(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":%d,"Next":"P"},"P":{"Type":"Pass","End":true}}}`, wait)
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(b.name("parked")),
		Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::123456789012:role/bench")})
	if err != nil {
		return errors.Wrap(err, "create state machine")
	}
	n := sz.ParkedExecutions
	arns := make([]string, n)
	t0 := time.Now()
	// Starting is not what is measured: few starters, and a start that fails (an
	// overloaded machine) is repeated — the same name and input is idempotent.
	if err := parallel(ctx, n, 16, func(ctx context.Context, i int) error {
		for attempt := 0; ; attempt++ {
			out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("p" + strconv.Itoa(i))})
			if err == nil {
				arns[i] = *out.ExecutionArn
				return nil
			}
			if attempt == 5 || ctx.Err() != nil {
				return errors.Wrap(err, "start execution")
			}
			time.Sleep(time.Duration(100<<attempt) * time.Millisecond)
		}
	}); err != nil {
		return err
	}
	started := time.Since(t0)
	if started > sz.ParkedWait/2 {
		b.logf("parked     note: starting took %s, more than half the %s wait: early timers fire before the restart", started.Round(time.Millisecond), sz.ParkedWait)
	}
	time.Sleep(time.Second) // let the start-up work settle before reading the memory
	rss, err := node.RSS()
	if err != nil {
		return err
	}
	b.rep.Parked, b.rep.ParkedRSS = n, rss
	b.logf("parked     %d executions started in %s; server RSS %d MiB", n, started.Round(time.Millisecond), rss>>20)

	if err := node.Kill(); err != nil {
		return err
	}
	t1 := time.Now()
	if ep, err = node.Start(ctx); err != nil {
		return err
	}
	// Polled without the SDK's retries (whose quota runs out while the node is down).
	probe := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(ep),
		Credentials: aws.NewCredentialsCache(staticCreds{}), Retryer: aws.NopRetryer{}})
	c = Client(ep)
	for {
		_, err := probe.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arns[n-1])})
		if err == nil {
			break
		}
		if !node.Running() {
			return errors.New("the restarted server exited")
		}
		if time.Since(t1) > 2*time.Minute || ctx.Err() != nil {
			return errors.Wrap(err, "no answer 2 minutes after the restart")
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.rep.Restart = time.Since(t1)
	b.logf("parked     killed with SIGKILL and restarted: DescribeExecution answers after %s", b.rep.Restart.Round(time.Millisecond))

	// Every timer fires; lateness is the time from a Wait's due time (its
	// WaitStateEntered plus the wait) to its WaitStateExited, both recorded by the
	// engine in the history. The histories are read once the last execution started
	// has ended: polling every history while the timers fire (as this workload did)
	// loaded the node with up to 160 GetExecutionHistory calls a second just when it
	// was busiest, and the figures come from the recorded events either way.
	deadline := t0.Add(started + sz.ParkedWait + 2*time.Minute)
	if err := waitEnded(ctx, c, arns[n-1], deadline); err != nil {
		return err
	}
	late := make([]time.Duration, n)
	var mu sync.Mutex
	failed := 0
	if err := parallel(ctx, n, 32, func(ctx context.Context, i int) error {
		// The last timer is due a wait after the last start.
		d, err := waitLateness(ctx, c, arns[i], time.Duration(wait)*time.Second, deadline)
		if err != nil {
			mu.Lock()
			failed++
			mu.Unlock()
			return err
		}
		late[i] = d
		return nil
	}); err != nil {
		return errors.Wrapf(err, "%d parked executions", failed)
	}
	l := summarize(late)
	b.rep.Resume = l
	b.logf("parked     timers fired after the restart: lateness p50 %s ms p99 %s ms max %s ms", ms(l.P50), ms(l.P99), ms(l.Max))
	return nil
}

// waitEnded polls DescribeExecution (every 200 ms) until the execution is no longer
// RUNNING or the deadline passes (then the per-execution wait reports what is late).
func waitEnded(ctx context.Context, c *sfn.Client, arn string, deadline time.Time) error {
	for time.Now().Before(deadline) {
		out, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err == nil && out.Status != types.ExecutionStatusRunning {
			return nil
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// waitLateness waits until an execution ended and returns how late its Wait state
// was left.
func waitLateness(ctx context.Context, c *sfn.Client, arn string, wait time.Duration, deadline time.Time) (time.Duration, error) {
	for {
		out, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 100})
		if err == nil {
			var entered, exited time.Time
			for _, ev := range out.Events {
				switch ev.Type {
				case types.HistoryEventTypeWaitStateEntered:
					entered = aws.ToTime(ev.Timestamp)
				case types.HistoryEventTypeWaitStateExited:
					exited = aws.ToTime(ev.Timestamp)
				}
			}
			if !exited.IsZero() {
				return max(0, exited.Sub(entered.Add(wait))), nil
			}
			if !entered.IsZero() {
				if due := time.Until(entered.Add(wait)); due > 0 {
					select {
					case <-time.After(due):
					case <-ctx.Done():
						return 0, ctx.Err()
					}
					continue
				}
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.Newf("%s has not left its Wait state", arn)
			}
			return 0, err
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// waitServing waits until a node answers /healthz.
func waitServing(ctx context.Context, ep string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(ep + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.Newf("%s did not serve within %s", ep, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
