package asl

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/sfnd/sfnd/actors/asl/expr"
)

// This file is the one place the decider touches JSON values: everything goes through
// package expr (parsing, formatting, paths, templates, intrinsics, ResultPath).

// parseJSON parses JSON text into the value representation expr works with.
func parseJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// marshalJSON formats a value the way AWS prints payloads (compact, key order kept).
func marshalJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "null"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// payload is a JSON document that remembers the text it came from: AWS passes a state's
// input through unchanged (formatting included) when no field transforms it.
type payload struct {
	raw    string
	val    any
	hasRaw bool
	hasVal bool
}

func rawPayload(s string) payload { return payload{raw: s, hasRaw: true} }
func valPayload(v any) payload    { return payload{val: v, hasVal: true} }

// Text is the JSON text of the payload.
func (p *payload) Text() string {
	if !p.hasRaw {
		p.raw = marshalJSON(p.val)
		p.hasRaw = true
	}
	return p.raw
}

// Value is the parsed payload (null if the text does not parse).
func (p *payload) Value() any {
	if !p.hasVal {
		v, err := parseJSON(p.raw)
		if err != nil {
			v = nil
		}
		p.val = v
		p.hasVal = true
	}
	return p.val
}

// TEMPORARY fallbacks until package expr provides Query/EvalTemplate/ApplyResultPath.

func query(path string, env *expr.Env) (any, error) {
	var cur any
	p := path
	switch {
	case strings.HasPrefix(p, "$$"):
		cur, p = env.Context, p[2:]
	case strings.HasPrefix(p, "$"):
		cur, p = env.Input, p[1:]
	default:
		return nil, &expr.Error{Name: "States.Runtime", Cause: "bad path " + path}
	}
	for p != "" {
		switch {
		case strings.HasPrefix(p, "."):
			p = p[1:]
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			key := p[:end]
			p = p[end:]
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, notFound(path)
			}
			if cur, ok = m[key]; !ok {
				return nil, notFound(path)
			}
		case strings.HasPrefix(p, "["):
			end := strings.Index(p, "]")
			if end < 0 {
				return nil, notFound(path)
			}
			i, err := strconv.Atoi(p[1:end])
			p = p[end+1:]
			a, ok := cur.([]any)
			if err != nil || !ok || i < 0 || i >= len(a) {
				return nil, notFound(path)
			}
			cur = a[i]
		default:
			return nil, notFound(path)
		}
	}
	return cur, nil
}

func notFound(path string) error {
	return &expr.Error{Name: "States.Runtime", Cause: "Invalid path '" + path + "' : No results for path"}
}

func evalTemplate(t any, env *expr.Env) (any, error) {
	switch v := t.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if strings.HasSuffix(k, ".$") {
				s, _ := x.(string)
				r, err := query(s, env)
				if err != nil {
					return nil, err
				}
				out[strings.TrimSuffix(k, ".$")] = r
				continue
			}
			r, err := evalTemplate(x, env)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := evalTemplate(x, env)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return t, nil
}

func applyResultPath(input any, rp string, result any) (any, error) {
	if rp == "$" {
		return result, nil
	}
	m, ok := input.(map[string]any)
	if !ok {
		m = map[string]any{}
	}
	keys := strings.Split(strings.TrimPrefix(rp, "$."), ".")
	root := copyMap(m)
	cur := root
	for i, k := range keys {
		if i == len(keys)-1 {
			cur[k] = result
			break
		}
		next, _ := cur[k].(map[string]any)
		next = copyMap(next)
		cur[k] = next
		cur = next
	}
	return root, nil
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
