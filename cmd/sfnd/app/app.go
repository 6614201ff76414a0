// Package app composes a running sfnd node: NATS (embedded or external), the event
// store, the projections, the actors and the HTTP API. cmd/sfnd and the end-to-end
// tests start nodes through it.
package app

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/actors/glueblueprint"
	"github.com/sfnd/sfnd/actors/gluejob"
	"github.com/sfnd/sfnd/actors/integrations"
	"github.com/sfnd/sfnd/actors/metrics"
	"github.com/sfnd/sfnd/actors/objects"
	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/api/console"
	"github.com/sfnd/sfnd/api/glue"
	"github.com/sfnd/sfnd/api/sfn"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/projections"
)

// Config configures a node.
type Config struct {
	Listen   string // HTTP address, e.g. 127.0.0.1:8083 (":0" style picks a port)
	DataDir  string // embedded NATS store lives in DataDir/jetstream
	NatsURL  string // external NATS (comma-separated URLs); empty starts the embedded server
	NATSAuth NATSAuth
	// NATSWorkerPassword, when set with a listening embedded NATS, admits outside Glue
	// workers as user NATSWorkerUser with GlueWorkerPermissions only.
	NATSWorkerPassword string
	NATSPort           int    // embedded server's client port: 0 in-process only, -1 any free port
	NATSHost           string // address the embedded server's client port binds (default 127.0.0.1)
	// NodeName names the node (its embedded NATS server's name; unique in a cluster).
	NodeName string
	// ClusterListen (HOST:PORT) makes the embedded server join a NATS cluster with
	// ClusterName through ClusterRoutes (nats://host:port of the other nodes).
	ClusterName   string
	ClusterListen string
	ClusterRoutes []string
	// Replicas is the JetStream replica count of every stream and bucket the node
	// creates (1 on a single node; at most the cluster's size).
	Replicas int
	Region   string
	Account  string
	// WaitTimeScale multiplies every timer's delay (Wait states, retries); 1 = real time.
	WaitTimeScale float64
	// IdleTimeout passivates execution actors idle this long (0: the engine's default).
	IdleTimeout time.Duration
	// StartHold: how long an ActivityStarted report waits for its result (0: the
	// engine's default, negative: never; actors.Config.StartHold).
	StartHold time.Duration
	// Integrations serve Task states on service integrations, by resource type. The
	// Lambda ("lambda") and HTTP ("http") integrations are added unless given here.
	Integrations map[string]actors.Integration
	// LambdaEndpoint is the Lambda API the Lambda tasks call (empty: AWS's regional
	// endpoint), like AWS Step Functions Local's LAMBDA_ENDPOINT.
	LambdaEndpoint string
	// MockConfig is the path of an AWS Step Functions Local mock configuration file
	// (MockConfigFile.json): executions started on "<stateMachineArn>#<TestCase>" take
	// their Task states' results from it.
	MockConfig string
	// GlueWork configures the Glue job runner and blueprint engine (gluework.go).
	GlueWork GlueWork
	// Limits bound what one HTTP client can hold (zero fields: api.DefaultLimits).
	Limits api.Limits
	// S3LocalRoot keeps s3://bucket/key objects (Distributed Map's ItemReader and
	// ResultWriter, Glue script locations) in the file S3LocalRoot/bucket/key.
	S3LocalRoot string
	// S3Endpoint is an S3-compatible endpoint for s3:// objects (empty: the SDK's
	// AWS_ENDPOINT_URL_S3, else AWS S3). S3LocalRoot wins over it.
	S3Endpoint string
	// Endpoints overrides the endpoints of AWS services' Task integrations by service
	// id ("dynamodb", "sqs", ...); unset ones come from the environment the way the
	// AWS SDKs read it (integrations.EndpointFromEnv).
	Endpoints map[string]string
	// GlueTimeScale multiplies Glue's job timeouts, crawl durations, schedules and
	// event batch windows (tests run minutes in seconds); 0 or 1 = real time.
	GlueTimeScale float64
	// Credentials, when set, are the only callers: every request must carry a valid
	// SigV4 signature of one of them and acts in its account (api.Config).
	Credentials *api.Credentials
	// TLSCert and TLSKey, when set, serve the API over HTTPS with this certificate
	// and key (PEM files; ReloadTLS reads them again).
	TLSCert, TLSKey string
	// Now is the clock request signatures are checked against (time.Now by default).
	Now    func() time.Time
	Logger *slog.Logger
	// StartupTimeout bounds the wait for a JetStream cluster to form (default 5 min).
	StartupTimeout time.Duration
}

