package asl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfnd/sfnd/events"
)

// corpusFloor is the number of execution cases of testdata/aws-recorded.jsonl
// the decider must pass; raise it as the decider improves.
const corpusFloor = 209

const (
	corpusRole    = "arn:aws:iam::111111111111:role/sfn-conformance-role"
	corpusAccount = "111111111111"
	corpusRegion  = "us-east-1"
)

type corpusCase struct {
	ID              string                     `json:"id"`
	Kind            string                     `json:"kind"`
	Features        []string                   `json:"features"`
	Definition      string                     `json:"definition"`
	Expected        map[string]json.RawMessage `json:"expected"`
	Runs            []corpusRun                `json:"runs"`
	Calls           []corpusCall               `json:"calls"`
	SnapshotMatches map[string]json.RawMessage `json:"snapshot_matches"`
	Transformers    []json.RawMessage          `json:"transformers"`
	Skip            []string                   `json:"skip_snapshot_verify"`
	Validated       string                     `json:"last_validated_date"`
}

type corpusRun struct {
	StartCall  int     `json:"start_call"`
	CreateCall int     `json:"create_call"`
	Op         string  `json:"op"`
	Definition string  `json:"definition"`
	Input      *string `json:"input"`
}

type corpusCall struct {
	Seq  int                        `json:"seq"`
	Op   string                     `json:"op"`
	Args map[string]json.RawMessage `json:"args"`
}

type ref struct {
	Ref  int      `json:"$ref"`
	Path []string `json:"path"`
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	f, err := os.Open("testdata/aws-recorded.jsonl")
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	defer f.Close()
	var out []corpusCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var c corpusCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("corpus line: %v", err)
		}
		if c.Kind == "execution" {
			out = append(out, c)
		}
	}
	return out
}

// runResult is the outcome of driving one execution through the decider.
type runResult struct {
	history []events.HistoryEvent
	exec    *Execution
	sm      *StateMachine
	smName  string
	exName  string
}

// driveExecution starts an execution and fires its timers at once until it ends.
func driveExecution(t *testing.T, def, input, smName, exName string, stop bool) (*runResult, error) {
	sm, err := Parse(def)
	if err != nil {
		return nil, err
	}
	x := NewExecution(sm)
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	info := &StartInfo{
		Input:            input,
		ExecutionArn:     "arn:aws:states:" + corpusRegion + ":" + corpusAccount + ":execution:" + smName + ":" + exName,
		Name:             exName,
		StateMachineArn:  "arn:aws:states:" + corpusRegion + ":" + corpusAccount + ":stateMachine:" + smName,
		StateMachineName: smName,
		RoleArn:          corpusRole,
		StartTime:        now,
	}
	var hist []events.HistoryEvent
	timers := map[string]time.Time{}
	var runs []StartMapRun
	apply := func(tr Trigger) error {
		evs, effs, err := Decide(sm, x, tr)
		if err != nil {
			return err
		}
		hist = append(hist, evs...)
		for _, e := range effs {
			switch e := e.(type) {
			case ScheduleTimer:
				timers[e.ID] = e.Due
			case StartMapRun:
				runs = append(runs, e)
			}
		}
		return nil
	}
	// runMapRuns does what the engine does for a Distributed Map: each input runs as a
	// child execution (here driven in memory), and the run's end is a task result.
	runMapRuns := func() error {
		for len(runs) > 0 && x.Status() == StatusRunning {
			r := runs[0]
			runs = runs[1:]
			results := make([]ChildResult, len(r.Run.Inputs))
			failed := 0
			for i, in := range r.Run.Inputs {
				child, err := driveExecution(t, r.Run.Definition, in, smName+"-child", fmt.Sprintf("%s-%d", exName, i), false)
				if err != nil {
					return err
				}
				cx := child.exec
				results[i] = ChildResult{Status: string(cx.Status()), Error: cx.Error, Cause: cx.Cause}
				if o := cx.Output(); o != nil {
					results[i].Output = *o
				}
				if cx.Status() != StatusSucceeded {
					failed++
				}
			}
			now = now.Add(time.Second)
			tr := Trigger{Kind: TriggerTaskSucceeded, Time: now, Seed: 44, ScheduledEventID: r.ScheduledEventID, Output: MapRunOutput(results)}
			if !Tolerated(failed, len(results), r.Run.ToleratedCount, r.Run.ToleratedPct) {
				tr = Trigger{Kind: TriggerTaskFailed, Time: now, Seed: 44, ScheduledEventID: r.ScheduledEventID,
					Error: ErrExceedToleratedFailureThreshold, Cause: CauseExceedToleratedFailureThreshold}
			}
			if err := apply(tr); err != nil {
				return err
			}
		}
		return nil
	}
	if err := apply(Trigger{Kind: TriggerStart, Time: now, Seed: 42, Start: info}); err != nil {
		return nil, err
	}
	if stop && x.Status() == StatusRunning {
		now = now.Add(time.Second)
		if err := apply(Trigger{Kind: TriggerStop, Time: now, Seed: 43}); err != nil {
			return nil, err
		}
	}
	if err := runMapRuns(); err != nil {
		return nil, err
	}
	for i := 0; x.Status() == StatusRunning && len(timers) > 0 && i < 10000; i++ {
		ids := make([]string, 0, len(timers))
		for id := range timers {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(a, b int) bool {
			if !timers[ids[a]].Equal(timers[ids[b]]) {
				return timers[ids[a]].Before(timers[ids[b]])
			}
			return ids[a] < ids[b]
		})
		id := ids[0]
		if timers[id].After(now) {
			now = timers[id]
		}
		delete(timers, id)
		if err := apply(Trigger{Kind: TriggerTimerFired, Time: now, TimerID: id, Seed: uint64(100 + i)}); err != nil {
			return nil, err
		}
		if err := runMapRuns(); err != nil {
			return nil, err
		}
	}
	// Rebuild property: folding the history gives the live state.
	if rb := Rebuild(sm, hist); !reflect.DeepEqual(rb, x) {
		t.Errorf("Rebuild differs from the live execution for %s", exName)
	}
	return &runResult{history: hist, exec: x, sm: sm, smName: smName, exName: exName}, nil
}

