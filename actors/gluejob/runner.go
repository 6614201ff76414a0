package gluejob

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/sfnd/sfnd/actors/gluepy"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// Config configures a Runner.
type Config struct {
	// Endpoint is this sfnd's URL: job processes get it as AWS_ENDPOINT_URL_GLUE (and
	// AWS_ENDPOINT_URL_SFN), so boto3.client("glue") in a script talks to sfnd.
	Endpoint string
	Region   string
	// AccessKeyID and SecretAccessKey are the credentials job processes get
	// (default "sfnd"/"sfnd"; sfnd accepts any). The host's AWS_* variables are not passed on.
	AccessKeyID, SecretAccessKey string
	// S3Endpoint, when set, is passed to job processes as AWS_ENDPOINT_URL_S3.
	S3Endpoint string
	// Commands maps a Command.Name to a command template, e.g.
	// glueetl -> "spark-submit {script} {args}". Placeholders: {script} (the local copy
	// of the script), {args} (the argument list, as separate words; appended when the
	// template does not name it), {workdir}, {python}, {job}, {runid}. A template for
	// pythonshell replaces the built-in python3 runner.
	Commands map[string]string
	// Python is the interpreter of pythonshell jobs (default python3; PythonVersion
	// "3.9" prefers python3.9 when it runs).
	Python string
	// OutputDir keeps each run's output: OutputDir/<runId>/{output,error}.
	OutputDir string
	// Fetcher reads script locations (default: LocalFetcher without S3).
	Fetcher Fetcher
	// Slots bounds the job runs this runner executes at once (default 32).
	Slots int
	// AckWait is how long a taken task may go without a heartbeat before NATS hands it
	// to another runner, which then reports the run as interrupted (default 30 s).
	AckWait time.Duration
	// StopGrace is the time between SIGTERM and SIGKILL (default 10 s).
	StopGrace time.Duration
	// TimeScale multiplies the timeouts of tasks that carry no TimeScale of their own
	// (default 1). Crawl durations are not scaled: they are given in seconds.
	TimeScale float64
	// CrawlSeconds is a simulated crawl's duration unless the crawler's tag
	// sfnd:crawl-seconds says otherwise (default 1).
	CrawlSeconds float64
	// CrawlHook, if set, is a shell command run for each crawl (crawler definition as
	// JSON on stdin); its exit code decides SUCCEEDED or FAILED.
	CrawlHook string
	Logger    *slog.Logger
}

// Runner takes job runs and crawls from GLUE_WORK and runs them.
type Runner struct {
	cfg    Config
	js     jetstream.JetStream
	ctx    context.Context
	cancel context.CancelFunc
	nc     *nats.Conn
	id     string // this runner's instance, so it does not answer its own queries
	sub    *nats.Subscription
	holds  *nats.Subscription
	pyPath string
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[string]*active
	stopped map[string]time.Time // stops of runs not held here, for a task taken later
	ended   map[string]time.Time // runs this runner finished, against late redeliveries
	// silent (tests) stops heartbeats, as an overloaded node would.
	silent atomic.Bool
}

type active struct {
	stop chan string // receives the stop reason once
	once sync.Once
}

func (a *active) requestStop(reason string) {
	a.once.Do(func() { a.stop <- reason })
}

