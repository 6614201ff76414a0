package conformance

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/google/uuid"
)

// The case runner: a port of sfn_conformance.py's CaseRunner.

const (
	partition     = "aws"
	corpusRoleARN = "arn:aws:iam::111111111111:role/sfn-conformance-role"
)

var (
	corpusUIDRe = regexp.MustCompile(`5f0000[0-9a-f]{2}`)
	refStrRe    = regexp.MustCompile(`<<REF:(\d+)((?:\.[^>]*)?)>>`)
	errOccurred = regexp.MustCompile(`^An error occurred \(([^)]+)\)`)
)

// caseFailure ends a case early with a category and a detail (CaseFailure).
type caseFailure struct {
	category string
	detail   string
}

func (f *caseFailure) Error() string { return f.category + ": " + f.detail }

func fail(category, detail string) error { return &caseFailure{category: category, detail: detail} }

// unresolvable is raised when an argument refers to something that does not exist.
type unresolvable struct{ msg string }

func (u *unresolvable) Error() string { return u.msg }

func unres(format string, args ...any) error { return &unresolvable{msg: fmt.Sprintf(format, args...)} }

type callResult struct {
	op            string
	value         any
	err           *callError
	historyEvents any
}

type caseRunner struct {
	c            *Case
	client       *sfnClient
	account      string
	timeout      time.Duration
	poll         time.Duration
	caseTimeout  time.Duration
	caseDeadline time.Time
	ctx          context.Context

	results          []*callResult
	notes            []string
	clientSideErrors []string
	errorMismatches  [][3]string
	oddExecNames     []string

	calls            []*pyObject
	transformerDescs []*pyObject
	roleARNs         []string
}

func freshUID() string {
	for {
		u := strings.ReplaceAll(uuid.NewString(), "-", "")[:8]
		digits, alpha := true, true
		for _, r := range u {
			if r >= '0' && r <= '9' {
				alpha = false
			} else {
				digits = false
			}
		}
		if !digits && !alpha {
			return u
		}
	}
}

func mapStrings(v any, fn func(string) string) any {
	switch x := v.(type) {
	case string:
		return fn(x)
	case *pyList:
		out := &pyList{Items: make([]any, len(x.Items))}
		for i, e := range x.Items {
			out.Items[i] = mapStrings(e, fn)
		}
		return out
	case *pyObject:
		out := newObject()
		for _, k := range x.keys {
			out.Set(k, mapStrings(x.vals[k], fn))
		}
		return out
	}
	return v
}

func isRef(o *pyObject) bool {
	if !o.Has("$ref") {
		return false
	}
	for _, k := range o.keys {
		if k != "$ref" && k != "path" {
			return false
		}
	}
	return true
}

func refParts(o *pyObject) (int, []any) {
	r, _ := o.Get("$ref")
	n, _ := pyNumber(r)
	p, _ := o.Get("path")
	var path []any
	if l, ok := p.(*pyList); ok {
		path = l.Items
	}
	return int(n), path
}

type refPair struct {
	ref  int
	path []any
}

func collectRefs(v any, out *[]refPair) {
	switch x := v.(type) {
	case *pyObject:
		if isRef(x) {
			n, p := refParts(x)
			*out = append(*out, refPair{n, p})
			return
		}
		for _, k := range x.keys {
			collectRefs(x.vals[k], out)
		}
	case *pyList:
		for _, e := range x.Items {
			collectRefs(e, out)
		}
	}
}

func intOf(v any) int {
	n, _ := pyNumber(v)
	return int(n)
}