// historyJSON renders a history as GetExecutionHistory would (without sfnd's Ext).
func historyJSON(h []events.HistoryEvent) []any {
	out := make([]any, 0, len(h))
	for _, ev := range h {
		ev.Ext = nil
		b, _ := json.Marshal(ev)
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		_ = dec.Decode(&m)
		m["timestamp"] = "datetime-object" // boto3 returns a datetime, which the normaliser rewrites
		out = append(out, m)
	}
	return out
}

func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	type tally struct{ pass, fail, skip int }
	byFeature := map[string]*tally{}
	total := tally{}
	verbose := os.Getenv("ASL_CORPUS_VERBOSE") != ""
	filter := os.Getenv("ASL_CORPUS_FILTER")
	for _, c := range cases {
		if filter != "" && !strings.Contains(c.ID, filter) {
			continue
		}
		status, why := runCorpusCase(t, c)
		switch status {
		case "pass":
			total.pass++
		case "fail":
			total.fail++
			if verbose {
				t.Logf("FAIL %s\n    %s", c.ID, why)
			}
		default:
			total.skip++
			if verbose && os.Getenv("ASL_CORPUS_SKIPS") != "" {
				t.Logf("SKIP %s: %s", c.ID, why)
			}
		}
		for _, f := range c.Features {
			tl := byFeature[f]
			if tl == nil {
				tl = &tally{}
				byFeature[f] = tl
			}
			switch status {
			case "pass":
				tl.pass++
			case "fail":
				tl.fail++
			default:
				tl.skip++
			}
		}
	}
	names := make([]string, 0, len(byFeature))
	for n := range byFeature {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tl := byFeature[n]
		t.Logf("  %-16s %3d passed, %3d failed, %3d skipped", n, tl.pass, tl.fail, tl.skip)
	}
	t.Logf("decider corpus: %d passed, %d failed (%d skipped)", total.pass, total.fail, total.skip)
	if filter == "" && total.pass < corpusFloor {
		t.Errorf("decider corpus: %d passed, below the floor of %d", total.pass, corpusFloor)
	}
}

