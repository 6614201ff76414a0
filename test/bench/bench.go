// Package bench measures a running sfnd: the workloads of `sfnd bench` (pass chains,
// activity round trips, start latency, history replay, list pages) driven over HTTP
// with aws-sdk-go-v2, and the raw JetStream append rate of the same server, so every
// figure can be read as a ratio to what the storage underneath allows.
//
// The workloads that need the server's NATS (ceiling, replay, seeding the list) use
// Config.Store; without it they report "unavailable" (list then seeds through the API).
package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events/jsstore"
)

// Sizes says how much work each workload does.
type Sizes struct {
	PassChainExecutions int // executions of the 10-state Pass chain
	PassChainClients    int // concurrent starters
	ActivityExecutions  int // executions of the one-activity state machine
	ActivityWorkers     int // concurrent GetActivityTask pollers
	ActivityClients     int // concurrent starters
	StartRate           int // StartExecution calls per second (open loop)
	StartDuration       time.Duration
	ReplayEvents        int // history length of the replay workload
	ReplayRounds        int // rebuilds timed (the median is reported)
	ListExecutions      int // executions under the listed state machine
	ListQueries         int // first-page ListExecutions calls timed
	CeilingDuration     time.Duration
	CeilingWriters      int // concurrent single-subject appenders
	DistMapItems        int // items of the Distributed Map run (batches of DistMapBatch)
	DistMapBatch        int
	ParkedExecutions    int // executions parked on a timer (parked)
	ParkedWait          time.Duration
	ParkedRSS           int64 // target: resident memory with them parked, bytes
}

// Quick is `sfnd bench --quick`: everything in about a minute.
func Quick() Sizes {
	return Sizes{
		PassChainExecutions: 6000, PassChainClients: 64,
		ActivityExecutions: 3000, ActivityWorkers: 64, ActivityClients: 64,
		StartRate: 500, StartDuration: 4 * time.Second,
		ReplayEvents: 25000, ReplayRounds: 5,
		ListExecutions: 100_000, ListQueries: 300,
		CeilingDuration: 3 * time.Second, CeilingWriters: 64,
		DistMapItems: 10_000, DistMapBatch: 100,
		ParkedExecutions: 20_000, ParkedWait: 60 * time.Second, ParkedRSS: 512 << 20,
	}
}

// Full is `sfnd bench`: longer runs and a million listed executions.
func Full() Sizes {
	s := Quick()
	s.PassChainExecutions, s.ActivityExecutions = 30000, 15000
	s.StartDuration, s.CeilingDuration = 20*time.Second, 10*time.Second
	s.ReplayRounds, s.ListExecutions, s.ListQueries = 11, 1_000_000, 1000
	s.ParkedExecutions, s.ParkedWait, s.ParkedRSS = 100_000, 600*time.Second, 1<<30
	return s
}

// Tiny is the CI smoke run: every workload, a few executions each.
func Tiny() Sizes {
	return Sizes{
		PassChainExecutions: 20, PassChainClients: 4,
		ActivityExecutions: 10, ActivityWorkers: 4, ActivityClients: 4,
		StartRate: 50, StartDuration: 200 * time.Millisecond,
		ReplayEvents: 400, ReplayRounds: 2,
		ListExecutions: 300, ListQueries: 5,
		CeilingDuration: 200 * time.Millisecond, CeilingWriters: 4,
		DistMapItems: 200, DistMapBatch: 10,
		ParkedExecutions: 20, ParkedWait: 3 * time.Second, ParkedRSS: 512 << 20,
	}
}

// Config is one bench run.
type Config struct {
	Endpoint string         // sfnd's HTTP endpoint
	Store    *jsstore.Store // the same server's store; nil: ceiling and replay unavailable
	Sizes    Sizes
	// Only, when not empty, names the workloads to run (passchain, activity, start,
	// replay25k, list, ceiling).
	Only []string
	Log  io.Writer // progress lines; nil: none
	// Prefix makes the bench's resource names unique (default: a timestamp).
	Prefix string
	// Parked is the server process the parked workload kills and restarts; nil:
	// parked unavailable.
	Parked ParkedNode
}

// Workloads are the workload names, in the order they run.
var Workloads = []string{"ceiling", "passchain", "activity", "start", "replay25k", "list", "distmap", "parked"}

// Report holds every figure. A zero figure with a note in Unavailable means the
// workload could not run.
type Report struct {
	PassChain Throughput
	Appends   float64 // history events appended per second during passchain
	Activity  Throughput
	Start     Latency
	Replay    time.Duration // median time to rebuild the replay history
	ReplayN   int           // events in that history
	List      Latency       // first-page ListExecutions
	ListN     int           // executions under the listed state machine
	Ceiling   float64       // raw JetStream appends per second
	// DistMap is a Distributed Map run: items per second from StartExecution to
	// SUCCEEDED (Count: child executions).
	DistMap         Throughput
	Parked          int           // executions parked on a timer
	ParkedRSS       int64         // the server's resident memory with them parked, bytes
	Restart         time.Duration // kill -9 and restart to the first DescribeExecution answer
	Resume          Latency       // lateness of the parked timers after the restart
	ParkedRSSTarget int64         // the run's RSS target (Sizes.ParkedRSS)
	Unavailable     map[string]string
}

