package conformance

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Diff is one difference between an expected and an actual snapshot.
type Diff struct {
	// Kind is "type", "missing", "extra", "length" or "value".
	Kind string `json:"kind"`
	// Path locates the difference, e.g. "get_execution_history.events[3].type".
	Path string `json:"path"`
	// Expected and Actual are the values at Path (as plain JSON values).
	Expected any `json:"expected"`
	Actual   any `json:"actual"`

	exp, act any // model values
}

// diffValues is the harness's DeepDiff-like strict comparison; a is expected, b
// actual.
func diffValues(a, b any, path string, out *[]Diff, limit int) {
	if len(*out) >= limit {
		return
	}
	if pyTypeName(a) != pyTypeName(b) {
		*out = append(*out, Diff{Kind: "type", Path: path, exp: a, act: b})
		return
	}
	switch x := a.(type) {
	case *pyObject:
		y := b.(*pyObject)
		for _, k := range x.keys {
			if !y.Has(k) {
				*out = append(*out, Diff{Kind: "missing", Path: path + "." + k, exp: x.vals[k]})
			}
		}
		for _, k := range y.keys {
			if !x.Has(k) {
				*out = append(*out, Diff{Kind: "extra", Path: path + "." + k, act: y.vals[k]})
			}
		}
		for _, k := range x.keys {
			if yv, ok := y.Get(k); ok {
				diffValues(x.vals[k], yv, path+"."+k, out, limit)
			}
		}
	case *pyList:
		y := b.(*pyList)
		for i := 0; i < len(x.Items) && i < len(y.Items); i++ {
			diffValues(x.Items[i], y.Items[i], fmt.Sprintf("%s[%d]", path, i), out, limit)
		}
		if len(x.Items) != len(y.Items) {
			*out = append(*out, Diff{Kind: "length", Path: path, exp: pyInt(itoa(len(x.Items))), act: pyInt(itoa(len(y.Items)))})
		}
	default:
		if !pyEqual(a, b) {
			*out = append(*out, Diff{Kind: "value", Path: path, exp: a, act: b})
		}
	}
}

// compareSnapshots compares expected and actual per snapshot key (in keys order)
// and returns the per-key verdict and the differences.
func compareSnapshots(expected, actual *pyObject, keys []string, limit int) (map[string]string, []Diff) {
	perKey := map[string]string{}
	var diffs []Diff
	for _, key := range keys {
		var d []Diff
		ev, _ := expected.Get(key)
		if av, ok := actual.Get(key); !ok {
			d = append(d, Diff{Kind: "missing", Path: key, exp: ev})
		} else {
			diffValues(ev, av, key, &d, limit)
		}
		if len(d) == 0 {
			perKey[key] = "match"
		} else {
			perKey[key] = "mismatch"
		}
		diffs = append(diffs, d...)
	}
	for i := range diffs {
		diffs[i].Expected = toPlain(diffs[i].exp)
		diffs[i].Actual = toPlain(diffs[i].act)
	}
	return perKey, diffs
}

// toPlain converts a model value into encoding/json-friendly values.
func toPlain(v any) any {
	switch x := v.(type) {
	case pyInt:
		return json.Number(x)
	case pyDatetime:
		return x.str()
	case *pyList:
		out := make([]any, len(x.Items))
		for i, e := range x.Items {
			out[i] = toPlain(e)
		}
		return out
	case *pyObject:
		return orderedPlain{x}
	case float64:
		return x
	case skipMarker:
		return "$__to_be_skipped__$"
	}
	return v
}

// orderedPlain marshals an pyObject with its key order.
type orderedPlain struct{ o *pyObject }

func (p orderedPlain) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range p.o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(toPlain(p.o.vals[k]))
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

var genericIdx = regexp.MustCompile(`\[\d+\]`)

func genericPath(p string) string { return genericIdx.ReplaceAllString(p, "[]") }

func reasonFromDiff(d Diff) string {
	gp := genericPath(d.Path)
	switch d.Kind {
	case "length":
		return "list length differs at " + gp
	case "missing":
		return "missing " + gp
	case "extra":
		return "unexpected " + gp
	case "type":
		return "type differs at " + gp
	}
	return "value differs at " + gp
}

// historyReason names the first event where the type sequence diverges.
func historyReason(expected, actual *pyObject, first Diff) string {
	key := strings.SplitN(strings.SplitN(first.Path, ".", 2)[0], "[", 2)[0]
	ev, _ := expected.Get(key)
	av, _ := actual.Get(key)
	e, ok1 := ev.(*pyObject)
	a, ok2 := av.(*pyObject)
	if !ok1 || !ok2 {
		return ""
	}
	eev, _ := e.Get("events")
	aev, _ := a.Get("events")
	ee, ok1 := eev.(*pyList)
	ae, ok2 := aev.(*pyList)
	if !ok1 || !ok2 {
		return ""
	}
	types := func(l *pyList) []any {
		out := make([]any, len(l.Items))
		for i, x := range l.Items {
			if o, ok := x.(*pyObject); ok {
				out[i], _ = o.Get("type")
			}
		}
		return out
	}
	et, at := types(ee), types(ae)
	same := len(et) == len(at)
	for i := 0; same && i < len(et); i++ {
		same = pyEqual(et[i], at[i])
	}
	if same {
		return ""
	}
	n := min(len(et), len(at))
	i := n
	for k := 0; k < n; k++ {
		if !pyEqual(et[k], at[k]) {
			i = k
			break
		}
	}
	want, got := "(end of history)", "(end of history)"
	if i < len(et) {
		want = pyStr(et[i])
	}
	if i < len(at) {
		got = pyStr(at[i])
	}
	extra := ""
	var cands []any
	if i < len(ae.Items) {
		cands = append(cands, ae.Items[i])
	}
	if len(ae.Items) > 0 {
		cands = append(cands, ae.Items[len(ae.Items)-1])
	}
	for _, evt := range cands {
		o, ok := evt.(*pyObject)
		if extra != "" || !ok {
			continue
		}
		for _, k := range o.keys {
			if !strings.HasSuffix(k, "FailedEventDetails") {
				continue
			}
			if d, ok := o.vals[k].(*pyObject); ok {
				if errv, ok := d.Get("error"); ok && pyTruthy(errv) {
					extra = " [" + pyStr(errv) + "]"
					break
				}
			}
		}
	}
	return fmt.Sprintf("history diverges: expected %s, got %s%s", want, got, extra)
}

// short renders v for a one-line report.
func short(v any, n int) string {
	b, err := json.Marshal(toPlainAny(v))
	s := string(b)
	if err != nil {
		s = fmt.Sprint(v)
	}
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

func toPlainAny(v any) any {
	switch v.(type) {
	case pyInt, pyDatetime, *pyList, *pyObject, skipMarker:
		return toPlain(v)
	}
	return v
}
