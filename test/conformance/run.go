// Package conformance replays the AWS-recorded Step Functions conformance corpus
// (test/testdata/conformance/aws-recorded.jsonl) against an endpoint and scores it.
//
// It is a Go port of the shared Python harness sfn_conformance.py and gives the
// same verdict per case: every recorded API call is sent as the AWS SDK sends it
// (AWS JSON 1.0, SigV4-signed with dummy credentials), the answer is turned into
// what boto3 returns (botocore's service model decides which members survive and
// which become datetimes; errors become {Error: {Code, Message}, ResponseMetadata}
// plus the modeled fields), the snapshot values are normalised exactly like
// LocalStack's snapshot fixture does (placeholders for account, region, partition,
// resource names, <uuid:N>, timestamps) and compared, type-strictly, with what
// AWS returned.
//
//	cases, _ := conformance.LoadCorpus("test/testdata/conformance/aws-recorded.jsonl")
//	rep := conformance.Run(ctx, "http://127.0.0.1:8083", cases, conformance.Options{Jobs: 4})
//	rep.Print(os.Stdout)
package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
)

// Options tune a run.
type Options struct {
	// Filter keeps only cases whose id contains this substring.
	Filter string
	// Kind keeps only cases of these kinds (comma separated).
	Kind string
	// Jobs is the number of cases run in parallel (default 1).
	Jobs int
	// Verbose makes Print show every failure's first difference in full and
	// Progress lines carry the first difference.
	Verbose bool
	// Timeout bounds each wait for an execution or a listing (default 30s).
	Timeout time.Duration
	// CaseTimeout bounds one case (default 300s).
	CaseTimeout time.Duration
	// Poll is the longest interval between two polls of a wait (default 200ms;
	// polling starts at 10ms and backs off to it).
	Poll time.Duration
	// Account is the endpoint's account id; empty means probe it with CreateActivity.
	Account string
	// Progress, when set, receives one line per finished case.
	Progress io.Writer
	// HTTPClient overrides the HTTP client.
	HTTPClient *http.Client
}