// Throughput is a rate and the end-to-end latencies of the units it counts.
type Throughput struct {
	Rate    float64 // units per second (transitions, round trips)
	Count   int     // executions completed
	Elapsed time.Duration
	Latency
}

// Latency summarises a latency distribution.
type Latency struct {
	N        int
	P50, P99 time.Duration
	Max      time.Duration
}

func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Latency{N: len(s), P50: q(0.50), P99: q(0.99), Max: s[len(s)-1]}
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

// Line is the machine-readable summary, the last line `sfnd bench` prints.
func (r *Report) Line() string {
	f := func(name, v string) string {
		if _, ok := r.Unavailable[name]; ok {
			return "unavailable"
		}
		return v
	}
	rate := func(x float64) string { return strconv.FormatFloat(x, 'f', 0, 64) }
	sec := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) }
	line := fmt.Sprintf("bench: passchain=%s activity=%s start_p99=%s replay25k=%s list_p99=%s appends=%s ceiling=%s",
		f("passchain", rate(r.PassChain.Rate)), f("activity", rate(r.Activity.Rate)),
		f("start", ms(r.Start.P99)), f("replay25k", ms(r.Replay)), f("list", ms(r.List.P99)),
		f("passchain", rate(r.Appends)), f("ceiling", rate(r.Ceiling)))
	return line + " distmap=" + f("distmap", rate(r.DistMap.Rate)) +
		fmt.Sprintf(" parked=%s parked_rss_mb=%s restart_s=%s resume_p99_s=%s",
			f("parked", strconv.Itoa(r.Parked)), f("parked", strconv.FormatInt(r.ParkedRSS>>20, 10)),
			f("parked", sec(r.Restart)), f("parked", sec(r.Resume.P99)))
}

// Targets are the goals of the bench on a 2-core machine with durable file storage.
var Targets = struct {
	PassChain, Activity float64
	StartP99, Replay    time.Duration
	ListP99             time.Duration
	AppendsRatio        float64
	Restart, ResumeP99  time.Duration
}{25000, 1500, 5 * time.Millisecond, 250 * time.Millisecond, 25 * time.Millisecond, 0.6, 5 * time.Second, 2 * time.Second}

// Misses lists the targets the report does not meet (unavailable workloads miss).
func (r *Report) Misses() []string {
	var out []string
	miss := func(name string, ok bool, format string, args ...any) {
		if _, un := r.Unavailable[name]; un || !ok {
			out = append(out, name+": "+fmt.Sprintf(format, args...))
		}
	}
	miss("passchain", r.PassChain.Rate >= Targets.PassChain, "%.0f transitions/s < %.0f", r.PassChain.Rate, Targets.PassChain)
	miss("activity", r.Activity.Rate >= Targets.Activity, "%.0f round trips/s < %.0f", r.Activity.Rate, Targets.Activity)
	miss("start", r.Start.P99 <= Targets.StartP99, "p99 %s ms > %s", ms(r.Start.P99), ms(Targets.StartP99))
	miss("replay25k", r.Replay <= Targets.Replay, "%s ms > %s", ms(r.Replay), ms(Targets.Replay))
	miss("list", r.List.P99 <= Targets.ListP99, "p99 %s ms > %s", ms(r.List.P99), ms(Targets.ListP99))
	ratio := 0.0
	if r.Ceiling > 0 {
		ratio = r.Appends / r.Ceiling
	}
	if _, un := r.Unavailable["parked"]; un {
		miss("parked", false, "%s", r.Unavailable["parked"])
	} else {
		miss("parked", r.ParkedRSSTarget <= 0 || r.ParkedRSS <= r.ParkedRSSTarget, "RSS %d MiB > %d MiB with %d parked", r.ParkedRSS>>20, r.ParkedRSSTarget>>20, r.Parked)
		miss("parked", r.Restart <= Targets.Restart, "restart %.2f s > %.0f s", r.Restart.Seconds(), Targets.Restart.Seconds())
		miss("parked", r.Resume.P99 <= Targets.ResumeP99, "timer lateness p99 %.2f s > %.0f s", r.Resume.P99.Seconds(), Targets.ResumeP99.Seconds())
	}
	miss("ceiling", ratio >= Targets.AppendsRatio, "appends %.0f/s = %.0f%% of ceiling %.0f/s < %.0f%%", r.Appends, 100*ratio, r.Ceiling, 100*Targets.AppendsRatio)
	return out
}

