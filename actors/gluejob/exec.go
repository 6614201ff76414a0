package gluejob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events"
)

// Arguments the runner sets itself; values in Request.Arguments under these keys are
// replaced.
var reservedArgs = map[string]bool{
	"--JOB_NAME": true, "--JOB_ID": true, "--JOB_RUN_ID": true,
	"--WORKFLOW_NAME": true, "--WORKFLOW_RUN_ID": true,
}

const (
	maxScriptBytes  = 64 << 20
	errorTailBytes  = 2048
	defaultTimeout  = 2880 // minutes
	pythonshellName = "pythonshell"
)

var (
	pythonsMu sync.Mutex
	pythons   = map[string]string{}
)

// usablePython returns the path of an interpreter that runs (a pyenv shim may exist
// for a version that is not selected), or "".
func usablePython(name string) string {
	pythonsMu.Lock()
	defer pythonsMu.Unlock()
	if p, ok := pythons[name]; ok {
		return p
	}
	p, err := exec.LookPath(name)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = exec.CommandContext(ctx, p, "-c", "pass").Run()
		cancel()
	}
	if err != nil {
		p = ""
	}
	pythons[name] = p
	return p
}

// Argv is the argument list a job script gets after its own path: --JOB_NAME,
// --JOB_ID, --JOB_RUN_ID, --WORKFLOW_NAME and --WORKFLOW_RUN_ID (in a workflow), then
// the effective arguments as "--k" "v" pairs sorted by key (empty values stay "").
func Argv(t events.GlueJobTask) []string { return scriptArgs(jobRequest(t)) }

func scriptArgs(req request) []string {
	args := []string{"--JOB_NAME", req.Name, "--JOB_ID", JobID(req.Name), "--JOB_RUN_ID", req.RunID}
	if req.WorkflowName != "" {
		args = append(args, "--WORKFLOW_NAME", req.WorkflowName, "--WORKFLOW_RUN_ID", req.WorkflowRunID)
	}
	keys := make([]string, 0, len(req.Arguments))
	for k := range req.Arguments {
		if !reservedArgs[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := k
		if !strings.HasPrefix(name, "--") {
			name = "--" + strings.TrimLeft(name, "-")
		}
		args = append(args, name, req.Arguments[k])
	}
	return args
}

// JobID is the stable id a job's runs see as --JOB_ID: "j_" and a hash of its name.
func JobID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "j_" + hex.EncodeToString(sum[:])
}

// jobEnd is how a job process ended.
type jobEnd struct {
	state string
	msg   string
	exit  string // for a process that failed by itself: how it ended ("exited with code 1")
}

