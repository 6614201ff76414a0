package conformance

import (
	"regexp"
	"strconv"

	"github.com/cockroachdb/errors"
)

// JSONPath: the subset of jsonpath_ng.ext semantics the snapshot tests use, ported
// from the Python harness (jp_parse, jp_find, jp_update, extract_json).

type jpSel struct {
	kind byte // 'f' field, 'i' index, 'w' wildcard
	name string
	idx  int
}

type jpGroup struct {
	descend bool
	sels    []jpSel
}

// jpMatch is one match: the concrete path (string keys and int indexes), the
// value, and how the last step was taken ('f', 'i' or 0).
type jpMatch struct {
	path []any
	val  any
	last byte
}

var jpToken = regexp.MustCompile(`^(?:(?P<dd>\.\.)|(?P<dot>\.)|\[(?P<idx>-?\d+)\]|\[(?P<star>\*)\]|\[['"](?P<q>[^'"]+)['"]\]|(?P<name>[A-Za-z0-9_@$\-]+|\*))`)

func jpParse(path string) ([]jpGroup, error) {
	if len(path) == 0 || path[0] != '$' {
		return nil, errors.Newf("unsupported JSONPath %q", path)
	}
	groups := []jpGroup{{}}
	i := 1
	pendingDot := false
	names := jpToken.SubexpNames()
	for i < len(path) {
		m := jpToken.FindStringSubmatchIndex(path[i:])
		if m == nil {
			return nil, errors.Newf("unsupported JSONPath %q at %d", path, i)
		}
		grp := func(name string) (string, bool) {
			for gi, n := range names {
				if n == name && m[2*gi] >= 0 {
					return path[i+m[2*gi] : i+m[2*gi+1]], true
				}
			}
			return "", false
		}
		end := i + m[1]
		last := &groups[len(groups)-1]
		if _, ok := grp("dd"); ok {
			groups = append(groups, jpGroup{descend: true})
			pendingDot = true
		} else if _, ok := grp("dot"); ok {
			pendingDot = true
		} else if s, ok := grp("idx"); ok {
			n, _ := strconv.Atoi(s)
			last.sels = append(last.sels, jpSel{kind: 'i', idx: n})
			pendingDot = false
		} else if _, ok := grp("star"); ok {
			last.sels = append(last.sels, jpSel{kind: 'w'})
			pendingDot = false
		} else {
			q, isQ := grp("q")
			name, isName := grp("name")
			if isQ {
				name = q
			}
			if !pendingDot && isName {
				return nil, errors.Newf("unsupported JSONPath %q", path)
			}
			if name == "*" && isName {
				last.sels = append(last.sels, jpSel{kind: 'w'})
			} else {
				last.sels = append(last.sels, jpSel{kind: 'f', name: name})
			}
			pendingDot = false
		}
		i = end
	}
	return groups, nil
}

func appendPath(p []any, k any) []any {
	out := make([]any, len(p)+1)
	copy(out, p)
	out[len(p)] = k
	return out
}

func jpSelect(sel jpSel, p []any, v any) []jpMatch {
	switch sel.kind {
	case 'f':
		if o, ok := v.(*pyObject); ok {
			if x, ok := o.Get(sel.name); ok {
				return []jpMatch{{appendPath(p, sel.name), x, 'f'}}
			}
		}
		return nil
	case 'i':
		if l, ok := v.(*pyList); ok {
			n := len(l.Items)
			if -n <= sel.idx && sel.idx < n {
				k := ((sel.idx % n) + n) % n
				return []jpMatch{{appendPath(p, k), l.Items[k], 'i'}}
			}
		}
		return nil
	}
	switch x := v.(type) {
	case *pyList:
		out := make([]jpMatch, 0, len(x.Items))
		for k, e := range x.Items {
			out = append(out, jpMatch{appendPath(p, k), e, 'i'})
		}
		return out
	case *pyObject:
		out := make([]jpMatch, 0, x.Len())
		for _, k := range x.keys {
			out = append(out, jpMatch{appendPath(p, k), x.vals[k], 'f'})
		}
		return out
	}
	return nil
}

func jpChain(sels []jpSel, start jpMatch) []jpMatch {
	cur := []jpMatch{start}
	for _, s := range sels {
		var nxt []jpMatch
		for _, m := range cur {
			nxt = append(nxt, jpSelect(s, m.path, m.val)...)
		}
		cur = nxt
	}
	return cur
}