// Run runs the workloads and returns the report. A workload that fails is reported
// unavailable with its error, and the others still run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "bench" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	}
	b := &runner{cfg: cfg, c: Client(cfg.Endpoint), rep: &Report{Unavailable: map[string]string{}}}
	want := func(name string) bool { return len(cfg.Only) == 0 || slices.Contains(cfg.Only, name) }
	steps := map[string]func(context.Context) error{
		"ceiling": b.ceiling, "passchain": b.passChain, "activity": b.activity,
		"start": b.start, "replay25k": b.replay, "list": b.list, "distmap": b.distMap, "parked": b.parked,
	}
	b.rep.ParkedRSSTarget = cfg.Sizes.ParkedRSS
	for _, name := range Workloads {
		if !want(name) {
			b.rep.Unavailable[name] = "not run"
			continue
		}
		b.settle(ctx)
		t0 := time.Now()
		if err := steps[name](ctx); err != nil {
			if ctx.Err() != nil {
				return b.rep, ctx.Err()
			}
			b.rep.Unavailable[name] = err.Error()
			b.logf("%-10s unavailable: %v", name, err)
			continue
		}
		b.logf("%-10s done in %s", name, time.Since(t0).Round(time.Millisecond))
	}
	return b.rep, nil
}

// settle waits (up to 30 s) until the node has no backlog left from the previous
// workload — commands not yet decided, history not yet projected — so that each
// workload is measured on its own. It needs the node's store; against --endpoint it
// does nothing.
func (b *runner) settle(ctx context.Context) {
	st := b.cfg.Store
	if st == nil {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		busy := false
		// The command partitions' consumers (actors/partitions.go) and the projection.
		consumers := []struct{ stream, consumer string }{{jsstore.HistoryStream, "sfnd-proj-executions"}}
		for p := range jsstore.Partitions {
			consumers = append(consumers, struct{ stream, consumer string }{jsstore.CommandStream, "sfnd-exec-" + strconv.Itoa(p)})
		}
		for _, c := range consumers {
			cons, err := st.JS.Consumer(ctx, c.stream, c.consumer)
			if err != nil {
				continue
			}
			info, err := cons.Info(ctx)
			if err == nil && (info.NumPending > 0 || info.NumAckPending > 0) {
				busy = true
			}
		}
		if !busy {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type runner struct {
	cfg   Config
	c     *sfn.Client
	rep   *Report
	polls atomic.Int64 // DescribeExecution calls made by waitDone
}

func (b *runner) logf(format string, args ...any) {
	if b.cfg.Log != nil {
		fmt.Fprintf(b.cfg.Log, format+"\n", args...)
	}
}

func (b *runner) name(s string) string { return b.cfg.Prefix + "-" + s }

// Client returns an aws-sdk-go-v2 client for endpoint with static dummy credentials,
// the SDK's default retries (for its known local race) and a connection pool sized for the bench's concurrency.
// endpoint may list several nodes of a cluster, comma-separated: requests go to them
// in turn (a node started without --credentials: the signature names the first).
func Client(endpoint string) *sfn.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 1024
		t.MaxIdleConnsPerHost = 1024
		t.MaxConnsPerHost = 0
	}).WithTimeout(2 * time.Minute)
	var doer sfn.HTTPClient = hc
	eps := strings.Split(endpoint, ",")
	if len(eps) > 1 {
		rr := &roundRobin{inner: hc}
		for _, ep := range eps {
			u, err := url.Parse(strings.TrimSpace(ep))
			if err == nil && u.Host != "" {
				rr.hosts = append(rr.hosts, u.Host)
			}
		}
		doer = rr
	}
	return sfn.New(sfn.Options{
		Region:       "us-east-1",
		HTTPClient:   doer,
		BaseEndpoint: aws.String(strings.TrimSpace(eps[0])),
		Credentials:  aws.NewCredentialsCache(staticCreds{}),
		// The SDK's own retries (3 attempts) absorb its known client-side race
		// against fast local servers (aws-sdk-go-v2 #1825/#2737: "use of closed network
		// connection" while decoding a large response); errors sfnd answers are not retried.
		RetryMaxAttempts: 3,
	})
}

// roundRobin sends each request to the next of several hosts.
type roundRobin struct {
	inner sfn.HTTPClient
	hosts []string
	n     atomic.Uint64
}

func (r *roundRobin) Do(req *http.Request) (*http.Response, error) {
	if len(r.hosts) > 0 {
		req.URL.Host = r.hosts[(r.n.Add(1)-1)%uint64(len(r.hosts))]
		req.Host = req.URL.Host
	}
	return r.inner.Do(req)
}

type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "secret", Source: "bench"}, nil
}

const role = "arn:aws:iam::123456789012:role/sfnd-bench"

func (b *runner) createSM(ctx context.Context, name, def string) (string, error) {
	out, err := b.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(b.name(name)), Definition: aws.String(def), RoleArn: aws.String(role),
	})
	if err != nil {
		return "", errors.Wrapf(err, "create state machine %s", name)
	}
	return *out.StateMachineArn, nil
}

// passChainDef is a chain of n Pass states.
func passChainDef(n int) string {
	var sb strings.Builder
	sb.WriteString(`{"StartAt":"S1","States":{`)
	for i := 1; i <= n; i++ {
		if i > 1 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"S%d":{"Type":"Pass","Result":{"step":%d},"ResultPath":"$.last"`, i, i)
		if i == n {
			sb.WriteString(`,"End":true}`)
		} else {
			fmt.Fprintf(&sb, `,"Next":"S%d"}`, i+1)
		}
	}
	sb.WriteString(`}}`)
	return sb.String()
}
