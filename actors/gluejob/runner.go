package gluejob

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors/gluepy"
)

// Config configures a Runner.
type Config struct {
	JS       jetstream.JetStream
	Replicas int
	// GlueEndpoint is this sfnd's URL: job processes get it as AWS_ENDPOINT_URL_GLUE
	// (and AWS_ENDPOINT_URL_SFN), so boto3.client("glue") in a script talks to sfnd.
	GlueEndpoint string
	Region       string
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
	// "3.9" prefers python3.9 when it is on PATH).
	Python string
	// OutputDir keeps each run's output: OutputDir/<runId>/{output,error}.
	OutputDir string
	// Fetcher reads script locations (default: LocalFetcher without S3).
	Fetcher Fetcher
	// Slots bounds the runs this runner executes at once (default 32).
	Slots int
	// AckWait is how long a taken request may go without a heartbeat before NATS hands
	// it to another runner, which then reports the run as interrupted (default 30 s).
	AckWait time.Duration
	// StopGrace is the time between SIGTERM and SIGKILL (default 10 s).
	StopGrace time.Duration
	// TimeScale multiplies timeouts and crawl durations (default 1).
	TimeScale float64
	// CrawlSeconds is a simulated crawl's duration unless the crawler's tag
	// sfnd:crawl-seconds says otherwise (default 1).
	CrawlSeconds float64
	// CrawlHook, if set, is a shell command run for each crawl (crawler definition as
	// JSON on stdin); its exit code decides SUCCEEDED or FAILED.
	CrawlHook string
	// Consumer names the durable consumer (default "gluejob-runner"); runners on several
	// nodes share it.
	Consumer string
	Logger   *slog.Logger
}

// Runner takes requests from GLUE_JOBQ and runs them.
type Runner struct {
	cfg     Config
	ctx     context.Context
	cancel  context.CancelFunc
	cons    jetstream.Consumer
	control jetstream.Stream
	sub     *nats.Subscription
	pyPath  string
	wg      sync.WaitGroup

	mu      sync.Mutex
	running map[string]*active
}

type active struct {
	stop chan string // receives the stop reason once
	once sync.Once
}

func (a *active) requestStop(reason string) {
	a.once.Do(func() { a.stop <- reason })
}

// Start creates the streams and the consumer and begins taking requests.
func Start(ctx context.Context, cfg Config) (*Runner, error) {
	if cfg.JS == nil {
		return nil, errors.New("gluejob: no JetStream")
	}
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
	if cfg.Consumer == "" {
		cfg.Consumer = "gluejob-runner"
	}
	if cfg.OutputDir == "" {
		return nil, errors.New("gluejob: no output directory")
	}
	if err := os.MkdirAll(cfg.OutputDir, 0o755); err != nil {
		return nil, errors.Wrap(err, "create job output directory")
	}
	if err := EnsureStreams(ctx, cfg.JS, cfg.Replicas); err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, running: map[string]*active{}}
	var err error
	if r.control, err = cfg.JS.Stream(ctx, ControlStream); err != nil {
		return nil, errors.Wrap(err, "open glue control stream")
	}
	r.cons, err = cfg.JS.CreateOrUpdateConsumer(ctx, QueueStream, jetstream.ConsumerConfig{
		Durable:       cfg.Consumer,
		Description:   "sfnd built-in Glue job runner",
		FilterSubject: QueuePrefix + ">",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: -1,
	})
	if err != nil {
		return nil, errors.Wrap(err, "create glue runner consumer")
	}
	pyDir, err := os.MkdirTemp("", "sfnd-awsglue-")
	if err != nil {
		return nil, errors.Wrap(err, "create awsglue package directory")
	}
	if r.pyPath, err = gluepy.Install(pyDir); err != nil {
		return nil, err
	}
	r.sub, err = cfg.JS.Conn().Subscribe(ControlPrefix+"*", r.onStop)
	if err != nil {
		return nil, errors.Wrap(err, "subscribe to glue stop requests")
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.loop()
	return r, nil
}

// Close stops taking requests and kills the running processes (SIGKILL, as if the node
// died): their requests stay unacknowledged, so whichever runner takes them next
// reports them as interrupted.
func (r *Runner) Close() {
	r.cancel()
	if r.sub != nil {
		_ = r.sub.Unsubscribe()
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

func (r *Runner) loop() {
	defer r.wg.Done()
	slots := make(chan struct{}, r.cfg.Slots)
	for r.ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-r.ctx.Done():
			return
		}
		fctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
		batch, err := r.cons.Fetch(1, jetstream.FetchContext(fctx))
		var msg jetstream.Msg
		if err == nil {
			for m := range batch.Messages() {
				msg = m
			}
			err = batch.Error()
		}
		cancel()
		if msg == nil {
			<-slots
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
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() { <-slots }()
			r.handle(msg)
		}()
	}
}