func newCaseRunner(ctx context.Context, c *Case, client *sfnClient, account string, o Options) (*caseRunner, error) {
	fx, err := loadFixups()
	if err != nil {
		return nil, err
	}
	r := &caseRunner{c: c, client: client, account: account, timeout: o.Timeout, poll: o.Poll,
		caseTimeout: o.CaseTimeout, caseDeadline: time.Now().Add(o.CaseTimeout), ctx: ctx}
	uids := map[string]string{}
	remap := func(s string) string {
		return corpusUIDRe.ReplaceAllStringFunc(s, func(m string) string {
			if u, ok := uids[m]; ok {
				return u
			}
			u := freshUID()
			uids[m] = u
			return u
		})
	}
	roleUID := freshUID()
	for k := 0; k < 4; k++ {
		r.roleARNs = append(r.roleARNs, fmt.Sprintf("arn:%s:iam::%s:role/sfn-conformance-role-%s-%d", partition, account, roleUID, k))
	}
	slots := fx.roleSlots[c.ID]
	patches := fx.argPatches[c.ID]
	for _, cv := range c.listField("calls") {
		call, ok := deepCopy(cv).(*pyObject)
		if !ok {
			return nil, errors.New("call is not an object")
		}
		av, _ := call.Get("args")
		args, _ := av.(*pyObject)
		if args == nil {
			args = newObject()
		}
		seq := intOf(mustGet(call, "seq"))
		if p, ok := patches[seq]; ok {
			for _, k := range p.keys {
				cur, _ := args.Get(k)
				if strings.Contains(pyDumps(cur, dumpStr), "$opaque") {
					args.Set(k, deepCopy(p.vals[k]))
				}
			}
		}
		args = mapStrings(args, remap).(*pyObject)
		slot := slots[seq]
		role := r.roleARNs[slot]
		args = mapStrings(args, func(s string) string { return strings.ReplaceAll(s, corpusRoleARN, role) }).(*pyObject)
		call.Set("args", args)
		r.calls = append(r.calls, call)
	}
	roleK := 0
	for _, tv := range c.listField("transformers") {
		t, ok := mapStrings(deepCopy(tv), remap).(*pyObject)
		if !ok {
			return nil, errors.New("transformer is not an object")
		}
		if name, _ := t.Get("transformer"); name == "RegexTransformer" {
			if al, ok := mustGet(t, "args").(*pyList); ok && len(al.Items) > 0 && al.Items[0] == corpusRoleARN {
				if len(slots) > 0 {
					al.Items[0] = r.roleARNs[min(roleK, len(r.roleARNs)-1)]
				} else {
					al.Items[0] = r.roleARNs[0]
				}
				roleK++
			}
		}
		r.transformerDescs = append(r.transformerDescs, t)
	}
	return r, nil
}

func mustGet(o *pyObject, k string) any {
	v, _ := o.Get(k)
	return v
}

// ---- argument resolution ------------------------------------------------------------

func (r *caseRunner) getPath(ref int, path []any) (any, error) {
	if ref < 0 || ref >= len(r.results) || r.results[ref] == nil {
		return nil, unres("call #%d has not been made", ref)
	}
	res := r.results[ref]
	var obj any
	var rest []any
	first := ""
	if len(path) > 0 {
		first, _ = path[0].(string)
	}
	switch {
	case first == "$error":
		if res.err == nil {
			return nil, unres("call #%d %s did not raise", ref, res.op)
		}
		rest = path[1:]
		sel := ""
		if len(rest) > 0 {
			sel, _ = rest[0].(string)
		}
		switch {
		case sel == "$str":
			obj, rest = res.err.str, rest[1:]
		case sel == "$typename":
			obj, rest = res.err.typeName, rest[1:]
		case strings.HasPrefix(sel, "$"):
			switch sel {
			case "$response":
				if !res.err.client {
					return nil, errors.Newf("'%s' object has no attribute 'response'", res.err.typeName)
				}
				obj = res.err.response
			default:
				return nil, errors.Newf("'%s' object has no attribute '%s'", res.err.typeName, sel[1:])
			}
			rest = rest[1:]
		default:
			if !res.err.client {
				return nil, unres("call #%d raised %s, which has no response", ref, res.err.typeName)
			}
			obj = res.err.response
		}
	case first == "$history_events":
		obj, rest = res.historyEvents, path[1:]
	default:
		if res.err != nil {
			return nil, unres("call #%d %s raised %s", ref, res.op, errorCode(res.err))
		}
		obj, rest = res.value, path
	}
	for _, pv := range rest {
		p, ok := pv.(string)
		if !ok {
			return nil, errors.Newf("path element %s is not a string", pyRepr(pv))
		}
		switch {
		case strings.HasPrefix(p, "$jsonpath:"):
			v, err := extractJSON(p[len("$jsonpath:"):], obj)
			if err != nil {
				if errors.Is(err, errNoSuchJSONPath) {
					return nil, unres("JSONPath %s not found in result of call #%d", p[10:], ref)
				}
				return nil, err
			}
			obj = v
		case p == "$json":
			s, ok := obj.(string)
			if !ok {
				return nil, errors.Newf("the JSON object must be str, not %s", pyTypeName(obj))
			}
			v, err := parseJSONString(s)
			if err != nil {
				return nil, errors.Wrap(err, "json.loads")
			}
			obj = v
		default:
			switch x := obj.(type) {
			case *pyList:
				idx := atoi(p)
				if idx < 0 {
					idx += len(x.Items)
				}
				if idx < 0 || idx >= len(x.Items) {
					return nil, errors.New("list index out of range")
				}
				obj = x.Items[idx]
			case *pyObject:
				v, ok := x.Get(p)
				if !ok {
					return nil, unres("result of call #%d %s has no field %s", ref, res.op, pyRepr(p))
				}
				obj = v
			default:
				return nil, unres("cannot index %s with %s", pyTypeName(obj), pyRepr(p))
			}
		}
	}
	return obj, nil
}