// runCorpusCase drives every run of a case and compares the snapshots it can rebuild.
func runCorpusCase(t *testing.T, c corpusCase) (status, why string) {
	for _, tr := range c.Transformers {
		s := string(tr)
		if strings.Contains(s, "$opaque") || strings.Contains(s, "GenericTransformer") {
			if !strings.Contains(c.ID, "::test_reference_in_map_state[") {
				return "skip", "opaque transformer"
			}
		}
		if strings.Contains(s, `"RegexTransformer"`) && strings.Contains(s, `"$ref"`) {
			return "skip", "reference transformer"
		}
	}
	calls := map[int]corpusCall{}
	for _, cl := range c.Calls {
		calls[cl.Seq] = cl
	}
	stops := map[int]bool{}
	for _, cl := range c.Calls {
		if cl.Op == "StopExecution" {
			var r ref
			if json.Unmarshal(cl.Args["executionArn"], &r) == nil {
				stops[r.Ref] = true
			}
		}
	}
	runs := map[int]*runResult{}
	for _, r := range c.Runs {
		if r.Op != "StartExecution" {
			return "skip", "op " + r.Op
		}
		input := "{}"
		if r.Input != nil {
			input = *r.Input
		}
		smName := fmt.Sprintf("SMx%dxq", r.CreateCall)
		exName := fmt.Sprintf("EXx%dxq", r.StartCall)
		res, err := driveExecution(t, r.Definition, input, smName, exName, stops[r.StartCall])
		if err != nil {
			return "fail", "decider error: " + err.Error()
		}
		runs[r.StartCall] = res
		if os.Getenv("ASL_CORPUS_DUMP") != "" {
			for _, ev := range res.history {
				ev.Timestamp = time.Time{}
				b, _ := json.Marshal(ev)
				t.Logf("%d %d %s %s", ev.ID, ev.PreviousEventID, ev.Type, b)
			}
		}
	}
	observed := map[string]any{}
	for key, m := range c.SnapshotMatches {
		v, err := resolveSnapshot(m, calls, runs)
		if err != nil {
			return "skip", err.Error()
		}
		observed[key] = v
	}
	repl := corpusReplacements(c, runs)
	for key, exp := range c.Expected {
		got, ok := observed[key]
		if !ok {
			return "skip", "snapshot " + key + " not rebuilt"
		}
		actual := normalise(got, repl, c)
		var want any
		dec := json.NewDecoder(bytes.NewReader(exp))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			return "fail", err.Error()
		}
		if at, err := time.Parse(time.RFC3339, c.Validated); err == nil && at.Before(mapRunExitChange) {
			translateMapRunExit(want)
		}
		for _, p := range c.Skip {
			removePath(want, p)
			removePath(actual, p)
		}
		if d := jsonDiff(want, actual, key); d != "" {
			return "fail", d
		}
	}
	return "pass", ""
}

// resolveSnapshot rebuilds the value a snapshot key was taken from.
func resolveSnapshot(raw json.RawMessage, calls map[int]corpusCall, runs map[int]*runResult) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch t := v.(type) {
		case map[string]any:
			if r, ok := t["$ref"]; ok && len(t) <= 2 {
				n, _ := strconv.Atoi(fmt.Sprint(r))
				var path []string
				if p, ok := t["path"].([]any); ok {
					for _, s := range p {
						path = append(path, fmt.Sprint(s))
					}
				}
				return resolveRef(n, path, calls, runs)
			}
			out := map[string]any{}
			for k, x := range t {
				r, err := walk(x)
				if err != nil {
					return nil, err
				}
				out[k] = r
			}
			return out, nil
		case []any:
			out := make([]any, len(t))
			for i, x := range t {
				r, err := walk(x)
				if err != nil {
					return nil, err
				}
				out[i] = r
			}
			return out, nil
		}
		return v, nil
	}
	return walk(v)
}