func (o Options) withDefaults() Options {
	if o.Jobs < 1 {
		o.Jobs = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.CaseTimeout <= 0 {
		o.CaseTimeout = 300 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 200 * time.Millisecond
	}
	return o
}

// Select returns the cases that pass the Filter and Kind options.
func Select(cases []Case, o Options) []Case {
	var out []Case
	kinds := map[string]bool{}
	if o.Kind != "" {
		for _, k := range strings.Split(o.Kind, ",") {
			kinds[strings.TrimSpace(k)] = true
		}
	}
	for _, c := range cases {
		if len(kinds) > 0 && !kinds[c.Kind] {
			continue
		}
		if o.Filter != "" && !strings.Contains(c.ID, o.Filter) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Tally counts verdicts.
type Tally struct {
	Passed int `json:"passed"`
	Failed int `json:"failed"`
}

// CaseResult is the verdict on one case.
type CaseResult struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Features []string `json:"features"`
	// Status is "PASS" or "FAIL".
	Status string `json:"status"`
	// Category is the short failure reason (the harness's category).
	Category string `json:"category,omitempty"`
	// Reason is the failure detail.
	Reason string `json:"reason,omitempty"`
	// Keys maps each snapshot key to "match" or "mismatch".
	Keys  map[string]string `json:"keys,omitempty"`
	Diffs []Diff            `json:"diffs,omitempty"`
	// Observed is the normalised answer for each mismatching snapshot key.
	Observed         map[string]any `json:"observed,omitempty"`
	Notes            []string       `json:"notes,omitempty"`
	ClientSideErrors []string       `json:"client_side_errors,omitempty"`
	AWSValidated     bool           `json:"aws_validated"`
	DurationS        float64        `json:"duration_s"`
}

// Passed reports whether the case passed.
func (r CaseResult) Passed() bool { return r.Status == "PASS" }

// Report is the outcome of a run.
type Report struct {
	Endpoint  string            `json:"endpoint"`
	Account   string            `json:"account"`
	Started   time.Time         `json:"started"`
	RuntimeS  float64           `json:"runtime_s"`
	Totals    map[string]int    `json:"totals"`
	ByKind    map[string]*Tally `json:"by_kind"`
	ByFeature map[string]*Tally `json:"by_feature"`
	// TopFailureReasons lists [reason, count] pairs, most common first.
	TopFailureReasons [][2]any     `json:"top_failure_reasons"`
	Cases             []CaseResult `json:"cases"`
	// Error is set when the run could not start (e.g. the account probe failed).
	Error string `json:"error,omitempty"`
}

// Passed is the number of passing cases.
func (r Report) Passed() int { return r.Totals["passed"] }

// Failed is the number of failing cases.
func (r Report) Failed() int { return r.Totals["failed"] }

// Run replays cases against endpoint and returns the report. Cases run in
// opts.Jobs parallel workers against the one endpoint; names are unique per case.
func Run(ctx context.Context, endpoint string, cases []Case, opts Options) Report {
	opts = opts.withDefaults()
	start := time.Now()
	rep := Report{Endpoint: endpoint, Started: start.UTC()}
	results := make([]CaseResult, len(cases))
	client, err := newSFNClient(endpoint, opts.HTTPClient)
	account := opts.Account
	if err == nil && account == "" {
		account, err = probeAccount(ctx, client)
	}
	rep.Account = account
	if err != nil {
		rep.Error = err.Error()
		for i := range cases {
			results[i] = CaseResult{ID: cases[i].ID, Kind: cases[i].Kind, Features: cases[i].Features,
				Status: "FAIL", Category: "harness: run could not start", Reason: err.Error(), AWSValidated: cases[i].AWSValidated}
		}
	} else {
		work := make(chan int)
		var wg sync.WaitGroup
		var mu sync.Mutex
		done := 0
		for w := 0; w < opts.Jobs; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					res := runCase(ctx, &cases[i], client, account, opts)
					results[i] = res
					if opts.Progress != nil {
						mu.Lock()
						done++
						fmt.Fprintln(opts.Progress, progressLine(done, len(cases), res, opts.Verbose))
						mu.Unlock()
					}
				}
			}()
		}
		for i := range cases {
			work <- i
		}
		close(work)
		wg.Wait()
	}
	rep.Cases = results
	rep.RuntimeS = float64(time.Since(start).Milliseconds()) / 1000
	rep.tally()
	return rep
}

func progressLine(n, total int, r CaseResult, verbose bool) string {
	line := fmt.Sprintf("[%d/%d] %s %s (%.3fs)", n, total, r.Status, r.ID, r.DurationS)
	if !r.Passed() {
		line += "\n      -> " + r.Category
		if verbose {
			line += firstDifference(r, "\n         ")
		}
	}
	return line
}

func firstDifference(r CaseResult, indent string) string {
	if len(r.Diffs) > 0 {
		d := r.Diffs[0]
		return fmt.Sprintf("%sat %s:%sexpected %s%sactual   %s", indent, d.Path, indent, short(d.Expected, 160), indent, short(d.Actual, 160))
	}
	if r.Reason != "" && r.Reason != r.Category {
		return indent + truncate(r.Reason, 400)
	}
	return ""
}

func (r *Report) tally() {
	r.Totals = map[string]int{"passed": 0, "failed": 0, "cases": len(r.Cases)}
	r.ByKind = map[string]*Tally{}
	r.ByFeature = map[string]*Tally{}
	add := func(m map[string]*Tally, k string, pass bool) {
		t := m[k]
		if t == nil {
			t = &Tally{}
			m[k] = t
		}
		if pass {
			t.Passed++
		} else {
			t.Failed++
		}
	}
	for _, c := range r.Cases {
		pass := c.Passed()
		if pass {
			r.Totals["passed"]++
		} else {
			r.Totals["failed"]++
		}
		add(r.ByKind, c.Kind, pass)
		feats := c.Features
		if len(feats) == 0 {
			feats = []string{"(none)"}
		}
		for _, f := range feats {
			add(r.ByFeature, f, pass)
		}
	}
	reasons := map[string]int{}
	for _, c := range r.Cases {
		if !c.Passed() {
			reasons[c.Category]++
		}
	}
	rs := make([]string, 0, len(reasons))
	for k := range reasons {
		rs = append(rs, k)
	}
	sort.SliceStable(rs, func(i, j int) bool {
		if reasons[rs[i]] != reasons[rs[j]] {
			return reasons[rs[i]] > reasons[rs[j]]
		}
		return rs[i] < rs[j]
	})
	r.TopFailureReasons = [][2]any{}
	for _, k := range rs {
		r.TopFailureReasons = append(r.TopFailureReasons, [2]any{k, reasons[k]})
	}
}