func (r *caseRunner) resolve(v any) (any, error) {
	switch x := v.(type) {
	case *pyObject:
		if isRef(x) {
			n, p := refParts(x)
			got, err := r.getPath(n, p)
			if err != nil {
				return nil, err
			}
			return deepCopy(got), nil
		}
		if op, ok := x.Get("$opaque"); ok && x.Len() == 1 {
			return nil, unres("corpus has an opaque value (%s)", pyStr(op))
		}
		out := newObject()
		for _, k := range x.keys {
			rv, err := r.resolve(x.vals[k])
			if err != nil {
				return nil, err
			}
			out.Set(k, rv)
		}
		return out, nil
	case *pyList:
		out := &pyList{Items: make([]any, len(x.Items))}
		for i, e := range x.Items {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			out.Items[i] = rv
		}
		return out, nil
	case string:
		if !strings.Contains(x, "<<REF:") {
			return x, nil
		}
		var ferr error
		out := refStrRe.ReplaceAllStringFunc(x, func(m string) string {
			sm := refStrRe.FindStringSubmatch(m)
			var path []any
			for _, p := range strings.Split(sm[2], ".") {
				if p != "" {
					path = append(path, p)
				}
			}
			got, err := r.getPath(atoi(sm[1]), path)
			if err != nil && ferr == nil {
				ferr = err
			}
			return pyStr(got)
		})
		if ferr != nil {
			return nil, ferr
		}
		return out, nil
	}
	return v, nil
}

func errorCode(e *callError) string {
	if e.client {
		ev, _ := e.response.Get("Error")
		if eo, ok := ev.(*pyObject); ok {
			if c, ok := eo.Get("Code"); ok && pyTruthy(c) {
				return pyStr(c)
			}
		}
		return "(no error code)"
	}
	return e.typeName
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// ---- running ---------------------------------------------------------------------------

func (r *caseRunner) apiCall(op string, args *pyObject) (any, *callError, error) {
	out, err := r.client.call(r.ctx, op, args)
	if err != nil {
		var ce *callError
		if errors.As(err, &ce) {
			return nil, ce, nil
		}
		return nil, nil, err
	}
	return out, nil, nil
}

func (r *caseRunner) runCalls() error {
	for _, c := range r.calls {
		op, _ := mustGet(c, "op").(string)
		seq := intOf(mustGet(c, "seq"))
		res := &callResult{op: op}
		r.results = append(r.results, res)
		if strings.HasPrefix(op, "_") {
			if err := r.pseudo(c, res); err != nil {
				return err
			}
			continue
		}
		argsIn, _ := mustGet(c, "args").(*pyObject)
		args := newObject()
		for _, k := range argsIn.keys {
			if k == "target_aws_client" {
				continue
			}
			v, err := r.resolve(argsIn.vals[k])
			if err != nil {
				var u *unresolvable
				if errors.As(err, &u) {
					return fail("unresolvable-argument", fmt.Sprintf("call #%d %s: %s", seq, op, u.msg))
				}
				return err
			}
			args.Set(k, v)
		}
		expectError := pyTruthy(mustGet(c, "expect_error"))
		value, cerr, err := r.apiCall(op, args)
		if err != nil {
			return err
		}
		if cerr != nil {
			res.err = cerr
			if !expectError {
				return fail(op+" raised "+errorCode(cerr),
					fmt.Sprintf("call #%d %s raised unexpectedly: %s", seq, op, truncate(cerr.str, 300)))
			}
			if !cerr.client {
				r.clientSideErrors = append(r.clientSideErrors, fmt.Sprintf("call #%d %s: %s", seq, op, cerr.typeName))
			} else {
				want := r.expectedError(seq)
				got := errorCode(cerr)
				if want != "an error" && want != got && !(want == "ClientError" && got != "") {
					r.errorMismatches = append(r.errorMismatches, [3]string{op, want, got})
				}
			}
			continue
		}
		res.value = value
		if expectError {
			return fail(op+" succeeded, AWS raised "+r.expectedError(seq),
				fmt.Sprintf("call #%d %s was expected to raise but succeeded", seq, op))
		}
		if op == "StartExecution" || op == "StartSyncExecution" {
			if nm, _ := args.Get("name"); !pyTruthy(nm) {
				if vo, ok := value.(*pyObject); ok {
					ea, _ := vo.Get("executionArn")
					s := pyStr(ea)
					if ea == nil {
						s = ""
					}
					name := s[strings.LastIndex(s, ":")+1:]
					if name != "" && !patternUUIDAll.MatchString(name) {
						r.oddExecNames = append(r.oddExecNames, name)
						r.notes = append(r.notes, fmt.Sprintf("unnamed execution got the name %s (AWS generates a UUID); "+
							"the execution-name transformer rewrites every %s in the output", pyRepr(name), pyRepr(name)))
					}
				}
			}
		}
	}
	return nil
}

// expectedError is the error code AWS returned for call seq, read from the
// expected snapshot.
func (r *caseRunner) expectedError(seq int) string {
	sm := r.c.objField("snapshot_matches")
	expected := r.c.objField("expected")
	needle := fmt.Sprintf(`"$ref": %d, "path": ["$error"`, seq)
	for _, key := range sm.keys {
		if !strings.Contains(pyDumps(sm.vals[key], dumpStr), needle) {
			continue
		}
		exp, _ := expected.Get(key)
		switch e := exp.(type) {
		case *pyObject:
			val, _ := e.Get("exception_value")
			if s, ok := val.(string); ok {
				if m := errOccurred.FindStringSubmatch(s); m != nil {
					return m[1]
				}
			}
			if tn, ok := e.Get("exception_typename"); ok {
				return pyStr(tn)
			}
			if eo, ok := mustGet(e, "Error").(*pyObject); ok {
				if c, ok := eo.Get("Code"); ok {
					return pyStr(c)
				}
				return "?"
			}
		case string:
			if m := errOccurred.FindStringSubmatch(e); m != nil {
				return m[1]
			}
			if strings.HasPrefix(e, "Parameter validation failed") {
				return "ParamValidationError"
			}
		}
	}
	return "an error"
}

// deadlinePoll calls check until it reports true or the wait (or the whole case)
// runs out of time.
func (r *caseRunner) deadlinePoll(check func() (bool, error), timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	if r.caseDeadline.Before(deadline) {
		deadline = r.caseDeadline
	}
	poll := min(r.poll, 10*time.Millisecond)
	for {
		ok, err := check()
		if err != nil || ok {
			return ok, err
		}
		if !time.Now().Before(deadline) {
			if !time.Now().Before(r.caseDeadline) {
				return false, fail("timeout: case took too long",
					fmt.Sprintf("case exceeded its overall limit of %.0fs", r.caseTimeout.Seconds()))
			}
			return false, nil
		}
		select {
		case <-r.ctx.Done():
			return false, fail("timeout: cancelled", r.ctx.Err().Error())
		case <-time.After(poll):
		}
		// back off gently towards the configured poll interval
		if poll < r.poll {
			poll = min(poll*2, r.poll)
		}
	}
}

func (r *caseRunner) awaitCall(op string, kv ...any) (*pyObject, error) {
	args := newObject()
	for i := 0; i+1 < len(kv); i += 2 {
		args.Set(kv[i].(string), kv[i+1])
	}
	v, cerr, err := r.apiCall(op, args)
	if err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, fail("await: "+op+" raised "+errorCode(cerr), op+" while waiting: "+truncate(cerr.str, 300))
	}
	o, _ := v.(*pyObject)
	return o, nil
}