// App is a running node.
type App struct {
	cfg       Config
	closeOnce sync.Once
	embedded  *jsstore.Embedded
	nc        *nats.Conn
	Store     *jsstore.Store
	res       *projections.Resources
	execs     *projections.Executions
	Engine    *actors.Engine
	Tasks     *actors.Tasks
	Objects   *objects.Store  // where s3:// and file:// objects are read and written
	MapRuns   *actors.MapRuns // Distributed Map runs
	API       *sfn.Server     // the Step Functions service
	Glue      *glue.Server    // the Glue service
	Edge      *api.Server     // the HTTP edge every service is served through
	// GlueRunner runs Glue job runs and crawls; Blueprints runs blueprint layouts.
	GlueRunner *gluejob.Runner
	Blueprints *glueblueprint.Engine
	// GlueRuns runs Glue workflow runs and keeps job runs and crawls.
	GlueRuns *actors.Glue
	http     *http.Server
	certs    *api.CertReloader
	ln       net.Listener
	Metrics  *metrics.Metrics
}

// Start brings a node up and returns once it serves requests.
func Start(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if !api.ValidRegion(cfg.Region) {
		return nil, errors.Newf("region %q is not an AWS region name", cfg.Region)
	}
	if cfg.Account == "" {
		cfg.Account = "123456789012"
	}
	if cfg.WaitTimeScale == 0 {
		cfg.WaitTimeScale = 1
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.StartupTimeout <= 0 {
		cfg.StartupTimeout = 5 * time.Minute
	}
	if cfg.NodeName == "" && cfg.ClusterListen != "" {
		return nil, errors.New("--cluster-listen needs --node-name: a name unique in the cluster and kept across restarts")
	}
	a := &App{cfg: cfg}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	var err error
	if err := a.connect(); err != nil {
		return nil, err
	}
	sctx, scancel := context.WithTimeout(ctx, cfg.StartupTimeout)
	defer scancel()
	if err := jsstore.WaitForJetStream(sctx, a.nc, cfg.Logger); err != nil {
		return nil, err
	}
	// On a cluster still forming (a leader elected, too few servers seen yet for the
	// replicas asked for) creating the streams is retried.
	if err := jsstore.RetryStartup(sctx, cfg.Logger, "create the streams", func(ctx context.Context) (err error) {
		a.Store, err = jsstore.Open(ctx, a.nc, jsstore.Options{Replicas: cfg.Replicas})
		return err
	}); err != nil {
		return nil, errors.Wrapf(err, "create streams with %d replica(s)", cfg.Replicas)
	}
	// Read models are derived: one missing or behind its streams is rebuilt first.
	if err := jsstore.RetryStartup(sctx, cfg.Logger, "check the read models", func(ctx context.Context) error {
		return projections.Repair(ctx, a.Store, 0, cfg.Logger)
	}); err != nil {
		return nil, err
	}
	if err := jsstore.RetryStartup(sctx, cfg.Logger, "start the projections", func(ctx context.Context) (err error) {
		if a.res == nil {
			if a.res, err = projections.StartResources(ctx, a.Store, 0); err != nil {
				return err
			}
		}
		a.execs, err = projections.StartExecutions(ctx, a.Store, 0)
		return err
	}); err != nil {
		return nil, err
	}
	if a.Objects, err = objects.New(ctx, objects.Config{LocalRoot: cfg.S3LocalRoot, Endpoint: cfg.S3Endpoint, Region: cfg.Region}); err != nil {
		return nil, errors.Wrap(err, "object store")
	}
	var mocks *actors.MockConfig
	if cfg.MockConfig != "" {
		if mocks, err = actors.LoadMockConfig(cfg.MockConfig); err != nil {
			return nil, err
		}
	}
	// Nested executions (states:startExecution) start through the API's start path.
	states := integrations.NewStatesIntegration()
	// The listener exists before anything runs: Glue tasks and Glue job processes call
	// this node's own Glue API. Requests wait in its backlog until the API serves.
	if a.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, errors.Wrapf(err, "listen on %s", cfg.Listen)
	}
	endpoints := map[string]string{"lambda": cfg.LambdaEndpoint}
	if os.Getenv("AWS_ENDPOINT_URL_GLUE") == "" {
		endpoints["glue"] = a.localEndpoint()
	}
	for k, v := range cfg.Endpoints {
		if v != "" || k != "glue" {
			endpoints[k] = v
		}
	}
	awsCaller := integrations.NewAWS(integrations.AWSConfig{Region: cfg.Region, Endpoints: endpoints})
	optimized := integrations.NewOptimized(awsCaller)
	integs := defaultIntegrations(cfg, optimized, awsCaller)
	if _, ok := integs["states"]; !ok {
		integs["states"] = states
	}
	tcfg := actors.TasksConfig{
		WaitTimeScale: cfg.WaitTimeScale, Logger: cfg.Logger, Integrations: integs,
		ActivityExists: func(ctx context.Context, arn string) (bool, error) {
			_, err := a.res.Activity(ctx, arn)
			if errors.Is(err, events.ErrNotFound) {
				return false, nil
			}
			return err == nil, err
		},
	}
	if err := jsstore.RetryStartup(sctx, cfg.Logger, "open the task queues", func(ctx context.Context) (err error) {
		a.Tasks, err = actors.NewTasks(ctx, a.Store, tcfg)
		return err
	}); err != nil {
		return nil, err
	}
	if a.MapRuns, err = actors.NewMapRuns(ctx, a.Store, a.Objects, cfg.Logger); err != nil {
		return nil, err
	}
	a.Metrics = metrics.New()
	if a.Engine, err = actors.NewEngine(ctx, a.Store, actors.Config{WaitTimeScale: cfg.WaitTimeScale, IdleTimeout: cfg.IdleTimeout, StartHold: cfg.StartHold, Logger: cfg.Logger, Tasks: a.Tasks, Mocks: mocks,
		MapRuns: a.MapRuns,
		Ended:   a.execs.Apply, NodeName: nodeName(cfg, a.Endpoint()), Endpoint: a.Endpoint(), Acquired: a.resumeLater, Metrics: a.Metrics,
	}); err != nil {
		return nil, err
	}
	a.Tasks.UseEngine(a.Engine)
	optimized.Bind(a.Engine)
	a.MapRuns.Bind(a.Engine, a.execs.Reserve, func(ctx context.Context, list, cursor string, limit int) ([]events.ExecutionRecord, string, error) {
		return a.execs.Page(ctx, list, projections.ExecutionFilter{}, cursor, limit)
	})
	a.MapRuns.MarkPendingRedrive = a.execs.MarkPendingRedrive
	a.Edge = api.New(api.Config{Region: cfg.Region, Account: cfg.Account, Logger: cfg.Logger, Limits: cfg.Limits, Observe: a.Metrics.Request,
		Credentials: cfg.Credentials, Now: cfg.Now})
	a.observe()
	a.API = sfn.New(sfn.Config{Logger: cfg.Logger, Unserved: unserved(integs)}, a.Store, a.res)
	a.Edge.Register(a.API.Service())
	a.API.EnableExecutions(a.Engine, a.Store, a.execs)
	states.Bind(a.Engine, a.API.StartChild)
	a.execs.OnTerminal(func(smARN string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.API.FinishDeleting(ctx, smARN); err != nil {
			cfg.Logger.Error("finish deleting state machine", "stateMachine", smARN, "err", err)
		}
	})
	a.API.EnableTasks(a.Tasks)
	if cfg.GlueTimeScale <= 0 {
		cfg.GlueTimeScale = 1
	}
	a.Glue = glue.New(glue.Config{Logger: cfg.Logger, TimeScale: cfg.GlueTimeScale}, a.Store, a.res)
	a.API.EnableMapRuns(a.MapRuns)
	a.Glue.SetDeployment(cfg.Region, cfg.Account)
	glueSvc := a.Glue.Service()
	if glueSvc.SigningName == "" {
		glueSvc.SigningName = "glue"
	}
	a.Edge.Register(glueSvc)
	if a.GlueRuns, err = actors.NewGlue(ctx, a.Store, actors.GlueConfig{
		Logger: cfg.Logger, TimeScale: cfg.GlueTimeScale, IdleTimeout: cfg.IdleTimeout, WaitFor: a.res.WaitFor,
	}); err != nil {
		return nil, err
	}
	a.Glue.EnableRuns(a.GlueRuns)
	a.enableConsole()
	// Consuming the command partitions wakes the running executions of the ones this
	// node is to own (all of them on a single node).
	if err := jsstore.RetryStartup(sctx, cfg.Logger, "consume the command partitions", a.Engine.Run); err != nil {
		return nil, err
	}
	a.reportReplicas()
	a.http = a.Edge.HTTPServer()
	served := a.Edge.Listener(a.ln)
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		if a.certs, err = api.NewCertReloader(cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, err
		}
		served = a.certs.Listener(served)
	}
	go func() {
		if err := a.http.Serve(served); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("http server stopped", "err", err)
		}
	}()
	// On a cluster re-electing leaders (a node died, this one restarted) these can
	// time out: retried, as the stream creates are, rather than ending the process.
	if err := jsstore.RetryStartup(ctx, cfg.Logger, "start the Glue runners", a.startGlueWork); err != nil {
		return nil, err
	}
	if a.Blueprints != nil {
		a.Glue.EnableBlueprints(a.Blueprints)
	}
	if err := jsstore.RetryStartup(ctx, cfg.Logger, "resume Glue workflow runs", a.recoverGlue); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// Endpoint is the base URL clients use.