func (r *Runner) onStop(m *nats.Msg) {
	var s Stop
	if err := json.Unmarshal(m.Data, &s); err != nil {
		return
	}
	r.mu.Lock()
	a := r.running[s.RunID]
	r.mu.Unlock()
	if a != nil {
		a.requestStop(stopReason(s.Reason))
	}
}

func stopReason(reason string) string {
	if reason == StateTimeout {
		return StateTimeout
	}
	return StateStopped
}

// handle runs one request to its end and acknowledges it once the terminal report is
// stored.
func (r *Runner) handle(msg jetstream.Msg) {
	var req Request
	if err := json.Unmarshal(msg.Data(), &req); err != nil || req.RunID == "" {
		r.cfg.Logger.Error("glue runner: dropping a malformed request", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	if req.Kind == "" {
		req.Kind = KindJob
	}
	log := r.cfg.Logger.With("kind", req.Kind, "name", req.Name, "runId", req.RunID)
	a := &active{stop: make(chan string, 1)}
	r.mu.Lock()
	if r.running[req.RunID] != nil {
		// Redelivered while it still runs here (heartbeats fell behind): keep running.
		r.mu.Unlock()
		_ = msg.InProgress()
		return
	}
	r.running[req.RunID] = a
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, req.RunID)
		r.mu.Unlock()
	}()

	hbDone := make(chan struct{})
	defer close(hbDone)
	go func() {
		t := time.NewTicker(r.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = msg.InProgress()
			case <-hbDone:
				return
			}
		}
	}()

	var rep Report
	meta, _ := msg.Metadata()
	switch {
	case meta != nil && meta.NumDelivered > 1:
		// The request was taken before and not finished: its process died with the node
		// that ran it. A job is not idempotent, so it is not run again here; the engine
		// decides about a retry (MaxRetries).
		rep = r.report(req, StateFailed, time.Now())
		rep.ErrorMessage = "Job run " + req.RunID + " was interrupted: the sfnd node running it stopped before it finished"
		if req.Kind == KindCrawl {
			rep.ErrorMessage = "Crawl " + req.RunID + " was interrupted: the sfnd node running it stopped before it finished"
		}
	case r.stopRequested(req.RunID) != "":
		rep = r.report(req, r.stoppedState(req, r.stopRequested(req.RunID)), time.Now())
	default:
		started := func(at time.Time) {
			r.publish(req, r.report(req, StateRunning, at), log)
		}
		if req.Kind == KindCrawl {
			rep = r.runCrawl(r.ctx, req, a.stop, started)
		} else {
			rep = r.runJob(r.ctx, req, a.stop, started)
		}
	}
	if r.ctx.Err() != nil {
		// Shutting down: the process was killed with the node. Leave the request
		// unacknowledged, so the next runner reports it as interrupted.
		return
	}
	if !r.publish(req, rep, log) {
		return
	}
	if err := msg.DoubleAck(r.ctx); err != nil && r.ctx.Err() == nil {
		log.Warn("glue runner: ack", "err", err)
	}
	log.Info("glue run ended", "state", rep.State, "seconds", rep.ExecutionTime)
}

func (r *Runner) stoppedState(req Request, reason string) string {
	if req.Kind == KindCrawl {
		return StateCancelled
	}
	return stopReason(reason)
}

// stopRequested returns the stored stop reason of a run, or "".
func (r *Runner) stopRequested(runID string) string {
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	m, err := r.control.GetLastMsgForSubject(ctx, ControlSubject(runID))
	if err != nil {
		return ""
	}
	var s Stop
	if json.Unmarshal(m.Data, &s) != nil {
		return StateStopped
	}
	return stopReason(s.Reason)
}

func (r *Runner) report(req Request, state string, at time.Time) Report {
	return Report{
		Kind: req.Kind, RunID: req.RunID, Name: req.Name, Attempt: req.Attempt,
		WorkflowName: req.WorkflowName, WorkflowRunID: req.WorkflowRunID,
		State: state, Time: at.UTC(),
	}
}

// publish stores a report, retrying until it is stored or the runner closes.
func (r *Runner) publish(req Request, rep Report, log *slog.Logger) bool {
	if req.ReportSubject == "" {
		log.Warn("glue runner: request names no report subject", "state", rep.State)
		return true
	}
	m, err := reportMsg(req.ReportSubject, rep)
	if err != nil {
		log.Error("glue runner: report", "err", err)
		return true
	}
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
		_, err := r.cfg.JS.PublishMsg(ctx, m)
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
	return "x" + token(s)
}
