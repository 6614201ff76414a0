package app

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sfnd/sfnd/actors/glueblueprint"
	"github.com/sfnd/sfnd/actors/gluejob"
)

// GlueWork configures the node's built-in Glue job runner and blueprint engine.
type GlueWork struct {
	// Commands maps a job Command.Name to a command template (--glue-command), e.g.
	// glueetl -> "spark-submit {script} {args}".
	Commands map[string]string
	// JobOutputDir keeps each job run's stdout and stderr in <dir>/<JobRunId>/output and
	// .../error (default <data-dir>/glue/jobruns).
	JobOutputDir string
	// Python runs pythonshell jobs and blueprint layouts (default python3).
	Python string
	// CrawlSeconds is a simulated crawl's duration (default 1; the crawler's tag
	// sfnd:crawl-seconds overrides it).
	CrawlSeconds float64
	// CrawlHook is a shell command run for each crawl with the crawler as JSON on stdin.
	CrawlHook string
	// NoRunner leaves GLUE_WORK to outside workers: this node runs no jobs or crawls.
	NoRunner bool
	// StopGrace is the time between SIGTERM and SIGKILL when a job run is stopped (default 10 s).
	StopGrace time.Duration
	// AckWait is how long a node may be silent about a job run it holds before another
	// node reports the run interrupted (default 30 s).
	AckWait time.Duration
	// Fetcher reads script and blueprint locations (default: the node's object store,
	// --s3-local-root or --s3-endpoint, and file:// or absolute paths).
	Fetcher gluejob.Fetcher
}

// startGlueWork starts the job runner (unless NoRunner) and the blueprint engine; the
// HTTP listener must exist, since job processes call back to it.
func (a *App) startGlueWork(ctx context.Context) error {
	g := a.cfg.GlueWork
	if g.JobOutputDir == "" {
		g.JobOutputDir = filepath.Join(a.cfg.DataDir, "glue", "jobruns")
	}
	if g.Fetcher == nil {
		g.Fetcher = gluejob.ObjectsFetcher{Store: a.Objects}
	}
	endpoint := a.localEndpoint()
	var err error
	if !g.NoRunner {
		a.GlueRunner, err = gluejob.Start(ctx, a.Store.JS, a.nc, gluejob.Config{
			Endpoint: endpoint, Region: a.cfg.Region, Commands: g.Commands, Python: g.Python,
			S3Endpoint: a.cfg.S3Endpoint, OutputDir: g.JobOutputDir, Fetcher: g.Fetcher, StopGrace: g.StopGrace, AckWait: g.AckWait, TimeScale: a.cfg.GlueTimeScale,
			CrawlSeconds: g.CrawlSeconds, CrawlHook: g.CrawlHook,
			Logger: a.cfg.Logger.With("component", "glue-runner"),
		})
		if err != nil {
			return err
		}
	}
	a.Blueprints, err = glueblueprint.New(glueblueprint.Config{
		Fetcher: g.Fetcher, StoreDir: filepath.Join(a.cfg.DataDir, "glue", "blueprints"), Python: g.Python,
		Endpoint: endpoint, Region: a.cfg.Region, S3Endpoint: a.cfg.S3Endpoint,
		Logger: a.cfg.Logger.With("component", "glue-blueprints"),
	})
	return err
}

func (a *App) closeGlueWork() {
	if a.GlueRunner != nil {
		a.GlueRunner.Close()
	}
	if a.Blueprints != nil {
		a.Blueprints.Close()
	}
}

// localEndpoint is the URL processes on this machine reach the API at (a wildcard
// listen address becomes the loopback address).
func (a *App) localEndpoint() string {
	addr, ok := a.ln.Addr().(*net.TCPAddr)
	if !ok {
		return a.Endpoint()
	}
	host := addr.IP.String()
	if addr.IP == nil || addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}