func jpPreorder(p []any, v any, fn func(p []any, v any)) {
	fn(p, v)
	switch x := v.(type) {
	case *pyObject:
		for _, k := range x.Keys() {
			jpPreorder(appendPath(p, k), x.vals[k], fn)
		}
	case *pyList:
		for k, e := range x.Items {
			jpPreorder(appendPath(p, k), e, fn)
		}
	}
}

func jpFindGroups(groups []jpGroup, data any) []jpMatch {
	cur := jpChain(groups[0].sels, jpMatch{path: []any{}, val: data})
	for _, g := range groups[1:] {
		var nxt []jpMatch
		for _, m := range cur {
			jpPreorder(m.path, m.val, func(q []any, w any) {
				nxt = append(nxt, jpChain(g.sels, jpMatch{path: q, val: w})...)
			})
		}
		cur = nxt
	}
	return cur
}

// jpFind returns the matches of path in data, in jsonpath_ng order.
func jpFind(path string, data any) ([]jpMatch, error) {
	groups, err := jpParse(path)
	if err != nil {
		return nil, err
	}
	return jpFindGroups(groups, data), nil
}

func jpSetChain(sels []jpSel, node any, val any) {
	if len(sels) == 0 {
		return
	}
	for _, m := range jpChain(sels[:len(sels)-1], jpMatch{path: []any{}, val: node}) {
		last := sels[len(sels)-1]
		switch last.kind {
		case 'f':
			if o, ok := m.val.(*pyObject); ok && o.Has(last.name) {
				o.Set(last.name, val)
			}
		case 'i':
			if l, ok := m.val.(*pyList); ok && len(l.Items) > last.idx {
				idx := last.idx
				if idx < 0 {
					idx += len(l.Items)
				}
				if idx >= 0 {
					l.Items[idx] = val
				}
			}
		default:
			switch x := m.val.(type) {
			case *pyList:
				for k := range x.Items {
					x.Items[k] = val
				}
			case *pyObject:
				for _, k := range x.keys {
					x.vals[k] = val
				}
			}
		}
	}
}

// jpUpdate is jsonpath_ng's parse(path).update(data, val) for a constant val.
func jpUpdate(path string, data any, val any) error {
	groups, err := jpParse(path)
	if err != nil {
		return err
	}
	if len(groups) == 1 {
		jpSetChain(groups[0].sels, data, val)
		return nil
	}
	var rec func(node any, sels []jpSel)
	rec = func(node any, sels []jpSel) {
		switch x := node.(type) {
		case *pyList:
			jpSetChain(sels, node, val)
			for k := 0; k < len(x.Items); k++ {
				rec(x.Items[k], sels)
			}
		case *pyObject:
			jpSetChain(sels, node, val)
			for _, k := range x.Keys() {
				rec(x.vals[k], sels)
			}
		}
	}
	for _, m := range jpFindGroups(groups[:len(groups)-1], data) {
		rec(m.val, groups[len(groups)-1].sels)
	}
	return nil
}

var (
	errNoSuchJSONPath = errors.New("no such JSONPath")
	extractEmptyRe    = regexp.MustCompile(`\$(?:\.[^[]+\[(?:\*|\d*:\d*)\]|\[\*\])(?:\.[^[]+)*$`)
	extractIndexRe    = regexp.MustCompile(`\[\d+\]$`)
)

// extractJSON is localstack's json_path.extract_json.
func extractJSON(path string, data any) (any, error) {
	matches, err := jpFind(path, data)
	if err != nil {
		return nil, err
	}
	if len(matches) == 0 {
		if extractEmptyRe.MatchString(path) {
			return &pyList{Items: []any{}}, nil
		}
		return nil, errors.Mark(errors.Newf("JSONPath %s not found", path), errNoSuchJSONPath)
	}
	if len(matches) > 1 || matches[0].last == 'i' {
		l := &pyList{Items: make([]any, len(matches))}
		for i, m := range matches {
			l.Items[i] = m.val
		}
		if extractIndexRe.MatchString(path) && len(l.Items) == 1 {
			return l.Items[0], nil
		}
		return l, nil
	}
	return matches[0].val, nil
}