// Summary is the last line: "conformance: N passed, M failed".
func (r Report) Summary() string {
	return fmt.Sprintf("conformance: %d passed, %d failed", r.Passed(), r.Failed())
}

// Print writes the per-kind and per-feature breakdown, the most common failure
// reasons, each failure with its first difference, and the summary line.
func (r Report) Print(w io.Writer) {
	if r.Error != "" {
		fmt.Fprintf(w, "error: %s\n", r.Error)
	}
	fmt.Fprintln(w, "per kind:")
	for _, k := range sortedKeys(r.ByKind, false) {
		t := r.ByKind[k]
		fmt.Fprintf(w, "  %-28s %4d/%-4d passed\n", k, t.Passed, t.Passed+t.Failed)
	}
	fmt.Fprintln(w, "per feature:")
	for _, k := range sortedKeys(r.ByFeature, true) {
		t := r.ByFeature[k]
		fmt.Fprintf(w, "  %-28s %4d/%-4d passed\n", k, t.Passed, t.Passed+t.Failed)
	}
	if len(r.TopFailureReasons) > 0 {
		fmt.Fprintln(w, "most common failure reasons:")
		for i, rc := range r.TopFailureReasons {
			if i == 10 {
				break
			}
			fmt.Fprintf(w, "  %4d  %s\n", rc[1], rc[0])
		}
		fmt.Fprintln(w, "failures:")
		for _, c := range r.Cases {
			if c.Passed() {
				continue
			}
			fmt.Fprintf(w, "  FAIL %s\n      -> %s", c.ID, c.Category)
			fmt.Fprintln(w, firstDifference(c, "\n         "))
		}
	}
	fmt.Fprintf(w, "runtime: %.1fs, account %s, endpoint %s\n", r.RuntimeS, r.Account, r.Endpoint)
	fmt.Fprintln(w, r.Summary())
}

// String is the printed report.
func (r Report) String() string {
	var b strings.Builder
	r.Print(&b)
	return b.String()
}

// WriteJSON writes the report as JSON (the Python harness's --report layout).
func (r Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return errors.Wrap(err, "encoding report")
	}
	return errors.Wrap(os.WriteFile(path, data, 0o644), "writing report")
}

func sortedKeys(m map[string]*Tally, bySize bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if bySize {
		sort.SliceStable(keys, func(i, j int) bool {
			a, b := m[keys[i]], m[keys[j]]
			return a.Passed+a.Failed > b.Passed+b.Failed
		})
	}
	return keys
}

func probeAccount(ctx context.Context, c *sfnClient) (string, error) {
	args := newObject()
	args.Set("name", "sfn-conformance-probe-"+freshUID())
	out, err := c.call(ctx, "CreateActivity", args)
	if err != nil {
		return "", errors.Wrap(err, "probing the account with CreateActivity")
	}
	arn, _ := out.Get("activityArn")
	s, _ := arn.(string)
	parts := strings.Split(s, ":")
	if len(parts) < 5 {
		return "", errors.Newf("probing the account: activityArn %q has no account", s)
	}
	del := newObject()
	del.Set("activityArn", s)
	_, _ = c.call(ctx, "DeleteActivity", del)
	return parts[4], nil
}