func listOf(o *pyObject, k string) ([]any, error) {
	v, ok := o.Get(k)
	if !ok {
		return nil, nil
	}
	l, ok := v.(*pyList)
	if !ok {
		return nil, errors.Newf("%s is not a list", k)
	}
	return l.Items, nil
}

func keyOf(v any, k string) (any, error) {
	o, ok := v.(*pyObject)
	if !ok {
		return nil, errors.Newf("'%s' object is not subscriptable", pyTypeName(v))
	}
	x, ok := o.Get(k)
	if !ok {
		return nil, errors.Newf("KeyError: %s", pyRepr(k))
	}
	return x, nil
}

// byTimestamp sorts history events by their timestamp like the harness does
// (stable; unsorted when timestamps are not comparable).
func byTimestamp(events []any) []any {
	out := append([]any(nil), events...)
	if len(out) < 2 {
		return out
	}
	ts := make([]time.Time, len(out))
	for i, e := range out {
		o, ok := e.(*pyObject)
		if !ok {
			return out
		}
		t, ok := mustGet(o, "timestamp").(pyDatetime)
		if !ok {
			return out
		}
		ts[i] = t.T
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ts[idx[a]].Before(ts[idx[b]]) })
	sorted := make([]any, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted
}

var terminalEvents = map[string]bool{
	"ExecutionFailed": true, "ExecutionAborted": true, "ExecutionTimedOut": true, "ExecutionSucceeded": true,
}

