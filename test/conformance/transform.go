package conformance

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/cockroachdb/errors"
)

// Snapshot normalisation: a port of localstack-snapshot's SnapshotSession._transform
// and the transformers the harness registers (see sfn_conformance.py).

var (
	patternUUID    = regexp.MustCompile(`^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}`)
	patternUUIDAll = regexp.MustCompile(`^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$`)
	isoBody        = `(?:[1-9]\d{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|(?:[1-9]\d(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)-02-29)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:Z|[+-][01]\d:?([0-5]\d)?)`
	patternISO8601 = regexp.MustCompile(isoBody)
	isoPrefix      = regexp.MustCompile(`^` + isoBody)
	timestampKey   = regexp.MustCompile(`(?i)^.*timestamp.*$`)
	causeJSONRe    = regexp.MustCompile(`^.*'(\{.*\})'`)
	patternARN     = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:([a-zA-Z0-9-_.]+)?:([^:]+)?:(\d{12})?:(.*)`)
)

// errTransform marks errors raised while normalising (the harness's
// "normalisation raised" category).
var errTransform = errors.New("normalisation raised")

type transformContext struct {
	replacements []func(string) (string, error)
	scoped       map[string]int
	cache        map[string]bool
}

func newTransformContext() *transformContext {
	return &transformContext{scoped: map[string]int{}, cache: map[string]bool{}}
}

func (c *transformContext) newScope(scope string) int {
	cur, ok := c.scoped[scope]
	if !ok {
		cur = 1
	}
	c.scoped[scope] = cur + 1
	return cur
}

func (c *transformContext) registerReference(ref any, replacement string) error {
	s, ok := ref.(string)
	if !ok {
		return errors.Mark(errors.Newf("reference value %s for %s is not a string", pyRepr(ref), replacement), errTransform)
	}
	if strings.Contains(s, `"`) {
		s = strings.ReplaceAll(s, `"`, `\"`)
	}
	if !c.cache[s] {
		actual := "<" + replacement + ":" + itoa(c.newScope(replacement)) + ">"
		c.cache[s] = true
		c.replacements = append(c.replacements, func(text string) (string, error) {
			return strings.ReplaceAll(text, s, actual), nil
		})
	}
	return nil
}

// transformer is one localstack snapshot transformer. transform may replace the
// whole snapshot dict (GenericTransformer returns a new one).
type transformer interface {
	transform(data any, ctx *transformContext) (any, error)
}

func asObject(data any) (*pyObject, error) {
	o, ok := data.(*pyObject)
	if !ok {
		return nil, errors.Newf("'%s' object has no attribute 'items'", pyTypeName(data))
	}
	return o, nil
}

// responseMetadataTransformer simplifies ResponseMetadata to HTTPHeaders/HTTPStatusCode.
type responseMetadataTransformer struct{}

func (t responseMetadataTransformer) transform(data any, ctx *transformContext) (any, error) {
	o, err := asObject(data)
	if err != nil {
		return nil, err
	}
	for _, k := range o.Keys() {
		v := o.vals[k]
		if k == "ResponseMetadata" {
			vo, ok := v.(*pyObject)
			if !ok {
				continue
			}
			h, _ := vo.Get("HTTPHeaders")
			headers, ok := h.(*pyObject)
			if !ok {
				continue
			}
			simplified := newObject()
			hh := newObject()
			if ct, ok := headers.Get("content_type"); ok && pyTruthy(ct) {
				hh.Set("content_type", ct)
			}
			simplified.Set("HTTPHeaders", hh)
			if sc, ok := vo.Get("HTTPStatusCode"); ok && pyTruthy(sc) {
				simplified.Set("HTTPStatusCode", sc)
			}
			o.Set(k, simplified)
		} else if vo, ok := v.(*pyObject); ok {
			r, err := t.transform(vo, ctx)
			if err != nil {
				return nil, err
			}
			o.Set(k, r)
		}
	}
	return o, nil
}

func pyTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case pyInt:
		return x != "0"
	case float64:
		return x != 0
	case string:
		return x != ""
	case *pyList:
		return len(x.Items) > 0
	case *pyObject:
		return x.Len() > 0
	}
	return true
}

// jsonpathTransformer registers the values at a JSONPath as references, or
// overwrites them.
type jsonpathTransformer struct {
	path             string
	replacement      string
	replaceReference bool
}