// runJob runs one job run to its end and returns the terminal report.
func (r *Runner) runJob(ctx context.Context, req request, stop <-chan string, started func(time.Time)) events.GlueWorkReport {
	begin := time.Now()
	dir := r.runDir(req.RunID)
	rep := r.report(req, StateFailed, begin)
	rep.LogLocation = dir
	finish := func(e jobEnd) events.GlueWorkReport {
		end := time.Now()
		rep.State, rep.ErrorMessage, rep.Time = e.state, e.msg, end.UTC()
		rep.ExecutionTime = int(math.Round(end.Sub(begin).Seconds()))
		return rep
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	startedOn := req.StartedOn
	if startedOn.IsZero() {
		startedOn = begin
	}
	scale := req.TimeScale
	if scale <= 0 {
		scale = r.cfg.TimeScale
	}
	deadline := startedOn.Add(time.Duration(float64(timeout) * float64(time.Minute) * scale))

	name := req.Command.Name
	if name == "" {
		name = "glueetl" // the Glue API's default command
	}
	template, templated := r.cfg.Commands[name]
	if !templated && name != pythonshellName {
		return finish(jobEnd{state: StateFailed, msg: fmt.Sprintf("No executor is configured for command %s: start sfnd with --glue-command %s='<command template>' (e.g. %s='spark-submit {script} {args}')", name, name, name)})
	}
	python := r.cfg.Python
	if name == pythonshellName && !templated {
		v := req.Command.PythonVersion
		if v == "2" || strings.HasPrefix(v, "2.") {
			return finish(jobEnd{state: StateFailed, msg: "Python 2 is not supported: set Command.PythonVersion to 3 or 3.9"})
		}
		if strings.HasPrefix(v, "3.") {
			if p := usablePython("python" + v); p != "" {
				python = p
			}
		}
	}
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return finish(jobEnd{state: StateFailed, msg: "Could not create the run's work directory: " + err.Error()})
	}
	defer func() { _ = os.RemoveAll(work) }()

	location := req.Command.ScriptLocation
	if v := req.Arguments["--scriptLocation"]; v != "" {
		location = v
	}
	if location == "" {
		return finish(jobEnd{state: StateFailed, msg: "The job's Command has no ScriptLocation"})
	}
	script, err := r.fetchInto(ctx, location, work)
	if err != nil {
		return finish(jobEnd{state: StateFailed, msg: fmt.Sprintf("Unable to read script at %s: %v", location, err)})
	}
	pyPath := []string{}
	if v := req.Arguments["--extra-py-files"]; v != "" {
		lib := filepath.Join(work, "extra-py-files")
		if err := os.MkdirAll(lib, 0o755); err != nil {
			return finish(jobEnd{state: StateFailed, msg: err.Error()})
		}
		pyPath = append(pyPath, lib)
		for _, loc := range splitList(v) {
			p, err := r.fetchInto(ctx, loc, lib)
			if err != nil {
				return finish(jobEnd{state: StateFailed, msg: fmt.Sprintf("Unable to read --extra-py-files entry %s: %v", loc, err)})
			}
			if strings.HasSuffix(p, ".zip") || strings.HasSuffix(p, ".egg") || strings.HasSuffix(p, ".whl") {
				pyPath = append(pyPath, p)
			}
		}
	}
	for _, loc := range splitList(req.Arguments["--extra-files"]) {
		if _, err := r.fetchInto(ctx, loc, work); err != nil {
			return finish(jobEnd{state: StateFailed, msg: fmt.Sprintf("Unable to read --extra-files entry %s: %v", loc, err)})
		}
	}
	pyPath = append(pyPath, r.pyPath)

	args := scriptArgs(req)
	var argv []string
	if templated {
		argv, err = expandTemplate(template, map[string]string{
			"script": script, "workdir": work, "python": python, "job": req.Name, "runid": req.RunID,
		}, args)
		if err != nil {
			return finish(jobEnd{state: StateFailed, msg: fmt.Sprintf("The command template for %s is invalid: %v", name, err)})
		}
	} else {
		argv = append([]string{python, script}, args...)
	}

	stdout, err := os.Create(filepath.Join(dir, "output"))
	if err != nil {
		return finish(jobEnd{state: StateFailed, msg: err.Error()})
	}
	defer func() { _ = stdout.Close() }()
	stderr, err := os.Create(filepath.Join(dir, "error"))
	if err != nil {
		return finish(jobEnd{state: StateFailed, msg: err.Error()})
	}
	defer func() { _ = stderr.Close() }()

	env := r.env(pyPath)
	if time.Now().After(deadline) {
		return finish(jobEnd{state: StateTimeout, msg: timeoutMessage(timeout)})
	}
	end := r.execute(ctx, argv, work, env, nil, stdout, stderr, stop, deadline, started)
	if end.state == StateTimeout {
		end.msg = timeoutMessage(timeout)
	}
	if end.state == StateFailed && end.exit != "" {
		if tail := errorTail(stderr.Name()); tail != "" {
			end.msg = tail
		} else {
			end.msg = fmt.Sprintf("Command %s %s and wrote nothing to stderr", path.Base(argv[0]), end.exit)
		}
	}
	return finish(end)
}

func timeoutMessage(minutes int) string {
	return fmt.Sprintf("Job run timed out after %d minutes (the run's Timeout)", minutes)
}