func (a *App) Endpoint() string {
	if a.certs != nil {
		return "https://" + a.ln.Addr().String()
	}
	return "http://" + a.ln.Addr().String()
}

// ReloadTLS reads the TLS certificate and key again (sfnd serve: on SIGHUP); new
// connections get the new certificate. Without TLS it does nothing.
func (a *App) ReloadTLS() error {
	if a.certs == nil {
		return nil
	}
	return a.certs.Reload()
}

// NATSURL is the embedded server's client URL with its credentials (empty when
// in-process only); NATSPublicURL is the same without them.
func (a *App) NATSURL() string {
	if a.embedded == nil {
		return a.cfg.NatsURL
	}
	return a.embedded.ClientURL()
}

// Close stops the node: HTTP first, then consumers, then NATS. It may be called twice.
func (a *App) Close() { a.closeOnce.Do(a.close) }

func (a *App) close() {
	if a.http != nil {
		// In-flight requests get a moment to finish; idle keep-alive connections (which
		// Shutdown would otherwise wait out) are closed.
		a.http.SetKeepAlivesEnabled(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := a.http.Shutdown(ctx); err != nil {
			_ = a.http.Close()
		}
		cancel()
	} else if a.ln != nil {
		_ = a.ln.Close()
	}
	a.closeGlueWork()
	if a.GlueRuns != nil {
		a.GlueRuns.Close()
	}
	if a.Engine != nil {
		a.Engine.Close()
	}
	if a.execs != nil {
		a.execs.Stop()
	}
	if a.res != nil {
		a.res.Stop()
	}
	if a.nc != nil {
		_ = a.nc.Drain()
		a.nc.Close()
	}
	if a.embedded != nil {
		a.embedded.Shutdown()
	}
}

// resumeLater wakes the running executions of newly acquired partitions in the
// background: serving need not wait for every open execution (the read model answers
// Describe and List; an actor loads its history on its first command anyway). With
// thousands of executions parked on timers, waking them before serving starved the
// rest of start-up.
func (a *App) resumeLater(partitions []int) { go a.recover(partitions) }

// recover wakes every execution of the given command partitions the read model says
// is running: each actor rebuilds from its history, re-arms its timers and
// re-dispatches its tasks, or starts an execution whose start was accepted but not
// yet recorded. It runs at start-up and when a partition's previous owner left.
func (a *App) recover(partitions []int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Right after a restart the store may still be recovering: a failed listing is
	// tried again rather than leaving the partitions' executions unwoken.
	running, err := a.execs.Running(ctx)
	for wait := 250 * time.Millisecond; err != nil; wait = min(2*wait, 5*time.Second) {
		a.cfg.Logger.Warn("list running executions to resume", "partitions", partitions, "err", err)
		select {
		case <-ctx.Done():
			a.cfg.Logger.Error("list running executions to resume: giving up", "partitions", partitions, "err", err)
			return
		case <-time.After(wait):
		}
		running, err = a.execs.Running(ctx)
	}
	var mine [jsstore.Partitions]bool
	for _, p := range partitions {
		mine[p] = true
	}
	var arns []string
	for _, rec := range running {
		if mine[jsstore.Partition(rec.ARN)] {
			arns = append(arns, rec.ARN)
		}
	}
	// An execution whose last decision parked it on durable timers (armed before
	// that decision was stored) has nothing to re-arm or re-dispatch: its timer's
	// command wakes it, as long as the timer's scheduled message is there. Those
	// whose schedule is gone (a schedule lost with a node or a stream's leader,
	// whatever the cause) are woken with the others and arm their timers again.
	parked, err := a.Store.Parked(ctx, arns)
	if err != nil {
		a.cfg.Logger.Warn("read which executions are parked (waking them all)", "err", err)
		parked = nil
	}
	lost, err := a.Store.Unscheduled(ctx, parked)
	if err != nil {
		a.cfg.Logger.Warn("read the parked executions' schedules (waking them all)", "err", err)
		parked = nil
	}
	var wake []events.ExecutionRecord
	for _, rec := range running {
		if _, ok := parked[rec.ARN]; mine[jsstore.Partition(rec.ARN)] && (!ok || lost[rec.ARN]) {
			wake = append(wake, rec)
		}
	}
	if len(lost) > 0 {
		a.cfg.Logger.Info("parked executions whose timer has no schedule left (fired, or lost): waking them", "count", len(lost), "partitions", partitions)
	}
	if len(arns) > 0 || len(partitions) < jsstore.Partitions {
		a.cfg.Logger.Info("resuming executions", "running", len(arns), "parked", len(parked), "unscheduled", len(lost), "waking", len(wake), "partitions", partitions)
	}
	// A few at a time (each reads its history, re-arms its timers and, when it waits
	// only for durable timers, is passivated again): waking them all at once made
	// every actor load at the same moment, starving the timers that came due and the
	// requests served meanwhile.
	t0 := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range recoveryWakers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(wake) {
					return
				}
				rec := wake[i]
				wctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				a.Engine.Wake(wctx, events.Command{ExecARN: rec.ARN, Start: rec.Start})
				cancel()
			}
		})
	}
	wg.Wait()
	if len(wake) > 0 {
		a.cfg.Logger.Info("resumed executions", "count", len(wake), "partitions", len(partitions), "took", time.Since(t0).Round(time.Millisecond))
	}
}