func resolveRef(n int, path []string, calls map[int]corpusCall, runs map[int]*runResult) (any, error) {
	cl, ok := calls[n]
	if !ok || cl.Op != "GetExecutionHistory" {
		return nil, fmt.Errorf("snapshot from %s", cl.Op)
	}
	var r ref
	if err := json.Unmarshal(cl.Args["executionArn"], &r); err != nil {
		return nil, fmt.Errorf("history of an unknown execution")
	}
	if len(cl.Args) != 1 {
		return nil, fmt.Errorf("GetExecutionHistory with options")
	}
	run := runs[r.Ref]
	if run == nil {
		return nil, fmt.Errorf("history of an execution not run")
	}
	evs := historyJSON(run.history)
	switch {
	case len(path) == 0:
		return map[string]any{"events": evs,
			"ResponseMetadata": map[string]any{"HTTPHeaders": map[string]any{}, "HTTPStatusCode": json.Number("200")}}, nil
	case len(path) == 1 && path[0] == "$jsonpath:$.events[*].executionSucceededEventDetails.output":
		var outs []any
		for _, e := range evs {
			if d, ok := e.(map[string]any)["executionSucceededEventDetails"].(map[string]any); ok {
				if o, ok := d["output"]; ok {
					outs = append(outs, o)
				}
			}
		}
		if len(outs) == 1 {
			return outs[0], nil
		}
		return outs, nil
	}
	return nil, fmt.Errorf("unsupported snapshot path %v", path)
}

type replacement struct {
	re   *regexp.Regexp
	old  string
	with string
}

var (
	isoRe  = regexp.MustCompile(`(?:[1-9]\d{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|(?:[1-9]\d(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)-02-29)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:Z|[+-][01]\d:?([0-5]\d)?)`)
	uuidRe = regexp.MustCompile(`^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}`)
)

// corpusReplacements are the text replacements of the case's transformers, in order.
func corpusReplacements(c corpusCase, runs map[int]*runResult) []replacement {
	var out []replacement
	starts := map[int]*runResult{}
	creates := map[int]*runResult{}
	for _, r := range c.Runs {
		starts[r.StartCall] = runs[r.StartCall]
		creates[r.CreateCall] = runs[r.StartCall]
	}
	var mapRuns []string
	for _, tr := range c.Transformers {
		var m struct {
			Transformer string            `json:"transformer"`
			Args        []json.RawMessage `json:"args"`
		}
		if json.Unmarshal(tr, &m) != nil {
			continue
		}
		switch {
		case m.Transformer == "RegexTransformer" && len(m.Args) == 2:
			var a, b string
			if json.Unmarshal(m.Args[0], &a) == nil && json.Unmarshal(m.Args[1], &b) == nil {
				out = append(out, replacement{re: regexp.MustCompile(a), with: b})
			}
		case m.Transformer == "sfn_sm_create_arn" && len(m.Args) == 2:
			var r ref
			var idx int
			_ = json.Unmarshal(m.Args[0], &r)
			_ = json.Unmarshal(m.Args[1], &idx)
			if run := creates[r.Ref]; run != nil {
				out = append(out, replacement{old: run.smName, with: fmt.Sprintf("<ArnPart_%didx>", idx)})
			}
		case m.Transformer == "sfn_sm_exec_arn" && len(m.Args) == 2:
			var r ref
			var idx int
			_ = json.Unmarshal(m.Args[0], &r)
			_ = json.Unmarshal(m.Args[1], &idx)
			if run := starts[r.Ref]; run != nil {
				out = append(out, replacement{old: run.exName, with: fmt.Sprintf("<ExecArnPart_%didx>", idx)})
			}
		case strings.HasPrefix(m.Transformer, "sfn_map_run_arn"):
			for _, run := range runs {
				for _, ev := range run.history {
					if d := ev.MapRunStartedEventDetails; d != nil {
						mapRuns = append(mapRuns, d.MapRunArn)
					}
				}
			}
			sort.Strings(mapRuns)
			for i, arn := range mapRuns {
				part := arn[strings.LastIndex(arn, "/")+1:]
				parts := strings.Split(part, ":")
				if len(parts) == 2 {
					out = append(out, replacement{old: parts[1], with: fmt.Sprintf("<MapRunArnPart1_%didx>", i)})
					if uuidRe.MatchString(parts[0]) {
						out = append(out, replacement{old: parts[0], with: fmt.Sprintf("<MapRunArnPart0_%didx>", i)})
					}
				}
			}
		}
	}
	out = append(out,
		replacement{old: corpusAccount, with: corpusAccount},
		replacement{old: corpusRegion, with: "<region>"},
		replacement{old: "arn:aws:", with: "arn:<partition>:"},
	)
	return out
}

