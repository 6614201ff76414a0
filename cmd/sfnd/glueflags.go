package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sfnd/sfnd/cmd/sfnd/app"
)

// glueFlags registers the flags of the Glue job runner and blueprint engine; the
// returned function reads them after fs.Parse.
func glueFlags(fs *flag.FlagSet) func() (app.GlueWork, error) {
	commands := map[string]string{}
	var cmdErr error
	addCommand := func(v string) error {
		name, template, ok := strings.Cut(v, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.TrimSpace(template) == "" {
			return fmt.Errorf("want NAME=TEMPLATE, e.g. glueetl='spark-submit {script} {args}', got %q", v)
		}
		commands[name] = template
		return nil
	}
	for _, line := range strings.Split(env("SFND_GLUE_COMMANDS", ""), "\n") {
		if strings.TrimSpace(line) != "" {
			if err := addCommand(line); err != nil {
				cmdErr = fmt.Errorf("SFND_GLUE_COMMANDS: %w", err)
			}
		}
	}
	fs.Func("glue-command", "run Glue jobs of command NAME with this command template: NAME='TEMPLATE' with {script}, {args}, {workdir}, {python}, {job}, {runid}; repeatable (SFND_GLUE_COMMANDS: one per line). Without one, jobs of commands other than pythonshell fail", addCommand)
	outDir := fs.String("glue-job-output-dir", env("SFND_GLUE_JOB_OUTPUT_DIR", ""), "keep each Glue job run's stdout and stderr in DIR/<JobRunId>/output and .../error (SFND_GLUE_JOB_OUTPUT_DIR; default <data-dir>/glue/jobruns)")
	python := fs.String("glue-python", env("SFND_GLUE_PYTHON", "python3"), "Python interpreter for pythonshell jobs and blueprint layouts (SFND_GLUE_PYTHON)")
	crawlDefault, _ := strconv.ParseFloat(env("SFND_GLUE_CRAWL_SECONDS", "1"), 64)
	crawlSeconds := fs.Float64("glue-crawl-seconds", crawlDefault, "duration of a simulated crawl; a crawler's tag sfnd:crawl-seconds overrides it (SFND_GLUE_CRAWL_SECONDS)")
	crawlHook := fs.String("glue-crawl-hook", env("SFND_GLUE_CRAWL_HOOK", ""), "shell command run for each crawl with the crawler as JSON on stdin; exit 0 = SUCCEEDED (SFND_GLUE_CRAWL_HOOK)")
	ackWait := fs.Duration("glue-job-lease", envDuration("SFND_GLUE_JOB_LEASE", 30*time.Second), "a node that holds a Glue job run and stays silent this long (it died) loses it: another node reports the run FAILED as interrupted (SFND_GLUE_JOB_LEASE)")
	noRunner := fs.Bool("glue-no-runner", env("SFND_GLUE_NO_RUNNER", "") == "1", "run no Glue jobs or crawls on this node: outside workers take the GLUE_WORK queue (SFND_GLUE_NO_RUNNER=1)")
	return func() (app.GlueWork, error) {
		if cmdErr != nil {
			return app.GlueWork{}, cmdErr
		}
		return app.GlueWork{
			Commands: commands, JobOutputDir: *outDir, Python: *python,
			CrawlSeconds: *crawlSeconds, CrawlHook: *crawlHook, NoRunner: *noRunner, AckWait: *ackWait,
		}, nil
	}
}

// envDuration reads a duration from the environment, or def.
func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(env(name, "")); err == nil {
		return d
	}
	return def
}