// runCase replays one case and judges it (the harness's run_case).
func runCase(ctx context.Context, c *Case, client *sfnClient, account string, opts Options) (out CaseResult) {
	t0 := time.Now()
	out = CaseResult{ID: c.ID, Kind: c.Kind, Features: c.Features, AWSValidated: c.AWSValidated}
	if out.Features == nil {
		out.Features = []string{}
	}
	var runner *caseRunner
	defer func() {
		if p := recover(); p != nil {
			out.Status = "FAIL"
			out.Category = "harness error: panic"
			out.Reason = fmt.Sprintf("%v\n%s", p, truncate(string(debug.Stack()), 2000))
		}
		if runner != nil {
			out.Notes = runner.notes
			out.ClientSideErrors = runner.clientSideErrors
		}
		out.DurationS = float64(time.Since(t0).Milliseconds()) / 1000
	}()
	err := func() error {
		var err error
		cctx, cancel := context.WithTimeout(ctx, opts.CaseTimeout+30*time.Second)
		defer cancel()
		runner, err = newCaseRunner(cctx, c, client, account, opts)
		if err != nil {
			return err
		}
		if err := runner.runCalls(); err != nil {
			return err
		}
		observed, err := runner.observedState()
		if err != nil {
			return err
		}
		transformers, err := runner.buildTransformers()
		if err != nil {
			return err
		}
		skip := c.skipPaths()
		actual, err := snapshotTransform(observed, transformers, skip)
		if err != nil {
			var cf *caseFailure
			if errors.As(err, &cf) {
				return err
			}
			return fail("normalisation raised", err.Error())
		}
		expected, err := normaliseExpected(c.recordedSnapshot(), skip)
		if err != nil {
			return err
		}
		keys := c.objField("snapshot_matches").Keys()
		perKey, diffs := compareSnapshots(expected, actual, keys, 20)
		out.Keys = perKey
		if len(diffs) > 0 {
			out.Status = "FAIL"
			cat := errorReason(runner)
			if cat == "" {
				cat = nameReason(runner, diffs)
			}
			if cat == "" {
				cat = historyReason(expected, actual, diffs[0])
			}
			if cat == "" {
				cat = reasonFromDiff(diffs[0])
			}
			out.Category, out.Reason = cat, cat
			if len(diffs) > 10 {
				diffs = diffs[:10]
			}
			out.Diffs = diffs
			out.Observed = map[string]any{}
			for k, v := range perKey {
				if v != "match" {
					av, _ := actual.Get(k)
					out.Observed[k] = toPlain(av)
				}
			}
		} else {
			out.Status = "PASS"
		}
		return nil
	}()
	if err != nil {
		out.Status = "FAIL"
		var cf *caseFailure
		if errors.As(err, &cf) {
			out.Category, out.Reason = cf.category, cf.detail
		} else {
			out.Category = "harness error"
			out.Reason = truncate(err.Error(), 500)
		}
	}
	return out
}

// normaliseExpected is the recorded snapshot with the skip paths removed.
func normaliseExpected(expected *pyObject, skip []string) (*pyObject, error) {
	a := deepCopy(expected).(*pyObject)
	if err := removeSkipPaths(a, skip); err != nil {
		return nil, err
	}
	return a, nil
}

func errorReason(r *caseRunner) string {
	if len(r.errorMismatches) == 0 {
		return ""
	}
	m := r.errorMismatches[0]
	got := m[2]
	if got == "" {
		got = "(empty error code)"
	}
	return fmt.Sprintf("%s raised %s, AWS raised %s", m[0], got, m[1])
}

func nameReason(r *caseRunner, diffs []Diff) string {
	if len(r.oddExecNames) == 0 {
		return ""
	}
	for _, d := range diffs {
		if !strings.Contains(pyDumps(d.act, dumpStr), "<ExecArnPart_") || strings.Contains(pyDumps(d.exp, dumpStr), "<ExecArnPart_") {
			return ""
		}
	}
	return fmt.Sprintf("unnamed execution named %s, not a UUID (its transformer rewrites output)", pyRepr(r.oddExecNames[0]))
}
