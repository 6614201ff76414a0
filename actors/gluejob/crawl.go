package gluejob

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sfnd/sfnd/events"
)

// Reserved crawler tags that control a simulated crawl (sfnd has no Data Catalog, so a
// crawl classifies nothing; GLUE.md §4.3).
const (
	TagCrawlOutcome = "sfnd:crawl-outcome" // SUCCEEDED (default) or FAILED
	TagCrawlSeconds = "sfnd:crawl-seconds" // duration, default Config.CrawlSeconds
)

// runCrawl simulates a crawl: it runs for the configured duration and ends with the
// outcome the crawler's tags ask for; or, with a hook command configured and no
// outcome tag, the hook's exit code decides. A stop ends it CANCELLED.
func (r *Runner) runCrawl(ctx context.Context, req request, stop <-chan string, started func(time.Time)) events.GlueWorkReport {
	begin := time.Now()
	rep := r.report(req, StateFailed, begin)
	finish := func(state, msg string) events.GlueWorkReport {
		end := time.Now()
		rep.State, rep.ErrorMessage, rep.Time = state, msg, end.UTC()
		rep.ExecutionTime = int(math.Round(end.Sub(begin).Seconds()))
		return rep
	}
	outcome, forced := req.Tags[TagCrawlOutcome]
	if forced && outcome != StateSucceeded && outcome != StateFailed {
		return finish(StateFailed, fmt.Sprintf("Tag %s must be SUCCEEDED or FAILED, not %q", TagCrawlOutcome, outcome))
	}
	seconds := r.cfg.CrawlSeconds
	if v, ok := req.Tags[TagCrawlSeconds]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > 7*24*3600 {
			return finish(StateFailed, fmt.Sprintf("Tag %s must be a number of seconds, not %q", TagCrawlSeconds, v))
		}
		seconds = f
	}
	if r.cfg.CrawlHook != "" && !forced {
		return r.crawlHook(ctx, req, stop, started, finish)
	}
	started(begin)
	t := time.NewTimer(time.Duration(seconds * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop:
		return finish(StateCancelled, "")
	case <-ctx.Done():
		return finish(StateFailed, "sfnd shut down")
	}
	if outcome == StateFailed {
		return finish(StateFailed, fmt.Sprintf("Crawler %s failed: its tag %s=FAILED asks sfnd's simulated crawl to fail", req.Name, TagCrawlOutcome))
	}
	return finish(StateSucceeded, "")
}

// crawlHook runs the operator's hook command with the crawler definition on stdin.
func (r *Runner) crawlHook(ctx context.Context, req request, stop <-chan string, started func(time.Time),
	finish func(state, msg string) events.GlueWorkReport) events.GlueWorkReport {
	dir := r.runDir(req.RunID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return finish(StateFailed, err.Error())
	}
	stdout, err := os.Create(filepath.Join(dir, "output"))
	if err != nil {
		return finish(StateFailed, err.Error())
	}
	defer func() { _ = stdout.Close() }()
	stderr, err := os.Create(filepath.Join(dir, "error"))
	if err != nil {
		return finish(StateFailed, err.Error())
	}
	defer func() { _ = stderr.Close() }()
	env := append(r.env([]string{r.pyPath}), "CRAWLER_NAME="+req.Name, "CRAWL_ID="+req.RunID)
	if req.WorkflowName != "" {
		env = append(env, "WORKFLOW_NAME="+req.WorkflowName, "WORKFLOW_RUN_ID="+req.WorkflowRunID)
	}
	crawler := req.Crawler
	if len(crawler) == 0 {
		crawler = []byte(`{"Name":` + strconv.Quote(req.Name) + `}`)
	}
	// No timeout of its own beyond a week: StopCrawler ends it.
	end := r.execute(ctx, []string{"/bin/sh", "-c", r.cfg.CrawlHook}, dir, env, bytes.NewReader(crawler),
		stdout, stderr, stop, time.Now().Add(7*24*time.Hour), started)
	switch end.state {
	case StateSucceeded:
		return finish(StateSucceeded, "")
	case StateStopped, StateTimeout:
		return finish(StateCancelled, "")
	}
	msg := end.msg
	if end.exit != "" {
		msg = "Crawler hook " + end.exit
		if tail := errorTail(stderr.Name()); tail != "" {
			msg += ": " + tail
		}
	}
	return finish(StateFailed, msg)
}
