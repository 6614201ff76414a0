package conformance

import (
	"encoding/json"
	"strings"
)

// SelfCheckResult is the outcome of SelfCheck.
type SelfCheckResult struct {
	// Cases is the number of cases checked.
	Cases int
	// FixedPoints counts cases whose recorded snapshot normalises to itself.
	FixedPoints int
	// Explained counts differences that are not idempotent by construction, by reason.
	Explained map[string]int
	// Unexplained lists the cases with other differences (a normaliser bug).
	Unexplained []string
}

// SelfCheck applies the normaliser to each recorded snapshot, which must reproduce
// it up to the two steps that are not idempotent by construction (the Python
// harness's --self-check; no endpoint needed).
func SelfCheck(cases []Case) SelfCheckResult {
	res := SelfCheckResult{Cases: len(cases), Explained: map[string]int{}}
	for i := range cases {
		c := &cases[i]
		exp, got, err := selfNormalise(c, nil)
		if err != nil {
			res.Unexplained = append(res.Unexplained, c.ID+": "+err.Error())
			continue
		}
		_, diffs := compareSnapshots(exp, got, c.objField("expected").Keys(), 1000)
		unexplained := 0
		for _, d := range diffs {
			if d.Kind == "type" {
				if s, ok := d.exp.(string); ok {
					if p, err := parseJSONString(s); err == nil && pyEqual(p, d.act) {
						res.Explained["nested JSON string parsed again"]++
						continue
					}
				}
			}
			parts := strings.Split(d.Path, ".")
			if d.Kind == "value" && d.exp == "date" && d.act == "timestamp" &&
				strings.Contains(strings.ToLower(parts[len(parts)-1]), "timestamp") {
				res.Explained["'date' under a *timestamp* key"]++
				continue
			}
			unexplained++
		}
		if unexplained > 0 {
			b, _ := json.Marshal(diffs[0].Path)
			res.Unexplained = append(res.Unexplained, c.ID+" at "+string(b))
		}
		if len(diffs) == 0 {
			res.FixedPoints++
		}
	}
	return res
}

// selfNormalise normalises the case's recorded snapshot (or observed, when given)
// with the transformers that need no API results, as the self-check does, and
// returns (expected with skip paths removed, normalised).
func selfNormalise(c *Case, observed *pyObject) (*pyObject, *pyObject, error) {
	fn := c.ID
	if i := strings.LastIndex(fn, "::"); i >= 0 {
		fn = fn[i+2:]
	}
	fn = strings.SplitN(fn, "[", 2)[0]
	r := &caseRunner{c: c, account: "111111111111"}
	static := map[string]bool{"RegexTransformer": true, "JsonpathTransformer": true, "key_value": true,
		"resource_name": true, "GenericTransformer": true, "SfnNoneRecursiveParallelTransformer": true}
	ts := []transformer{removeKeyTransformer("x-localstack")}
	ts = append(ts, stepfunctionsAPITransformers()...)
	for _, tv := range c.listField("transformers") {
		t, ok := tv.(*pyObject)
		if !ok {
			continue
		}
		kind, _ := mustGet(t, "transformer").(string)
		if !t.Has("$opaque") && !static[kind] {
			continue
		}
		hasRef := false
		if al, ok := mustGet(t, "args").(*pyList); ok {
			for _, a := range al.Items {
				if strings.Contains(pyDumps(a, dumpStr), "$ref") {
					hasRef = true
				}
			}
		}
		if hasRef {
			continue
		}
		mt, err := r.makeTransformer(t, nil, fn)
		if err != nil {
			return nil, nil, err
		}
		ts = append(ts, mt...)
	}
	ts = append(ts,
		regexTransformer{regex: "111111111111", replacement: "111111111111"},
		regexTransformer{regex: Region, replacement: "<region>"},
		regexTransformer{regex: "arn:" + partition + ":", replacement: "arn:<partition>:"},
	)
	ts = append(ts, basicTransformers()...)
	skip := c.skipPaths()
	exp, err := normaliseExpected(c.recordedSnapshot(), skip)
	if err != nil {
		return nil, nil, err
	}
	if observed == nil {
		observed = newObject()
		e := c.recordedSnapshot()
		for _, k := range e.keys {
			observed.Set(k, orderDict(deepCopy(e.vals[k])))
		}
	}
	got, err := snapshotTransform(observed, ts, skip)
	if err != nil {
		return nil, nil, err
	}
	return exp, got, nil
}