// execute runs argv and waits for its end, a stop request, the deadline or the
// runner's shutdown. The process gets its own process group, which is signalled as a
// whole: SIGTERM, then SIGKILL after StopGrace. The process dies with sfnd (Pdeathsig).
func (r *Runner) execute(ctx context.Context, argv []string, dir string, env []string, stdin io.Reader,
	stdout, stderr io.Writer, stop <-chan string, deadline time.Time, started func(time.Time)) jobEnd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = dir, env, stdin, stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	startErr := make(chan error, 1)
	waited := make(chan error, 1)
	// Pdeathsig fires when the thread that forked the child exits, so the child is
	// started and waited for on one locked thread that lives as long as the child.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			startErr <- err
			return
		}
		startErr <- nil
		waited <- cmd.Wait()
	}()
	if err := <-startErr; err != nil {
		return jobEnd{state: StateFailed, msg: fmt.Sprintf("Could not start %s: %v", argv[0], err)}
	}
	started(time.Now())
	pid := cmd.Process.Pid
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	reason := ""
	var kill <-chan time.Time
	for {
		select {
		case err := <-waited:
			switch {
			case reason != "":
				return jobEnd{state: reason}
			case err == nil:
				return jobEnd{state: StateSucceeded}
			default:
				var exitErr *exec.ExitError
				if errors.As(err, &exitErr) {
					if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
						return jobEnd{state: StateFailed, exit: "was killed by signal " + ws.Signal().String()}
					}
					return jobEnd{state: StateFailed, exit: "exited with code " + strconv.Itoa(exitErr.ExitCode())}
				}
				return jobEnd{state: StateFailed, msg: err.Error()}
			}
		case why := <-stop:
			if reason == "" {
				reason = why
				_ = syscall.Kill(-pid, syscall.SIGTERM)
				kill = time.After(r.cfg.StopGrace)
			}
		case <-timer.C:
			if reason == "" {
				reason = StateTimeout
				_ = syscall.Kill(-pid, syscall.SIGTERM)
				kill = time.After(r.cfg.StopGrace)
			}
		case <-kill:
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		case <-ctx.Done():
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-waited
			return jobEnd{state: StateFailed, msg: "sfnd shut down"}
		}
	}
}

// env is the job process's environment: the host's, without its AWS_* settings, plus
// the endpoint, region and credentials that point AWS SDKs at this sfnd.
func (r *Runner) env(pyPath []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "PYTHONPATH=") {
			continue
		}
		env = append(env, kv)
	}
	if old := os.Getenv("PYTHONPATH"); old != "" {
		pyPath = append(pyPath, old)
	}
	env = append(env,
		"AWS_REGION="+r.cfg.Region, "AWS_DEFAULT_REGION="+r.cfg.Region,
		"AWS_ACCESS_KEY_ID="+r.cfg.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+r.cfg.SecretAccessKey,
		"PYTHONPATH="+strings.Join(pyPath, string(os.PathListSeparator)),
		"PYTHONUNBUFFERED=1",
	)
	if r.cfg.Endpoint != "" {
		env = append(env, "AWS_ENDPOINT_URL_GLUE="+r.cfg.Endpoint, "AWS_ENDPOINT_URL_SFN="+r.cfg.Endpoint)
	}
	if r.cfg.S3Endpoint != "" {
		env = append(env, "AWS_ENDPOINT_URL_S3="+r.cfg.S3Endpoint)
	}
	return env
}

// fetchInto copies the object at location into dir under its base name and returns
// the local path.
func (r *Runner) fetchInto(ctx context.Context, location, dir string) (string, error) {
	data, err := r.cfg.Fetcher.Fetch(ctx, location, maxScriptBytes)
	if err != nil {
		return "", err
	}
	base := path.Base(strings.TrimRight(location, "/"))
	if base == "" || base == "." || base == "/" || strings.ContainsAny(base, `\`) {
		base = "script.py"
	}
	p := filepath.Join(dir, base)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return "", errors.Wrap(err, "copy into the work directory")
	}
	return p, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// errorTail returns the last errorTailBytes of a file, from a line start, trimmed.
func errorTail(name string) string {
	f, err := os.Open(name)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-errorTailBytes, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	s := string(buf)
	if off > 0 {
		if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		}
	}
	return strings.TrimSpace(strings.ToValidUTF8(s, "?"))
}

// expandTemplate splits a command template into words (single and double quotes,
// backslash escapes), substitutes the placeholders and puts args where {args} stands
// (as separate words), or at the end.
func expandTemplate(template string, vars map[string]string, args []string) ([]string, error) {
	words, err := splitWords(template)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	var out []string
	sawArgs := false
	for _, w := range words {
		if w == "{args}" {
			out = append(out, args...)
			sawArgs = true
			continue
		}
		for k, v := range vars {
			w = strings.ReplaceAll(w, "{"+k+"}", v)
		}
		out = append(out, w)
	}
	if !sawArgs {
		out = append(out, args...)
	}
	return out, nil
}

func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	esc := false
	for _, c := range s {
		switch {
		case esc:
			cur.WriteRune(c)
			esc = false
		case c == '\\' && quote != '\'':
			esc, inWord = true, true
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 || esc {
		return nil, errors.New("unterminated quote or escape")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