func (r *caseRunner) pseudo(c *pyObject, res *callResult) error {
	op, _ := mustGet(c, "op").(string)
	seq := intOf(mustGet(c, "seq"))
	a, _ := mustGet(c, "args").(*pyObject)
	if a == nil {
		a = newObject()
	}
	kw := map[string]any{}
	resolveErr := func(err error) error {
		var u *unresolvable
		if errors.As(err, &u) {
			return fail("unresolvable-argument", fmt.Sprintf("call #%d %s: %s", seq, op, u.msg))
		}
		return err
	}
	if ea, ok := a.Get("executionArn"); ok {
		v, err := r.resolve(ea)
		if err != nil {
			return resolveErr(err)
		}
		kw["execution_arn"] = v
	} else {
		kwargs := newObject()
		if ko, ok := mustGet(a, "kwargs").(*pyObject); ok {
			for _, k := range ko.keys {
				kwargs.Set(k, ko.vals[k])
			}
		}
		var pos []any
		if pl, ok := mustGet(a, "args").(*pyList); ok {
			pos = pl.Items
		}
		names := []string{"stepfunctions_client", "state_machine_arn", "state_machine_version_arn"}
		if strings.Contains(op, "Alias") {
			names[2] = "state_machine_alias_arn"
		}
		if op == "_AwaitExecutionListsTerminated" || op == "_AwaitListExecutionStatus" {
			names[2] = "execution_arn"
		}
		for i, n := range names {
			if i < len(pos) && !kwargs.Has(n) {
				kwargs.Set(n, pos[i])
			}
		}
		for _, k := range kwargs.keys {
			if k == "stepfunctions_client" || k == "check_func" {
				continue
			}
			v, err := r.resolve(kwargs.vals[k])
			if err != nil {
				return resolveErr(err)
			}
			kw[k] = v
		}
	}
	need := func(k string) (any, error) {
		v, ok := kw[k]
		if !ok {
			return nil, errors.Newf("KeyError: %s", pyRepr(k))
		}
		return v, nil
	}
	T := r.timeout
	switch op {
	case "_AwaitExecutionTerminated":
		arn, err := need("execution_arn")
		if err != nil {
			return err
		}
		done := func() (bool, error) {
			d, err := r.awaitCall("DescribeExecution", "executionArn", arn)
			if err != nil {
				return false, err
			}
			st, err := keyOf(d, "status")
			if err != nil {
				return false, err
			}
			return st != "RUNNING" && st != "PENDING_REDRIVE", nil
		}
		ok, err := r.deadlinePoll(done, T)
		if err != nil {
			return err
		}
		if !ok {
			return fail("timeout: execution still RUNNING", fmt.Sprintf("execution did not terminate within %gs", T.Seconds()))
		}
		var box *pyList
		histDone := func() (bool, error) {
			h, err := r.awaitCall("GetExecutionHistory", "executionArn", arn)
			if err != nil {
				return false, err
			}
			evs, err := listOf(h, "events")
			if err != nil {
				return false, err
			}
			ev := byTimestamp(evs)
			box = &pyList{Items: ev}
			if len(ev) == 0 {
				return false, nil
			}
			last, ok := ev[len(ev)-1].(*pyObject)
			if !ok {
				return false, errors.New("event is not a dict")
			}
			t, _ := last.Get("type")
			ts, _ := t.(string)
			return t == nil || terminalEvents[ts], nil
		}
		ok, err = r.deadlinePoll(histDone, min(T, 5*time.Second))
		if err != nil {
			return err
		}
		if !ok {
			r.notes = append(r.notes, "history has no terminal event although DescribeExecution is terminal")
		}
		var boxed any
		if box != nil {
			boxed = box
		}
		if eo, ok := mustGet(a, "executionArn").(*pyObject); ok {
			if rv, ok := eo.Get("$ref"); ok {
				if ref := intOf(rv); ref >= 0 && ref < len(r.results) {
					r.results[ref].historyEvents = boxed
				}
			}
		}
		res.historyEvents = boxed
	case "_AwaitExecutionAborted":
		arn, err := need("execution_arn")
		if err != nil {
			return err
		}
		_, err = r.deadlinePoll(func() (bool, error) {
			d, err := r.awaitCall("DescribeExecution", "executionArn", arn)
			if err != nil {
				return false, err
			}
			st, err := keyOf(d, "status")
			return st == "ABORTED", err
		}, T)
		return err
	case "_AwaitOnExecutionEvents":
		arn, err := need("execution_arn")
		if err != nil {
			return err
		}
		ok, err := r.deadlinePoll(func() (bool, error) {
			h, err := r.awaitCall("GetExecutionHistory", "executionArn", arn)
			if err != nil {
				return false, err
			}
			evs, err := listOf(h, "events")
			if err != nil {
				return false, err
			}
			for _, e := range byTimestamp(evs) {
				if o, ok := e.(*pyObject); ok && pyTruthy(mustGet(o, "stateEnteredEventDetails")) {
					return true, nil
				}
			}
			return false, nil
		}, T)
		if err != nil {
			return err
		}
		if !ok {
			return fail("timeout: awaited history events never appeared", "no stateEntered event within the timeout")
		}
	case "_AwaitListExecutionStatus", "_AwaitExecutionListsTerminated":
		sm, err := need("state_machine_arn")
		if err != nil {
			return err
		}
		arn, err := need("execution_arn")
		if err != nil {
			return err
		}
		st := kw["status"]
		_, err = r.deadlinePoll(func() (bool, error) {
			var lr *pyObject
			var err error
			if op == "_AwaitListExecutionStatus" {
				lr, err = r.awaitCall("ListExecutions", "stateMachineArn", sm, "statusFilter", st)
			} else {
				lr, err = r.awaitCall("ListExecutions", "stateMachineArn", sm)
			}
			if err != nil {
				return false, err
			}
			evs, err := listOf(lr, "executions")
			if err != nil {
				return false, err
			}
			for _, e := range evs {
				ea, err := keyOf(e, "executionArn")
				if err != nil {
					return false, err
				}
				if !pyEqual(ea, arn) {
					continue
				}
				s, err := keyOf(e, "status")
				if err != nil {
					return false, err
				}
				if op == "_AwaitListExecutionStatus" && pyEqual(s, st) {
					return true, nil
				}
				if op == "_AwaitExecutionListsTerminated" && s != "RUNNING" {
					return true, nil
				}
			}
			return false, nil
		}, T)
		return err
	case "_AwaitStateMachineVersionListed", "_AwaitStateMachineVersionNotListed":
		return r.awaitListed(op == "_AwaitStateMachineVersionListed", kw, "ListStateMachineVersions",
			"stateMachineVersions", "stateMachineVersionArn", "state_machine_version_arn", true)
	case "_AwaitStateMachineAliasIsCreated", "_AwaitStateMachineAliasIsDeleted":
		return r.awaitListed(op == "_AwaitStateMachineAliasIsCreated", kw, "ListStateMachineAliases",
			"stateMachineAliases", "stateMachineAliasArn", "state_machine_alias_arn", true)
	case "_AwaitStateMachineListed", "_AwaitStateMachineNotListed":
		return r.awaitListed(op == "_AwaitStateMachineListed", kw, "ListStateMachines",
			"stateMachines", "stateMachineArn", "state_machine_arn", false)
	default:
		return fail("harness: unsupported pseudo call", op)
	}
	return nil
}

