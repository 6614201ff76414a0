package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/audit"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/projections"
)

// Exit codes of `sfnd history`.
const (
	exitOK    = 0 // everything agrees
	exitFault = 1 // a determinism fault, a malformed history, a replay mismatch
	exitUsage = 2 // bad arguments, or the store or file could not be read
)

const historyUsage = `usage: sfnd history <command> [flags] ...

commands:
  export <executionArn>              write the history as GetExecutionHistory JSON
                                     (a Glue workflow run id wr_...: its run events)
  replay <executionArn | file>       rebuild the execution and print its state timeline
  verify --all | --state-machine <arn> | <executionArn | file>...
                                     re-run the decider over stored histories and report
                                     any event where it decides differently (exit 1)
  import <file>                      read a history exported from AWS
                                     (get-execution-history output) and replay it

where histories come from (not needed for files):
  --data-dir DIR   a stopped server's data directory (default ./data, SFND_DATA_DIR)
  --nats-url URL   a running deployment's NATS (SFND_NATS_URL)

exit status: 0 all agree, 1 a fault was found, 2 usage or read error
`

// historyCmd runs `sfnd history ...` and returns the exit status.
func historyCmd(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(os.Stderr, historyUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	h := &historyTool{out: os.Stdout, errw: os.Stderr}
	fs := flag.NewFlagSet("history "+args[0], flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.Usage = func() {
		fmt.Fprint(os.Stderr, historyUsage, "\nflags of history ", args[0], ":\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&h.dataDir, "data-dir", env("SFND_DATA_DIR", "./data"), "data directory of a stopped server (SFND_DATA_DIR)")
	fs.StringVar(&h.natsURL, "nats-url", env("SFND_NATS_URL", ""), "NATS URL of a running deployment (SFND_NATS_URL)")
	asJSON := fs.Bool("json", false, "print results as JSON")
	var outFile string
	var withExt, all, quiet bool
	var smARN string
	switch args[0] {
	case "export":
		fs.StringVar(&outFile, "o", "", "write to this file instead of standard output")
		fs.BoolVar(&withExt, "with-ext", false, "keep sfnd's bookkeeping (member \"sfnd\") so the file can be verified offline")
	case "verify":
		fs.BoolVar(&all, "all", false, "verify every stored history")
		fs.StringVar(&smARN, "state-machine", "", "verify every history of this state machine")
		fs.BoolVar(&quiet, "quiet", false, "print faults and the summary only")
	case "replay", "import":
	default:
		fmt.Fprintf(os.Stderr, "sfnd history: unknown command %q\n\n%s", args[0], historyUsage)
		return exitUsage
	}
	if err := fs.Parse(interleave(fs, args[1:])); err != nil {
		if errors.Is(err, flag.ErrHelp) { // -h, --help: the usage was asked for
			return exitOK
		}
		return exitUsage
	}
	h.json = *asJSON
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer h.close()
	rest := fs.Args()
	var err error
	code := exitOK
	switch args[0] {
	case "export":
		if len(rest) != 1 {
			return h.usage("export takes one execution ARN")
		}
		if isGlueRun(rest[0]) {
			err = h.exportGlue(ctx, rest[0], outFile)
			break
		}
		err = h.export(ctx, rest[0], outFile, withExt)
	case "replay", "import":
		if len(rest) != 1 {
			return h.usage(args[0] + " takes one execution ARN or file")
		}
		if isGlueRun(rest[0]) {
			code, err = h.replayGlue(ctx, rest[0])
			break
		}
		if args[0] == "import" && !isFile(rest[0]) {
			return h.usage("import takes a file written by `aws stepfunctions get-execution-history` (or `sfnd history export`)")
		}
		code, err = h.replay(ctx, rest[0])
	case "verify":
		n := len(rest)
		if all {
			n++
		}
		if smARN != "" {
			n++
		}
		if n == 0 || (all || smARN != "") && n > 1 {
			return h.usage("verify takes --all, --state-machine <arn>, or execution ARNs / files")
		}
		h.quiet = quiet
		code, err = h.verify(ctx, all, smARN, rest)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sfnd history %s: %v\n", args[0], err)
		if hint := errors.FlattenHints(err); hint != "" {
			fmt.Fprintf(os.Stderr, "hint: %s\n", hint)
		}
		return exitUsage
	}
	return code
}

// interleave moves flags found after positional arguments to the front, so that
// `verify ARN --data-dir d` works as well as `verify --data-dir d ARN`.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, pos...)
}

type historyTool struct {
	dataDir, natsURL string
	json, quiet      bool
	out, errw        io.Writer

	embedded *jsstore.Embedded
	nc       *nats.Conn
	store    *jsstore.Store
}

func (h *historyTool) usage(msg string) int {
	fmt.Fprintf(h.errw, "sfnd history: %s\n\n%s", msg, historyUsage)
	return exitUsage
}

func isFile(arg string) bool {
	if strings.HasPrefix(arg, "arn:") {
		return false
	}
	st, err := os.Stat(arg)
	return err == nil && !st.IsDir()
}

// open connects to the histories: the running deployment's NATS (--nats-url), or the
// data directory's store opened with an in-process NATS server that listens on no
// port. Opening a directory a running server uses would let two servers write the
// same files, so it is refused while another process holds the data directory's lock.
func (h *historyTool) open(ctx context.Context) error {
	if h.store != nil {
		return nil
	}
	var err error
	if h.natsURL != "" {
		h.nc, err = toolNATS(h.natsURL, "sfnd-history")
		if err != nil {
			return err
		}
	} else {
		dir := filepath.Join(h.dataDir, "jetstream")
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return errors.Newf("%s holds no sfnd store (no %s)", h.dataDir, dir)
		}
		h.embedded, err = jsstore.StartEmbedded(jsstore.EmbeddedConfig{StoreDir: dir, Port: 0, Logger: quietLogger(h.errw)})
		if errors.Is(err, jsstore.ErrDataDirInUse) {
			return errors.WithHint(err, "stop that server first, or point --nats-url at its NATS")
		}
		if err != nil {
			return err
		}
		if h.nc, err = h.embedded.Connect("sfnd-history"); err != nil {
			return err
		}
	}
	js, err := jetstream.New(h.nc)
	if err != nil {
		return errors.Wrap(err, "jetstream")
	}
	// The tool only reads: it uses the store's read paths without Open, which would
	// create or update streams.
	h.store = &jsstore.Store{NC: h.nc, JS: js}
	if _, err := js.Stream(ctx, jsstore.HistoryStream); err != nil {
		return errors.Wrapf(err, "no history stream %s", jsstore.HistoryStream)
	}
	return nil
}

func (h *historyTool) close() {
	if h.nc != nil {
		h.nc.Close()
	}
	if h.embedded != nil {
		h.embedded.Shutdown()
	}
}

// quietLogger logs the embedded server's warnings and errors to w.
func quietLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// load returns a history from a file or from the store.
func (h *historyTool) load(ctx context.Context, arg string) ([]events.HistoryEvent, error) {
	if isFile(arg) {
		data, err := os.ReadFile(arg)
		if err != nil {
			return nil, errors.Wrap(err, "read history file")
		}
		return audit.ParseHistory(data)
	}
	if !strings.HasPrefix(arg, "arn:") {
		return nil, errors.Newf("%q is neither a file nor an execution ARN", arg)
	}
	if err := h.open(ctx); err != nil {
		return nil, err
	}
	hist, _, err := h.store.ReadHistory(ctx, arg)
	if err != nil {
		return nil, err
	}
	if len(hist) == 0 {
		return nil, errors.Newf("execution %s has no history", arg)
	}
	return hist, nil
}

func (h *historyTool) export(ctx context.Context, arn, outFile string, withExt bool) error {
	hist, err := h.load(ctx, arn)
	if err != nil {
		return err
	}
	b, err := audit.MarshalAWS(hist, withExt)
	if err != nil {
		return err
	}
	if outFile == "" {
		_, err = h.out.Write(b)
		return errors.Wrap(err, "write")
	}
	return errors.Wrap(os.WriteFile(outFile, b, 0o644), "write export")
}

func (h *historyTool) replay(ctx context.Context, arg string) (int, error) {
	hist, err := h.load(ctx, arg)
	if err != nil {
		return exitUsage, err
	}
	r, rerr := audit.ReplayHistory(hist)
	if r == nil {
		return exitFault, rerr
	}
	if h.json {
		enc := json.NewEncoder(h.out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return exitUsage, err
		}
	} else {
		printTimeline(h.out, r)
	}
	if rerr != nil {
		fmt.Fprintf(h.errw, "replay mismatch: %v\n", rerr)
		return exitFault, nil
	}
	return exitOK, nil
}

// printTimeline writes a replay as a table: one line per state visit, nested states
// indented, then the execution's end.
func printTimeline(w io.Writer, r *audit.Replay) {
	source := "events only (no sfnd bookkeeping: an AWS export)"
	if r.Rebuilt {
		source = "rebuilt with the decider's Apply"
	}
	fmt.Fprintf(w, "%d events, %d state visits; %s\n\n", r.Events, len(r.Steps), source)
	for _, s := range r.Steps {
		name := strings.Repeat("  ", s.Depth) + s.State
		if s.Iteration >= 0 {
			name += "[" + strconv.Itoa(s.Iteration) + "]"
		}
		fmt.Fprintf(w, "%5d  %-28s %-9s in=%s", s.EventID, name, s.Type, clip(s.Input))
		if s.ExitID != 0 {
			fmt.Fprintf(w, "  out=%s", clip(s.Output))
		}
		if s.Attempts > 1 {
			fmt.Fprintf(w, "  attempts=%d", s.Attempts)
		}
		if s.Error != "" {
			fmt.Fprintf(w, "  error=%s", s.Error)
			if s.Cause != "" {
				fmt.Fprintf(w, " (%s)", clipStr(s.Cause, 80))
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nstatus %s", r.Status)
	switch {
	case r.Output != nil:
		fmt.Fprintf(w, "  output=%s", clip(r.Output))
	case r.Error != "" || r.Cause != "":
		fmt.Fprintf(w, "  error=%s cause=%s", r.Error, clipStr(r.Cause, 200))
	}
	fmt.Fprintln(w)
	for _, t := range r.PendingTimers {
		fmt.Fprintf(w, "pending timer %s due %s\n", t.ID, t.Due.Format(time.RFC3339Nano))
	}
	for _, id := range r.PendingTasks {
		fmt.Fprintf(w, "pending task scheduled by event %d\n", id)
	}
}

func clip(p *string) string {
	if p == nil {
		return "-"
	}
	return clipStr(*p, 60)
}

func clipStr(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// verifyReport is one history's verdict.
type verifyReport struct {
	Execution string       `json:"execution"`
	Status    string       `json:"status,omitempty"`
	Events    int          `json:"events"`
	Decisions int          `json:"decisions"`
	Fault     *audit.Fault `json:"fault,omitempty"`
	Error     string       `json:"error,omitempty"`
}

func (h *historyTool) verify(ctx context.Context, all bool, smARN string, args []string) (int, error) {
	var targets []string
	switch {
	case all || smARN != "":
		if err := h.open(ctx); err != nil {
			return exitUsage, err
		}
		var err error
		if targets, err = h.executions(ctx, smARN); err != nil {
			return exitUsage, err
		}
		if all {
			runs, err := h.glueRuns(ctx)
			if err != nil {
				return exitUsage, err
			}
			targets = append(targets, runs...)
		}
	default:
		targets = args
	}
	opts := audit.VerifyOptions{}
	needStore := false
	for _, t := range targets {
		needStore = needStore || !isFile(t)
	}
	if needStore {
		if err := h.open(ctx); err != nil {
			return exitUsage, err
		}
		if tokens := h.taskTokens(ctx); tokens != nil {
			opts.TaskToken, opts.TaskTokenV1 = tokens.Token, tokens.TokenV1
		}
	}
	prog := newProgress(h.errw, len(targets))
	var faults, unverifiable, nEvents, decisions, running int
	for i, target := range targets {
		rep := verifyReport{Execution: target}
		var hist []events.HistoryEvent
		var err error
		if isGlueRun(target) {
			rep, err = h.verifyGlue(ctx, target)
		} else {
			hist, err = h.load(ctx, target)
		}
		if err == nil && !isGlueRun(target) {
			var res audit.Result
			res, err = audit.Verify(hist, opts)
			rep.Events, rep.Decisions, rep.Fault = res.Events, res.Decisions, res.Fault
			if len(hist) > 0 {
				rep.Status = "RUNNING"
				switch hist[len(hist)-1].Type {
				case events.ExecutionSucceeded:
					rep.Status = "SUCCEEDED"
				case events.ExecutionFailed:
					rep.Status = "FAILED"
				case events.ExecutionAborted:
					rep.Status = "ABORTED"
				case events.ExecutionTimedOut:
					rep.Status = "TIMED_OUT"
				}
			}
		}
		if err != nil {
			rep.Error = err.Error()
		}
		nEvents += rep.Events
		decisions += rep.Decisions
		switch {
		case rep.Fault != nil:
			faults++
		case err != nil:
			unverifiable++
		case rep.Status == "RUNNING":
			running++
		}
		prog.update(i+1, nEvents, faults+unverifiable)
		if h.json {
			b, _ := json.Marshal(rep)
			fmt.Fprintln(h.out, string(b))
			continue
		}
		switch {
		case rep.Fault != nil:
			fmt.Fprintf(h.out, "FAULT %s: event %d (decision at event %d): %s\n", target, rep.Fault.EventID, rep.Fault.Decision, rep.Fault.Message)
		case err != nil:
			fmt.Fprintf(h.out, "ERROR %s: %v\n", target, err)
		case !h.quiet:
			fmt.Fprintf(h.out, "ok    %s: %d events, %d decisions agree (%s)\n", target, rep.Events, rep.Decisions, rep.Status)
		}
	}
	prog.done()
	if !h.json {
		fmt.Fprintf(h.out, "verified %d executions (%d running), %d events, %d decisions: %d faults, %d unverifiable\n",
			len(targets), running, nEvents, decisions, faults, unverifiable)
	}
	if faults+unverifiable > 0 {
		return exitFault, nil
	}
	return exitOK, nil
}

// executions lists the executions with a stored history (of one state machine when
// smARN is set), from the history stream's subjects.
func (h *historyTool) executions(ctx context.Context, smARN string) ([]string, error) {
	st, err := h.store.JS.Stream(ctx, jsstore.HistoryStream)
	if err != nil {
		return nil, errors.Wrap(err, "history stream")
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(jsstore.HistoryPrefix+">"))
	if err != nil {
		return nil, errors.Wrap(err, "list history subjects")
	}
	var out []string
	for subj := range info.State.Subjects {
		arn, err := jsstore.Untoken(strings.TrimPrefix(subj, jsstore.HistoryPrefix))
		if err != nil {
			continue
		}
		if smARN != "" && projections.StateMachineOf(arn) != smARN {
			continue
		}
		out = append(out, arn)
	}
	slices.Sort(out)
	return out, nil
}

// taskTokens reads the deployment's task-token signer (it never creates the key).
func (h *historyTool) taskTokens(ctx context.Context) *actors.TaskTokens {
	kv, err := h.store.JS.KeyValue(ctx, actors.KeyBucket)
	if err != nil {
		return nil
	}
	e, err := kv.Get(ctx, "task-token-hmac")
	if err != nil {
		return nil
	}
	return actors.NewTaskTokens(e.Value())
}

// progress reports a long run on stderr, at most once a second.
type progress struct {
	w     io.Writer
	total int
	start time.Time
	last  time.Time
	tty   bool
	shown bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, start: time.Now(), last: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(done, events, bad int) {
	if time.Since(p.last) < time.Second && done != p.total {
		return
	}
	if !p.shown && done == p.total {
		return // finished within a second: the summary says it all
	}
	p.last = time.Now()
	p.shown = true
	line := fmt.Sprintf("verified %d/%d executions, %d events, %d with faults (%s)", done, p.total, events, bad,
		time.Since(p.start).Round(time.Second))
	if p.tty {
		fmt.Fprintf(p.w, "\r%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	if p.tty && p.shown {
		fmt.Fprintln(p.w)
	}
}