// normalise applies the snapshot normalisation of the corpus README to a value.
func normalise(v any, repl []replacement, c corpusCase) any {
	v = parseJSONStrings(v)
	for _, tr := range c.Transformers {
		var m struct {
			Transformer string            `json:"transformer"`
			Args        []json.RawMessage `json:"args"`
			Kwargs      map[string]any    `json:"kwargs"`
		}
		if json.Unmarshal(tr, &m) != nil {
			continue
		}
		switch m.Transformer {
		case "JsonpathTransformer":
			path, _ := m.Kwargs["jsonpath"].(string)
			with, _ := m.Kwargs["replacement"].(string)
			if len(m.Args) == 2 {
				_ = json.Unmarshal(m.Args[0], &path)
				_ = json.Unmarshal(m.Args[1], &with)
			}
			setPath(v, path, with)
		case "SfnNoneRecursiveParallelTransformer":
			sortParallel(v)
		case "GenericTransformer":
			// test_reference_in_map_state: _convert_output_to_json parses output strings.
			for _, e := range historyEvents(v) {
				if m, ok := e.(map[string]any); ok {
					for _, x := range m {
						if det, ok := x.(map[string]any); ok {
							if o, ok := det["output"].(string); ok {
								var p any
								dec := json.NewDecoder(strings.NewReader(o))
								dec.UseNumber()
								if dec.Decode(&p) == nil {
									det["output"] = p
								}
							}
						}
					}
				}
			}
		}
	}
	// cause JSON inputs -> <json-input:N>; uuids under *id keys -> <uuid:N>.
	var refs, uuids []replacement
	seen := map[string]bool{}
	causeRe := regexp.MustCompile(`(?s).*'(\{.*\})'`)
	uuidN := 0
	var walk func(x any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if s, ok := t[k].(string); ok {
					if k == "cause" {
						if m := causeRe.FindStringSubmatch(s); m != nil && json.Valid([]byte(m[1])) {
							ref := strings.ReplaceAll(m[1], `"`, `\"`)
							if !seen[ref] {
								seen[ref] = true
								refs = append(refs, replacement{old: ref, with: fmt.Sprintf("<json-input:%d>", len(refs)+1)})
							}
						}
					}
					if strings.HasSuffix(strings.ToLower(k), "id") && uuidRe.MatchString(s) && !seen[s] {
						seen[s] = true
						uuidN++
						uuids = append(uuids, replacement{old: s, with: fmt.Sprintf("<uuid:%d>", uuidN)})
					}
				}
				walk(t[k])
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	timestampKeys(v)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	text := strings.TrimSpace(b.String())
	all := append(append(append([]replacement{}, refs...), repl...), uuids...)
	for _, r := range all {
		if r.re != nil {
			text = r.re.ReplaceAllLiteralString(text, r.with)
		} else if r.old != "" {
			text = strings.ReplaceAll(text, r.old, r.with)
		}
	}
	text = isoRe.ReplaceAllString(text, "date")
	var out any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}

// timestampKeys replaces values under keys containing "timestamp" that are not ISO-8601
// strings by "timestamp".
func timestampKeys(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if strings.Contains(strings.ToLower(k), "timestamp") {
				if s, ok := x.(string); !ok || !isoRe.MatchString(s) || isoRe.FindStringIndex(s)[0] != 0 {
					t[k] = "timestamp"
					continue
				}
			}
			timestampKeys(x)
		}
	case []any:
		for _, e := range t {
			if m, ok := e.(map[string]any); ok {
				timestampKeys(m)
			}
		}
	}
}

func historyEvents(v any) []any {
	if m, ok := v.(map[string]any); ok {
		if evs, ok := m["events"].([]any); ok {
			return evs
		}
	}
	return nil
}

// parseJSONStrings parses, one level deep, string values starting with "{" in objects.
func parseJSONStrings(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			switch y := x.(type) {
			case map[string]any:
				parseJSONStrings(y)
			case []any:
				for _, e := range y {
					if m, ok := e.(map[string]any); ok {
						parseJSONStrings(m)
					}
				}
			case string:
				if strings.HasPrefix(y, "{") {
					var p any
					dec := json.NewDecoder(strings.NewReader(y))
					dec.UseNumber()
					if dec.Decode(&p) == nil && !dec.More() {
						t[k] = p
					}
				}
			}
		}
	case []any:
		for _, e := range t {
			parseJSONStrings(e)
		}
	}
	return v
}