func (t jsonpathTransformer) transform(data any, ctx *transformContext) (any, error) {
	if t.replaceReference {
		ms, err := jpFind(t.path, data)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if err := ctx.registerReference(m.val, t.replacement); err != nil {
				return nil, err
			}
		}
		return data, nil
	}
	return data, jpUpdate(t.path, data, t.replacement)
}

// regexTransformer queues a regular-expression replacement on the JSON text.
type regexTransformer struct {
	regex       string
	re          *regexp.Regexp
	replacement string
}

func newRegexTransformer(regex any, replacement any) (regexTransformer, error) {
	rs, ok := regex.(string)
	if !ok {
		return regexTransformer{}, errors.Mark(errors.Newf("first argument must be string or compiled pattern, not %s", pyTypeName(regex)), errTransform)
	}
	rp, ok := replacement.(string)
	if !ok {
		return regexTransformer{}, errors.Mark(errors.Newf("replacement must be a string, not %s", pyTypeName(replacement)), errTransform)
	}
	return regexTransformer{regex: rs, replacement: rp}, nil
}

func (t regexTransformer) transform(data any, ctx *transformContext) (any, error) {
	re := t.re
	if re == nil {
		var err error
		re, err = regexp.Compile(t.regex)
		if err != nil {
			return nil, errors.Wrapf(err, "regex %q", t.regex)
		}
	}
	repl := goReplacement(t.replacement)
	ctx.replacements = append(ctx.replacements, func(s string) (string, error) {
		return re.ReplaceAllString(s, repl), nil
	})
	return data, nil
}