// recoveryWakers is how many executions recovery wakes at a time.
const recoveryWakers = 8

// enableConsole serves the web console on GET / (every deep link below it) and its
// read-only operations (SfndConsole.*) through the edge, over the same stores.
func (a *App) enableConsole() {
	a.Edge.Register(console.Service(console.Deps{
		History: func(ctx context.Context, arn string) ([]events.HistoryEvent, error) {
			h, _, err := a.Store.ReadHistory(ctx, arn)
			return h, err
		},
		TaskToken: a.Tasks.Token, TaskTokenV1: a.Tasks.TokenV1,
		ActivityExists: func(ctx context.Context, arn string) (bool, error) {
			_, err := a.res.Activity(ctx, arn)
			if errors.Is(err, events.ErrNotFound) {
				return false, nil
			}
			return err == nil, err
		},
		Queue:   a.Tasks.Queue,
		Workers: a.Tasks.Workers,
		Targets: a.Edge.Targets,
	}))
	a.Edge.HandlePublicGet("/", console.Handler()) // the static shell; its data comes through signed calls
}

// defaultIntegrations adds the built-in integrations (Lambda, HTTP, the AWS
// services' optimized and aws-sdk integrations) to the configured ones; a configured
// integration of the same type wins.
func defaultIntegrations(cfg Config, optimized *integrations.Optimized, awsCaller *integrations.AWS) map[string]actors.Integration {
	lambdaEndpoint := cfg.LambdaEndpoint
	if lambdaEndpoint == "" {
		lambdaEndpoint = integrations.EndpointFromEnv(os.Getenv, integrations.Services["lambda"])
	}
	m := map[string]actors.Integration{
		"lambda": integrations.NewLambda(integrations.LambdaConfig{Endpoint: lambdaEndpoint, Region: cfg.Region}),
		"http":   integrations.NewHTTPInvoke(nil),
	}
	for k, v := range optimized.Integrations() {
		m[k] = v
	}
	for k, v := range integrations.SDKIntegrations(awsCaller) {
		m[k] = v
	}
	for k, v := range cfg.Integrations {
		m[k] = v
	}
	return m
}

// recoverGlue wakes every Glue workflow run the read model says is RUNNING or
// STOPPING: its actor rebuilds from the history and re-issues what it waits for.
func (a *App) recoverGlue(ctx context.Context) error {
	n, err := a.Glue.Recover(ctx)
	if n > 0 {
		a.cfg.Logger.Info("resuming glue workflow runs", "count", n)
	}
	return err
}

// unserved lists the Task states of a definition that no integration serves
// (activities and Lambda function ARNs are always served).
func unserved(integs map[string]actors.Integration) func(string) []asl.TaskResource {
	return func(def string) []asl.TaskResource {
		sm, err := asl.Parse(def)
		if err != nil {
			return nil
		}
		var out []asl.TaskResource
		for _, r := range asl.TaskResources(sm) {
			if _, ok := integs[r.Type]; !ok && r.Type != "activity" && r.Type != "lambda" {
				out = append(out, r)
			}
		}
		return out
	}
}