// Start creates the durable consumers on GLUE_WORK (the stream must exist:
// jsstore.Open creates it) and begins taking tasks.
func Start(ctx context.Context, js jetstream.JetStream, nc *nats.Conn, cfg Config) (*Runner, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccessKeyID == "" {
		cfg.AccessKeyID, cfg.SecretAccessKey = "sfnd", "sfnd"
	}
	if cfg.Python == "" {
		cfg.Python = "python3"
	}
	if cfg.Fetcher == nil {
		cfg.Fetcher = LocalFetcher{}
	}
	if cfg.Slots <= 0 {
		cfg.Slots = 32
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 10 * time.Second
	}
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	if cfg.CrawlSeconds <= 0 {
		cfg.CrawlSeconds = 1
	}
	if cfg.OutputDir == "" {
		return nil, errors.New("gluejob: no output directory")
	}
	if err := os.MkdirAll(cfg.OutputDir, 0o755); err != nil {
		return nil, errors.Wrap(err, "create job output directory")
	}
	r := &Runner{cfg: cfg, js: js, nc: nc, id: nuid.Next(), running: map[string]*active{}, stopped: map[string]time.Time{},
		ended: map[string]time.Time{}}
	consumer := func(name, filter, what string) (jetstream.Consumer, error) {
		st, err := js.Stream(ctx, jsstore.GlueWorkStream)
		if err != nil {
			return nil, errors.Wrap(err, "glue work stream")
		}
		// EnsureConsumer: several nodes starting at once create it concurrently.
		c, err := jsstore.EnsureConsumer(ctx, st, jetstream.ConsumerConfig{
			Durable:       name,
			Description:   what,
			FilterSubject: filter,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       cfg.AckWait,
			MaxDeliver:    -1,
			MaxAckPending: -1,
		})
		return c, errors.Wrapf(err, "create consumer %s", name)
	}
	jobs, err := consumer(JobConsumer, jsstore.GlueJobPrefix+">", "sfnd built-in Glue job runner")
	if err != nil {
		return nil, err
	}
	crawls, err := consumer(CrawlConsumer, jsstore.GlueCrawlSubject, "sfnd simulated Glue crawls")
	if err != nil {
		return nil, err
	}
	pyDir, err := os.MkdirTemp("", "sfnd-awsglue-")
	if err != nil {
		return nil, errors.Wrap(err, "create awsglue package directory")
	}
	if r.pyPath, err = gluepy.Install(pyDir); err != nil {
		return nil, err
	}
	if r.sub, err = nc.Subscribe(jsstore.GlueStopPrefix+">", r.onStop); err != nil {
		return nil, errors.Wrap(err, "subscribe to glue stop requests")
	}
	if r.holds, err = nc.Subscribe(HoldsPrefix+"*", r.onHolds); err != nil {
		return nil, errors.Wrap(err, "subscribe to glue run queries")
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(2)
	go r.loop(jobs, cfg.Slots, decodeJob)
	go r.loop(crawls, 256, decodeCrawl)
	return r, nil
}

// Close stops taking tasks and kills the running processes (SIGKILL, as if the node
// died): their tasks stay unacknowledged, so whichever runner takes them next reports
// them as interrupted.
func (r *Runner) Close() {
	r.cancel()
	if r.sub != nil {
		_ = r.sub.Unsubscribe()
	}
	if r.holds != nil {
		_ = r.holds.Unsubscribe()
	}
	r.wg.Wait()
	_ = os.RemoveAll(r.pyPath)
}

// PythonPath is the directory holding sfnd's awsglue package.
func (r *Runner) PythonPath() string { return r.pyPath }

// Running is the number of runs this runner executes now.
func (r *Runner) Running() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.running)
}