// sortParallel ports SfnNoneRecursiveParallelTransformer literally, including its
// in-place list surgery while iterating.
func sortParallel(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	evs, ok := m["events"].([]any)
	if !ok {
		return
	}
	start := 0
	var sub []any
	in := false
	for i := 0; i < len(evs); i++ {
		e, _ := evs[i].(map[string]any)
		typ, _ := e["type"].(string)
		switch {
		case typ == "":
			in = false
		case typ == "ParallelStateSucceeded" || typ == "ParallelStateAborted" || typ == "ParallelStateExited" || typ == "ParallelStateFailed":
			sorted := append([]any{}, sub...)
			sort.SliceStable(sorted, func(a, b int) bool { return pyDumps(sorted[a]) < pyDumps(sorted[b]) })
			rest := append([]any{}, evs[i:]...)
			evs = append(append(append([]any{}, evs[:start]...), sorted...), rest...)
			in = false
		case typ == "ParallelStateStarted":
			in, sub, start = true, nil, i+1
		case in:
			e["id"] = []any{json.Number("0")}
			e["previousEventId"] = json.Number("0")
			sub = append(sub, e)
		}
	}
	m["events"] = evs
}

// pyDumps approximates Python's json.dumps (sorted keys here, ", " and ": ").
func pyDumps(v any) string {
	var b strings.Builder
	var w func(v any)
	w = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					b.WriteString(", ")
				}
				kb, _ := json.Marshal(k)
				b.Write(kb)
				b.WriteString(": ")
				w(t[k])
			}
			b.WriteByte('}')
		case []any:
			b.WriteByte('[')
			for i, e := range t {
				if i > 0 {
					b.WriteString(", ")
				}
				w(e)
			}
			b.WriteByte(']')
		default:
			vb, _ := json.Marshal(t)
			b.Write(vb)
		}
	}
	w(v)
	return b.String()
}

// ---- small JSONPath for skip paths and JsonpathTransformer ----

type jpStep struct {
	desc bool
	name string
	idx  int
	kind byte // 'f' field, 'i' index, 'w' wildcard
}

var jpTok = regexp.MustCompile(`^(?:(\.\.)|(\.)|\[(-?\d+)\]|\[(\*)\]|\['([^']+)'\]|([A-Za-z0-9_@$\-]+|\*))`)

func jpParse(path string) []jpStep {
	if !strings.HasPrefix(path, "$") {
		return nil
	}
	var steps []jpStep
	p := path[1:]
	desc := false
	for p != "" {
		m := jpTok.FindStringSubmatch(p)
		if m == nil {
			return nil
		}
		p = p[len(m[0]):]
		switch {
		case m[1] != "":
			desc = true
		case m[2] != "":
		case m[3] != "":
			n, _ := strconv.Atoi(m[3])
			steps = append(steps, jpStep{desc: desc, idx: n, kind: 'i'})
			desc = false
		case m[4] != "":
			steps = append(steps, jpStep{desc: desc, kind: 'w'})
			desc = false
		default:
			name := m[5] + m[6]
			if name == "*" {
				steps = append(steps, jpStep{desc: desc, kind: 'w'})
			} else {
				steps = append(steps, jpStep{desc: desc, name: name, kind: 'f'})
			}
			desc = false
		}
	}
	return steps
}

type jpMatch struct {
	parent any
	key    string
	idx    int
}

func descendants(v any, out *[]any) {
	*out = append(*out, v)
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			descendants(t[k], out)
		}
	case []any:
		for _, e := range t {
			descendants(e, out)
		}
	}
}