// goReplacement turns a Python re.sub template into a Go Expand template.
func goReplacement(py string) string {
	var b strings.Builder
	for i := 0; i < len(py); i++ {
		c := py[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(py):
			n := py[i+1]
			switch {
			case n >= '0' && n <= '9':
				j := i + 1
				for j < len(py) && j < i+3 && py[j] >= '0' && py[j] <= '9' {
					j++
				}
				b.WriteString("${" + py[i+1:j] + "}")
				i = j - 1
			case n == 'g' && i+2 < len(py) && py[i+2] == '<':
				end := strings.IndexByte(py[i+3:], '>')
				if end < 0 {
					b.WriteByte(c)
					continue
				}
				b.WriteString("${" + py[i+3:i+3+end] + "}")
				i = i + 3 + end
			case n == 'n':
				b.WriteByte('\n')
				i++
			case n == 't':
				b.WriteByte('\t')
				i++
			case n == '\\':
				b.WriteByte('\\')
				i++
			default:
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// keyValueTransformer is localstack's KeyValueBasedTransformer.
type keyValueTransformer struct {
	match            func(k string, v any) (any, bool)
	replacement      string
	replaceReference bool
}

func (t keyValueTransformer) transform(data any, ctx *transformContext) (any, error) {
	o, err := asObject(data)
	if err != nil {
		return nil, err
	}
	for _, k := range o.Keys() {
		v := o.vals[k]
		if mr, ok := t.match(k, v); ok {
			if t.replaceReference {
				if err := ctx.registerReference(mr, t.replacement); err != nil {
					return nil, err
				}
			} else if s, isStr := v.(string); isStr {
				ms, ok := mr.(string)
				if !ok {
					return nil, errors.Mark(errors.New("replace() argument 1 must be str"), errTransform)
				}
				o.Set(k, strings.ReplaceAll(s, ms, t.replacement))
			} else {
				o.Set(k, t.replacement)
			}
			continue
		}
		switch x := v.(type) {
		case *pyList:
			for i := range x.Items {
				if d, ok := x.Items[i].(*pyObject); ok {
					r, err := t.transform(d, ctx)
					if err != nil {
						return nil, err
					}
					x.Items[i] = r
				}
			}
		case *pyObject:
			r, err := t.transform(x, ctx)
			if err != nil {
				return nil, err
			}
			o.Set(k, r)
		}
	}
	return o, nil
}

// genericTransformer wraps a function over the whole snapshot dict.
type genericTransformer struct {
	fn func(data any, ctx *transformContext) (any, error)
}

func (t genericTransformer) transform(data any, ctx *transformContext) (any, error) {
	return t.fn(data, ctx)
}

func removeKeyTransformer(key string) transformer {
	var rm func(v any) any
	rm = func(v any) any {
		switch x := v.(type) {
		case *pyObject:
			o := newObject()
			for _, k := range x.keys {
				if k != key {
					o.Set(k, rm(x.vals[k]))
				}
			}
			return o
		case *pyList:
			l := &pyList{Items: make([]any, len(x.Items))}
			for i, e := range x.Items {
				l.Items[i] = rm(e)
			}
			return l
		}
		return v
	}
	return genericTransformer{fn: func(data any, _ *transformContext) (any, error) {
		o, err := asObject(data)
		if err != nil {
			return nil, err
		}
		out := newObject()
		for _, k := range o.keys {
			out.Set(k, rm(o.vals[k]))
		}
		return out, nil
	}}
}

func camelToHyphen(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('-')
			b.WriteRune(r + ('a' - 'A'))
		} else {
			b.WriteRune(r)
		}
	}
	return strings.Trim(b.String(), "-")
}

func keyValueReplacement(key string, valueReplacement string, referenceReplacement bool) transformer {
	if valueReplacement == "" {
		valueReplacement = camelToHyphen(key)
	}
	return keyValueTransformer{
		match: func(k string, v any) (any, bool) {
			if k == key && v != nil && v != "" {
				return v, true
			}
			return nil, false
		},
		replacement:      valueReplacement,
		replaceReference: referenceReplacement,
	}
}

func resourceNameFn(_ string, v any) (any, bool) {
	s, ok := v.(string)
	if !ok {
		return nil, false
	}
	m := patternARN.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	res := m[len(m)-1]
	if strings.HasPrefix(res, "<") && strings.HasSuffix(res, ">") {
		return nil, false
	}
	if strings.Contains(s, ":changeSet/") {
		parts := strings.Split(s, ":changeSet/")
		return parts[len(parts)-1], true
	}
	if strings.Contains(res, "/") {
		parts := strings.Split(res, "/")
		return parts[len(parts)-1], true
	}
	if strings.HasPrefix(res, "function:") {
		res = strings.ReplaceAll(res, "function:", "")
		if strings.Contains(res, "$") {
			res = strings.TrimRight(strings.Split(res, "$")[0], ":")
		}
		return res, true
	}
	if strings.HasPrefix(res, "layer:") {
		parts := strings.Split(res, ":")
		if len(parts) == 2 || len(parts) == 3 {
			return parts[1], true
		}
	}
	if strings.Contains(res, ":") {
		parts := strings.Split(res, ":")
		return parts[len(parts)-1], true
	}
	return res, true
}

func causeJSONFn(k string, v any) (any, bool) {
	s, ok := v.(string)
	if k != "cause" || !ok {
		return nil, false
	}
	// Python's `.*` does not cross newlines and re.match anchors at the start.
	m := causeJSONRe.FindStringSubmatch(firstLineGreedy(s))
	if m == nil {
		return nil, false
	}
	if _, err := parseJSONString(m[1]); err != nil {
		return nil, false
	}
	return m[1], true
}

// firstLineGreedy returns s unchanged when it has no newline; Python's
// r".*'({.*})'" with re.match cannot match across a newline, so only the first
// line can take part in the match.
func firstLineGreedy(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func stepfunctionsAPITransformers() []transformer {
	return []transformer{
		jsonpathTransformer{"$..SdkHttpMetadata..Date", "date", false},
		jsonpathTransformer{"$..SdkResponseMetadata..RequestId", "RequestId", false},
		jsonpathTransformer{"$..X-Amzn-Trace-Id", "X-Amzn-Trace-Id", false},
		jsonpathTransformer{"$..X-Amzn-Trace-Id", "X-Amzn-Trace-Id", false},
		jsonpathTransformer{"$..x-amz-crc32", "x-amz-crc32", false},
		jsonpathTransformer{"$..x-amzn-RequestId", "x-amzn-RequestId", false},
		jsonpathTransformer{"$..x-amzn-requestid", "x-amzn-requestid", false},
		keyValueTransformer{match: causeJSONFn, replacement: "json-input", replaceReference: true},
	}
}

func basicTransformers() []transformer {
	return []transformer{
		responseMetadataTransformer{},
		keyValueTransformer{
			match: func(k string, v any) (any, bool) {
				s, ok := v.(string)
				if ok && strings.HasSuffix(strings.ToLower(k), "id") && patternUUID.MatchString(s) {
					return s, true
				}
				return nil, false
			},
			replacement: "uuid", replaceReference: true,
		},
		regexTransformer{regex: isoBody, re: patternISO8601, replacement: "date"},
		keyValueTransformer{
			match: func(_ string, v any) (any, bool) {
				if _, ok := v.(pyDatetime); ok {
					return v, true
				}
				return nil, false
			},
			replacement: "datetime", replaceReference: false,
		},
		keyValueTransformer{
			match: func(k string, v any) (any, bool) {
				if timestampKey.MatchString(k) || k == "creationTime" || k == "ingestionTime" {
					s := pyStr(v)
					if !isoPrefix.MatchString(s) {
						return s, true
					}
				}
				return nil, false
			},
			replacement: "timestamp", replaceReference: false,
		},
	}
}

// ---- stepfunctions-specific transformers ------------------------------------------

var parallelEnd = map[string]bool{
	"ParallelStateSucceeded": true, "ParallelStateAborted": true,
	"ParallelStateExited": true, "ParallelStateFailed": true,
}

// sfnNoneRecursiveParallelTransformer is localstack's
// SfnNoneRecursiveParallelTransformer, ported literally (including its in-place
// list surgery while iterating).
type sfnNoneRecursiveParallelTransformer struct{}

func normaliseParallelEvents(events *pyList) error {
	startIdx := -1
	var sublist []any
	inSublist := false
	for i := 0; i < len(events.Items); i++ {
		event, ok := events.Items[i].(*pyObject)
		if !ok {
			return errors.Mark(errors.Newf("'%s' object has no attribute 'get'", pyTypeName(events.Items[i])), errTransform)
		}
		et, _ := event.Get("type")
		ets, _ := et.(string)
		switch {
		case et == nil:
			inSublist = false
		case parallelEnd[ets]:
			sorted := append([]any(nil), sublist...)
			keys := make([]string, len(sorted))
			for k, e := range sorted {
				keys[k] = pyDumps(e, dumpISO)
			}
			idx := make([]int, len(sorted))
			for k := range idx {
				idx[k] = k
			}
			sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
			repl := make([]any, len(sorted))
			for k, j := range idx {
				repl[k] = sorted[j]
			}
			from := startIdx
			if from < 0 {
				from = 0
			}
			to := i
			if from > len(events.Items) {
				from = len(events.Items)
			}
			if to < from {
				to = from
			}
			items := append([]any(nil), events.Items[:from]...)
			items = append(items, repl...)
			items = append(items, events.Items[to:]...)
			events.Items = items
			inSublist = false
		case ets == "ParallelStateStarted":
			inSublist = true
			sublist = nil
			startIdx = i + 1
		case inSublist:
			event.Set("id", &pyList{Items: []any{pyInt("0")}})
			event.Set("previousEventId", pyInt("0"))
			sublist = append(sublist, event)
		}
	}
	return nil
}

func (sfnNoneRecursiveParallelTransformer) transform(data any, _ *transformContext) (any, error) {
	ms, err := jpFind("$..events", data)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		l, ok := m.val.(*pyList)
		if !ok {
			return nil, errors.Mark(errors.New("events is not a list"), errTransform)
		}
		if err := normaliseParallelEvents(l); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// convertOutputToJSON is test_reference_in_map_state's _convert_output_to_json,
// ported literally: it returns None (nil) when it converts an "output" directly
// under the snapshot dict.
func convertOutputToJSON(content *pyObject) (any, error) {
	for _, k := range content.Keys() {
		v := content.vals[k]
		switch x := v.(type) {
		case *pyObject:
			if out, ok := x.Get("output"); ok {
				if s, ok := out.(string); ok {
					if parsed, err := parseJSONString(s); err == nil {
						x.Set("output", parsed)
						return nil, nil
					}
				}
			}
			if _, err := convertOutputToJSON(x); err != nil {
				return nil, err
			}
		case *pyList:
			for _, item := range x.Items {
				if d, ok := item.(*pyObject); ok {
					if _, err := convertOutputToJSON(d); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return content, nil
}

type sortVariableReferences struct{}

func (sortVariableReferences) transform(data any, _ *transformContext) (any, error) {
	ms, err := jpFind("$..variableReferences", data)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		o, ok := m.val.(*pyObject)
		if !ok {
			return nil, errors.Mark(errors.New("variableReferences is not a dict"), errTransform)
		}
		for _, k := range o.keys {
			l, ok := o.vals[k].(*pyList)
			if !ok {
				return nil, errors.Mark(errors.New("variableReferences value is not a list"), errTransform)
			}
			strs := make([]string, len(l.Items))
			for i, e := range l.Items {
				s, ok := e.(string)
				if !ok {
					return nil, errors.Mark(errors.New("'<' not supported between non-str"), errTransform)
				}
				strs[i] = s
			}
			sort.Strings(strs)
			for i, s := range strs {
				l.Items[i] = s
			}
		}
	}
	return data, nil
}

// ---- SnapshotSession._transform -----------------------------------------------------

// orderDict sorts dict keys recursively (ResponseMetadata last), like the
// harness's order_dict: lists are copied, their dict items ordered, other values
// kept.
func orderDict(v any) any {
	o, ok := v.(*pyObject)
	if !ok {
		return v
	}
	keys := o.Keys()
	sort.Strings(keys)
	out := newObject()
	for _, k := range keys {
		val := o.vals[k]
		switch x := val.(type) {
		case *pyObject:
			out.Set(k, orderDict(x))
		case *pyList:
			l := &pyList{Items: make([]any, len(x.Items))}
			for i, e := range x.Items {
				l.Items[i] = orderDict(e)
			}
			out.Set(k, l)
		default:
			out.Set(k, val)
		}
	}
	if out.Has("ResponseMetadata") {
		out.Set("ResponseMetadata", out.Pop("ResponseMetadata"))
	}
	return out
}

// parseJSONStrings replaces strings starting with "{" by their parsed value, in
// dicts and in dicts inside lists (the harness's _parse_json_strings).
func parseJSONStrings(o *pyObject) {
	for _, k := range o.keys {
		v := o.vals[k]
		if l, ok := v.(*pyList); ok {
			for _, item := range l.Items {
				if d, ok := item.(*pyObject); ok {
					parseJSONStrings(d)
				}
			}
		}
		if d, ok := v.(*pyObject); ok {
			parseJSONStrings(d)
		}
		if s, ok := v.(string); ok && strings.HasPrefix(s, "{") {
			if p, err := parseJSONString(s); err == nil {
				o.vals[k] = p
			}
		}
	}
}

type skipMarker struct{}

// removeSkipPaths is SnapshotSession._remove_skip_verification_paths.
func removeSkipPaths(tmp any, paths []string) error {
	hasPlaceholder := false
	for _, path := range paths {
		ms, err := jpFind(path, tmp)
		if err != nil {
			return err
		}
		for _, m := range ms {
			helper := tmp
			full := m.path
			for _, p := range full[:max(0, len(full)-1)] {
				if l, ok := helper.(*pyList); ok {
					if idx, ok := p.(int); ok {
						helper = l.Items[idx]
						continue
					}
				}
				if o, ok := helper.(*pyObject); ok {
					ks, _ := p.(string)
					helper, _ = o.Get(ks)
				}
			}
			if len(full) == 0 {
				continue
			}
			last := full[len(full)-1]
			if o, ok := helper.(*pyObject); ok {
				if ks, ok := last.(string); ok && o.Has(ks) {
					o.Delete(ks)
					continue
				}
			}
			if l, ok := helper.(*pyList); ok {
				if idx, ok := last.(int); ok {
					l.Items[idx] = skipMarker{}
					hasPlaceholder = true
				}
			}
		}
	}
	if hasPlaceholder {
		var rm func(x any) any
		rm = func(x any) any {
			switch y := x.(type) {
			case *pyObject:
				for _, k := range y.keys {
					switch z := y.vals[k].(type) {
					case *pyObject:
						rm(z)
					case *pyList:
						y.vals[k] = rm(z)
					}
				}
			case *pyList:
				out := &pyList{Items: []any{}}
				for _, e := range y.Items {
					if _, skip := e.(skipMarker); !skip {
						out.Items = append(out.Items, rm(e))
					}
				}
				return out
			}
			return x
		}
		rm(tmp)
	}
	return nil
}

// snapshotTransform normalises observed ({snapshot key: value}) with the given
// transformers (already in priority order) and skip paths, and returns the
// normalised snapshot per key.
func snapshotTransform(observed *pyObject, transformers []transformer, skipPaths []string) (*pyObject, error) {
	var tmp any = observed
	parseJSONStrings(observed)
	ctx := newTransformContext()
	for _, t := range transformers {
		var err error
		tmp, err = t.transform(tmp, ctx)
		if err != nil {
			return nil, err
		}
	}
	if err := removeSkipPaths(tmp, skipPaths); err != nil {
		return nil, err
	}
	o, err := asObject(tmp)
	if err != nil {
		return nil, err
	}
	out := newObject()
	for _, k := range o.keys {
		dumped := pyDumps(o.vals[k], dumpStr)
		for _, fn := range ctx.replacements {
			if dumped, err = fn(dumped); err != nil {
				return nil, err
			}
		}
		v, err := parseJSONString(dumped)
		if err != nil {
			return nil, errors.Mark(errors.Wrapf(err, "snapshot %s after replacements", k), errTransform)
		}
		out.Set(k, v)
	}
	return out, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