func (r *Runner) loop(cons jetstream.Consumer, slots int, decode func([]byte) (request, error)) {
	defer r.wg.Done()
	sem := make(chan struct{}, slots)
	for r.ctx.Err() == nil {
		select {
		case sem <- struct{}{}:
		case <-r.ctx.Done():
			return
		}
		fctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
		batch, err := cons.Fetch(1, jetstream.FetchContext(fctx))
		var msg jetstream.Msg
		if err == nil {
			for m := range batch.Messages() {
				msg = m
			}
			err = batch.Error()
		}
		cancel()
		if msg == nil {
			<-sem
			if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) &&
				!errors.Is(err, nats.ErrTimeout) && r.ctx.Err() == nil {
				r.cfg.Logger.Warn("glue runner fetch", "err", err)
				select {
				case <-time.After(time.Second):
				case <-r.ctx.Done():
				}
			}
			continue
		}
		// Tell NATS at once that the task is being worked on, and claim it here before
		// anything else can look: a redelivery that races a slow start must find it.
		if !r.silent.Load() {
			_ = msg.InProgress()
		}
		req, err := decode(msg.Data())
		if err != nil {
			r.cfg.Logger.Error("glue runner: dropping a malformed task", "subject", msg.Subject(), "err", err)
			_ = msg.Term()
			<-sem
			continue
		}
		if r.endedHere(req.RunID) {
			// A redelivery that crossed this runner's own acknowledgement.
			_ = msg.Ack()
			<-sem
			continue
		}
		a, fresh := r.claim(req.RunID)
		if !fresh {
			// Redelivered while it still runs here (heartbeats fell behind): the holder
			// keeps heartbeating and acknowledges it when it ends.
			_ = msg.InProgress()
			<-sem
			continue
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() { <-sem }()
			defer r.release(req.RunID)
			r.handle(msg, req, a)
		}()
	}
}

// claim registers a run as held here; fresh is false when it already was.
func (r *Runner) claim(runID string) (*active, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a := r.running[runID]; a != nil {
		return a, false
	}
	a := &active{stop: make(chan string, 1)}
	r.running[runID] = a
	return a, true
}

func (r *Runner) endedHere(runID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.ended[runID]
	return ok && time.Since(at) < 10*time.Minute
}

func (r *Runner) markEnded(runID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	r.ended[runID] = now
	if len(r.ended) > 10000 {
		for k, at := range r.ended {
			if now.Sub(at) > 10*time.Minute {
				delete(r.ended, k)
			}
		}
	}
}

func (r *Runner) release(runID string) {
	r.mu.Lock()
	delete(r.running, runID)
	r.mu.Unlock()
}

// HoldsPrefix is the subject runners answer on when they hold a run
// (glue.runner.holds.<token(run id)>): a runner that gets a redelivered task asks
// before it calls the run interrupted, since a live holder may only be late with its
// heartbeats.
const HoldsPrefix = "glue.runner.holds."

func (r *Runner) onHolds(m *nats.Msg) {
	id, err := jsstore.Untoken(m.Subject[len(HoldsPrefix):])
	if err != nil || string(m.Data) == r.id {
		return
	}
	r.mu.Lock()
	held := r.running[id] != nil
	r.mu.Unlock()
	if held {
		_ = m.Respond([]byte("held"))
	}
}

// heldElsewhere asks the other runners whether one of them holds the run.
func (r *Runner) heldElsewhere(runID string) bool {
	_, err := r.nc.Request(HoldsPrefix+jsstore.Token(runID), []byte(r.id), 2*time.Second)
	return err == nil
}

func (r *Runner) onStop(m *nats.Msg) {
	id, err := jsstore.Untoken(m.Subject[len(jsstore.GlueStopPrefix):])
	if err != nil {
		return
	}
	r.mu.Lock()
	a := r.running[id]
	if a == nil {
		now := time.Now()
		r.stopped[id] = now
		if len(r.stopped) > 10000 {
			for k, at := range r.stopped {
				if now.Sub(at) > 10*time.Minute {
					delete(r.stopped, k)
				}
			}
		}
	}
	r.mu.Unlock()
	if a != nil {
		a.requestStop(StateStopped)
	}
}

// handlePendingStops waits until the stop requests this connection received before
// now have been handled. The task came on the consumer's subscription and the stops
// come on another one, each delivered on its own goroutine: a stop sent before the
// task was enqueued can still sit in the stop subscription's queue while the task is
// already here, and the run would start although it was stopped. A barrier runs
// after every message received so far on the connection's asynchronous
// subscriptions. It is bounded (a slow handler of another subscription on a shared
// connection must not hold a run back for long): a stop that comes later still
// stops the run, the engine repeats it while the run is STOPPING.
func (r *Runner) handlePendingStops() {
	done := make(chan struct{})
	if err := r.nc.Barrier(func() { close(done) }); err != nil {
		return
	}
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-r.ctx.Done():
	}
}