func (r *caseRunner) awaitListed(want bool, kw map[string]any, listOp, listKey, arnKey, kwKey string, bySM bool) error {
	target, ok := kw[kwKey]
	if !ok {
		return errors.Newf("KeyError: %s", pyRepr(kwKey))
	}
	var sm any
	if bySM {
		if sm, ok = kw["state_machine_arn"]; !ok {
			return errors.New("KeyError: 'state_machine_arn'")
		}
	}
	_, err := r.deadlinePoll(func() (bool, error) {
		var lr *pyObject
		var err error
		if bySM {
			lr, err = r.awaitCall(listOp, "stateMachineArn", sm)
		} else {
			lr, err = r.awaitCall(listOp)
		}
		if err != nil {
			return false, err
		}
		items, err := listOf(lr, listKey)
		if err != nil {
			return false, err
		}
		found := false
		for _, it := range items {
			v, err := keyOf(it, arnKey)
			if err != nil {
				return false, err
			}
			if pyEqual(v, target) {
				found = true
				break
			}
		}
		return found == want, nil
	}, min(r.timeout, 10*time.Second))
	return err
}

// ---- snapshot --------------------------------------------------------------------------

func (r *caseRunner) buildTransformers() ([]transformer, error) {
	fn := r.c.ID
	if i := strings.LastIndex(fn, "::"); i >= 0 {
		fn = fn[i+2:]
	}
	fn = strings.SplitN(fn, "[", 2)[0]
	out := []transformer{removeKeyTransformer("x-localstack")}
	out = append(out, stepfunctionsAPITransformers()...)
	for i, t := range r.transformerDescs {
		ts, err := r.makeTransformer(t, r.transformerDescs[:i], fn)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	// The account id, region and partition are regular expressions in the harness too.
	out = append(out,
		regexTransformer{regex: r.account, replacement: "111111111111"},
		regexTransformer{regex: Region, replacement: "<region>"},
		regexTransformer{regex: "arn:" + partition + ":", replacement: "arn:<partition>:"},
	)
	out = append(out, basicTransformers()...)
	return out, nil
}

func (r *caseRunner) makeTransformer(t *pyObject, previous []*pyObject, fn string) ([]transformer, error) {
	fx, err := loadFixups()
	if err != nil {
		return nil, err
	}
	if t.Has("$opaque") {
		if fx.opaque[fn] == "sort_variable_references" {
			return []transformer{sortVariableReferences{}}, nil
		}
		return nil, fail("harness: unknown opaque transformer", pyDumps(t, dumpStr))
	}
	kind, _ := mustGet(t, "transformer").(string)
	var args []any
	if l, ok := mustGet(t, "args").(*pyList); ok {
		args = l.Items
	}
	kwargs, _ := mustGet(t, "kwargs").(*pyObject)
	if kwargs == nil {
		kwargs = newObject()
	}
	var refs []refPair
	for _, a := range args {
		collectRefs(a, &refs)
	}
	collectRefs(kwargs, &refs)
	for _, rp := range refs {
		first := ""
		if len(rp.path) > 0 {
			first, _ = rp.path[0].(string)
		}
		if rp.ref < len(r.results) && r.results[rp.ref] != nil && r.results[rp.ref].err != nil && first != "$error" {
			return nil, nil
		}
	}
	wrap := func(err error) error {
		var u *unresolvable
		if errors.As(err, &u) {
			return fail("unresolvable-transformer", kind+": "+u.msg)
		}
		var cf *caseFailure
		if errors.As(err, &cf) {
			return err
		}
		return fail("transformer-input-error", kind+": "+err.Error())
	}
	named := func(names []string) *pyObject {
		p := newObject()
		for i, n := range names {
			if i < len(args) {
				p.Set(n, args[i])
			}
		}
		for _, k := range kwargs.keys {
			p.Set(k, kwargs.vals[k])
		}
		return p
	}
	switch kind {
	case "RegexTransformer":
		var regex, repl any
		if len(args) > 0 {
			v, err := r.resolve(args[0])
			if err != nil {
				return nil, wrap(err)
			}
			regex = v
		} else {
			rv, ok := kwargs.Get("regex")
			if !ok {
				return nil, wrap(errors.New("KeyError: 'regex'"))
			}
			v, err := r.resolve(rv)
			if err != nil {
				return nil, wrap(err)
			}
			regex = v
		}
		if len(args) > 1 {
			v, err := r.resolve(args[1])
			if err != nil {
				return nil, wrap(err)
			}
			repl = v
		} else {
			v, ok := kwargs.Get("replacement")
			if !ok {
				return nil, wrap(errors.New("KeyError: 'replacement'"))
			}
			repl = v
		}
		rt, err := newRegexTransformer(regex, repl)
		if err != nil {
			return nil, err
		}
		return []transformer{rt}, nil
	case "JsonpathTransformer":
		p := named([]string{"jsonpath", "replacement", "replace_reference"})
		jp, _ := mustGet(p, "jsonpath").(string)
		rp, _ := mustGet(p, "replacement").(string)
		rr := true
		if v, ok := p.Get("replace_reference"); ok {
			rr = pyTruthy(v)
		}
		return []transformer{jsonpathTransformer{path: jp, replacement: rp, replaceReference: rr}}, nil
	case "key_value":
		p := named([]string{"key", "value_replacement", "reference_replacement"})
		key, _ := mustGet(p, "key").(string)
		vr, _ := mustGet(p, "value_replacement").(string)
		rr := true
		if v, ok := p.Get("reference_replacement"); ok {
			rr = pyTruthy(v)
		}
		return []transformer{keyValueReplacement(key, vr, rr)}, nil
	case "resource_name":
		repl := "resource"
		if len(args) > 0 {
			repl = pyStr(args[0])
		} else if v, ok := kwargs.Get("replacement_name"); ok {
			repl = pyStr(v)
		}
		return []transformer{keyValueTransformer{match: resourceNameFn, replacement: repl, replaceReference: true}}, nil
	case "GenericTransformer":
		if fx.opaque[fn] == "convert_output_to_json" {
			return []transformer{genericTransformer{fn: func(data any, _ *transformContext) (any, error) {
				o, err := asObject(data)
				if err != nil {
					return nil, err
				}
				return convertOutputToJSON(o)
			}}}, nil
		}
		return nil, fail("harness: unknown GenericTransformer", pyDumps(t, dumpStr))
	case "SfnNoneRecursiveParallelTransformer":
		return []transformer{sfnNoneRecursiveParallelTransformer{}}, nil
	case "sfn_sm_create_arn", "sfn_sm_exec_arn", "sfn_sm_sync_exec_arn":
		if len(args) < 2 {
			return nil, wrap(errors.New("IndexError: list index out of range"))
		}
		res, err := r.resolve(args[0])
		if err != nil {
			return nil, wrap(err)
		}
		idx := pyStr(args[1])
		field := "executionArn"
		if kind == "sfn_sm_create_arn" {
			field = "stateMachineArn"
		}
		av, err := keyOf(res, field)
		if err != nil {
			return nil, wrap(err)
		}
		arn, ok := av.(string)
		if !ok {
			return nil, wrap(errors.Newf("'%s' object has no attribute 'rpartition'", pyTypeName(av)))
		}
		switch kind {
		case "sfn_sm_create_arn":
			return []transformer{regexTransformer{regex: arn[strings.LastIndex(arn, ":")+1:], replacement: "<ArnPart_" + idx + "idx>"}}, nil
		case "sfn_sm_exec_arn":
			return []transformer{regexTransformer{regex: arn[strings.LastIndex(arn, ":")+1:], replacement: "<ExecArnPart_" + idx + "idx>"}}, nil
		default:
			parts := strings.Split(arn, ":")
			if len(parts) < 2 {
				return nil, wrap(errors.New("IndexError: list index out of range"))
			}
			return []transformer{
				regexTransformer{regex: parts[len(parts)-2], replacement: "<SyncExecArn_Part1_" + idx + "idx>"},
				regexTransformer{regex: parts[len(parts)-1], replacement: "<SyncExecArn_Part2_" + idx + "idx>"},
			}, nil
		}
	}
	if strings.HasPrefix(kind, "sfn_map_run_arn") {
		return r.mapRunTransformers(previous)
	}
	return nil, fail("harness: unknown transformer", kind)
}

func (r *caseRunner) mapRunTransformers(previous []*pyObject) ([]transformer, error) {
	start := -1
	for i := len(previous) - 1; i >= 0; i-- {
		t := previous[i]
		if mustGet(t, "transformer") == "sfn_sm_exec_arn" {
			if al, ok := mustGet(t, "args").(*pyList); ok && len(al.Items) > 0 {
				if ao, ok := al.Items[0].(*pyObject); ok {
					if rv, ok := ao.Get("$ref"); ok {
						start = intOf(rv)
					}
				}
			}
			break
		}
	}
	hist := -1
	if start >= 0 {
		for _, c := range r.calls {
			if mustGet(c, "op") == "GetExecutionHistory" && intOf(mustGet(c, "seq")) > start {
				if ea, ok := mustGet(mustGet(c, "args").(*pyObject), "executionArn").(*pyObject); ok {
					if rv, ok := ea.Get("$ref"); ok && intOf(rv) == start {
						hist = intOf(mustGet(c, "seq"))
						break
					}
				}
			}
		}
	}
	if hist < 0 || hist >= len(r.results) || r.results[hist] == nil || r.results[hist].err != nil {
		return nil, nil
	}
	arnsV, err := extractJSON("$..mapRunArn", r.results[hist].value)
	if err != nil {
		if errors.Is(err, errNoSuchJSONPath) {
			return nil, nil
		}
		return nil, err
	}
	var arns []string
	switch x := arnsV.(type) {
	case string:
		arns = []string{x}
	case *pyList:
		for _, a := range x.Items {
			s, ok := a.(string)
			if !ok {
				return nil, fail("transformer-input-error", "mapRunArn is not a string")
			}
			arns = append(arns, s)
		}
	default:
		return nil, fail("transformer-input-error", "mapRunArn is not a string")
	}
	set := map[string]bool{}
	var uniq []string
	for _, a := range arns {
		if !set[a] {
			set[a] = true
			uniq = append(uniq, a)
		}
	}
	sort.Strings(uniq)
	var out []transformer
	for i, arn := range uniq {
		part := arn[strings.LastIndex(arn, "/")+1:]
		parts := strings.Split(part, ":")
		if len(parts) < 2 {
			return nil, fail("harness error: IndexError", "list index out of range")
		}
		out = append(out, regexTransformer{regex: parts[1], replacement: fmt.Sprintf("<MapRunArnPart1_%didx>", i)})
		if patternUUID.MatchString(parts[0]) {
			out = append(out, regexTransformer{regex: parts[0], replacement: fmt.Sprintf("<MapRunArnPart0_%didx>", i)})
		}
	}
	return out, nil
}

func (r *caseRunner) observedState() (*pyObject, error) {
	obs := newObject()
	sm := r.c.objField("snapshot_matches")
	for _, key := range sm.keys {
		v, err := r.resolve(sm.vals[key])
		if err != nil {
			var u *unresolvable
			if errors.As(err, &u) {
				return nil, fail("unresolvable-snapshot-value", key+": "+u.msg)
			}
			return nil, err
		}
		obs.Set(key, orderDict(v))
	}
	out := newObject()
	expected := r.c.objField("expected")
	for _, k := range expected.keys {
		if v, ok := obs.Get(k); ok {
			out.Set(k, v)
		}
	}
	for _, k := range obs.keys {
		if !out.Has(k) {
			out.Set(k, obs.vals[k])
		}
	}
	return out, nil
}