func jpFind(v any, steps []jpStep) []jpMatch {
	cur := []any{v}
	var matches []jpMatch
	for i, s := range steps {
		var next []any
		matches = nil
		var nodes []any
		if s.desc {
			for _, c := range cur {
				descendants(c, &nodes)
			}
		} else {
			nodes = cur
		}
		for _, n := range nodes {
			switch s.kind {
			case 'f':
				if m, ok := n.(map[string]any); ok {
					if x, ok := m[s.name]; ok {
						next = append(next, x)
						matches = append(matches, jpMatch{parent: m, key: s.name})
					}
				}
			case 'i':
				if a, ok := n.([]any); ok && s.idx >= 0 && s.idx < len(a) {
					next = append(next, a[s.idx])
					matches = append(matches, jpMatch{parent: a, idx: s.idx})
				}
			case 'w':
				switch t := n.(type) {
				case map[string]any:
					for k, x := range t {
						next = append(next, x)
						matches = append(matches, jpMatch{parent: t, key: k})
					}
				case []any:
					for j, x := range t {
						next = append(next, x)
						matches = append(matches, jpMatch{parent: t, idx: j})
					}
				}
			}
		}
		cur = next
		_ = i
	}
	return matches
}

func removePath(v any, path string) {
	steps := jpParse(path)
	if steps == nil {
		return
	}
	for _, m := range jpFind(v, steps) {
		if p, ok := m.parent.(map[string]any); ok {
			delete(p, m.key)
		}
	}
}

func setPath(v any, path, with string) {
	steps := jpParse(path)
	if steps == nil {
		return
	}
	for _, m := range jpFind(v, steps) {
		switch p := m.parent.(type) {
		case map[string]any:
			p[m.key] = with
		case []any:
			p[m.idx] = with
		}
	}
}

// jsonDiff compares like the corpus script (type-strict; 1 != 1.0); "" when equal.
func jsonDiff(a, b any, path string) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: expected object %s, got %s", path, short(a), short(b))
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if _, ok := y[k]; !ok {
				return fmt.Sprintf("%s.%s: missing (expected %s)", path, k, short(x[k]))
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				return fmt.Sprintf("%s.%s: unexpected %s", path, k, short(y[k]))
			}
		}
		for _, k := range keys {
			if d := jsonDiff(x[k], y[k], path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok {
			return fmt.Sprintf("%s: expected array %s, got %s", path, short(a), short(b))
		}
		for i := 0; i < len(x) && i < len(y); i++ {
			if d := jsonDiff(x[i], y[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		if len(x) != len(y) {
			return fmt.Sprintf("%s: length %d, got %d (expected %s, got %s)", path, len(x), len(y), short(a), short(b))
		}
		return ""
	case json.Number:
		y, ok := b.(json.Number)
		if !ok || isFloat(x) != isFloat(y) {
			return fmt.Sprintf("%s: expected %s, got %s", path, short(a), short(b))
		}
		fx, _ := strconv.ParseFloat(string(x), 64)
		fy, _ := strconv.ParseFloat(string(y), 64)
		if fx != fy {
			return fmt.Sprintf("%s: expected %s, got %s", path, x, y)
		}
		return ""
	default:
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s: expected %s, got %s", path, short(a), short(b))
		}
		return ""
	}
}

func isFloat(n json.Number) bool { return strings.ContainsAny(string(n), ".eE") }

func short(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// mapRunExitChange is when AWS began to record a Distributed Map's MapStateExited
// with the previousEventId of MapRunStarted rather than MapRunSucceeded (the first
// corpus recording that shows it; test/conformance's historyChanges has the same rule).
var mapRunExitChange = time.Date(2024, 11, 15, 0, 0, 0, 0, time.UTC)

// translateMapRunExit rewrites the histories of a case recorded before
// mapRunExitChange as AWS records them now.
func translateMapRunExit(v any) {
	switch t := v.(type) {
	case map[string]any:
		if evs, ok := t["events"].([]any); ok {
			byID := map[string]map[string]any{}
			for _, e := range evs {
				if m, ok := e.(map[string]any); ok {
					byID[fmt.Sprint(m["id"])] = m
				}
			}
			for _, e := range evs {
				m, ok := e.(map[string]any)
				if !ok || m["type"] != "MapStateExited" {
					continue
				}
				if p := byID[fmt.Sprint(m["previousEventId"])]; p != nil && p["type"] == "MapRunSucceeded" {
					m["previousEventId"] = p["previousEventId"]
				}
			}
		}
		for _, x := range t {
			translateMapRunExit(x)
		}
	case []any:
		for _, x := range t {
			translateMapRunExit(x)
		}
	}
}