// handle runs one task to its end and acknowledges it once the terminal report is
// stored.
func (r *Runner) handle(msg jetstream.Msg, req request, a *active) {
	log := r.cfg.Logger.With("kind", req.Kind, "name", req.Name, "runId", req.RunID)
	r.handlePendingStops()
	r.mu.Lock()
	stoppedAt, stopped := r.stopped[req.RunID]
	stopped = stopped && time.Since(stoppedAt) < 10*time.Minute
	delete(r.stopped, req.RunID)
	r.mu.Unlock()
	if !stopped {
		// A stop handled after the claim went to the run's channel.
		select {
		case <-a.stop:
			stopped = true
		default:
		}
	}

	hbDone := make(chan struct{})
	defer close(hbDone)
	go func() {
		t := time.NewTicker(r.cfg.AckWait / 4)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if !r.silent.Load() {
					_ = msg.InProgress()
				}
			case <-hbDone:
				return
			}
		}
	}()

	var rep events.GlueWorkReport
	meta, _ := msg.Metadata()
	switch {
	case meta != nil && meta.NumDelivered > 1 && r.heldElsewhere(req.RunID):
		// Another runner still holds it (its heartbeats were late): leave it to that one.
		return
	case meta != nil && meta.NumDelivered > 1:
		// The task was taken before and not finished: its process died with the node
		// that ran it. A job is not idempotent, so it is not run again here; the engine
		// decides about a retry (MaxRetries).
		rep = r.report(req, StateFailed, time.Now())
		what := "Job run "
		if req.Kind == KindCrawl {
			what = "Crawl "
		}
		rep.ErrorMessage = what + req.RunID + " was interrupted: the sfnd node running it stopped before it finished"
	case stopped:
		state := StateStopped
		if req.Kind == KindCrawl {
			state = StateCancelled
		}
		rep = r.report(req, state, time.Now())
	default:
		started := func(at time.Time) {
			r.publish(r.report(req, StateRunning, at), log)
		}
		if req.Kind == KindCrawl {
			rep = r.runCrawl(r.ctx, req, a.stop, started)
		} else {
			rep = r.runJob(r.ctx, req, a.stop, started)
		}
	}
	if r.ctx.Err() != nil {
		// Shutting down: the process was killed with the node. Leave the task
		// unacknowledged, so the next runner reports it as interrupted.
		return
	}
	if !r.publish(rep, log) {
		return
	}
	r.markEnded(req.RunID)
	if err := msg.DoubleAck(r.ctx); err != nil && r.ctx.Err() == nil {
		log.Warn("glue runner: ack", "err", err)
	}
	log.Info("glue run ended", "state", rep.State, "seconds", rep.ExecutionTime)
}

func (r *Runner) report(req request, state string, at time.Time) events.GlueWorkReport {
	return events.GlueWorkReport{Kind: req.Kind, RunId: req.RunID, Name: req.Name, State: state, Time: at.UTC()}
}

// publish stores a report, retrying until it is stored or the runner closes.
func (r *Runner) publish(rep events.GlueWorkReport, log *slog.Logger) bool {
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
		err := publishReport(ctx, r.js, rep)
		cancel()
		if err == nil {
			return true
		}
		if r.ctx.Err() != nil {
			return false
		}
		log.Warn("glue runner: publish report", "state", rep.State, "err", err)
		select {
		case <-time.After(delay):
		case <-r.ctx.Done():
			return false
		}
	}
}

func (r *Runner) runDir(runID string) string {
	return filepath.Join(r.cfg.OutputDir, safeName(runID))
}

// safeName keeps a run id usable as one path element.
func safeName(s string) string {
	ok := s != "" && s != "." && s != ".."
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return "x" + jsstore.Token(s)
}
