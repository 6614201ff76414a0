package asl

import (
	"github.com/sfnd/sfnd/actors/asl/expr"
)

// This file is the one place the decider touches JSON text: parsing and printing go
// through package expr, which owns the value representation (ordered objects,
// json.Number) and AWS's formatting.

// parseJSON parses JSON text into the value representation expr works with.
func parseJSON(s string) (any, error) { return expr.ParseJSON(s) }

// marshalJSON formats a value the way AWS prints payloads (compact, key order kept).
func marshalJSON(v any) string { return expr.Marshal(v) }

// payload is a JSON document that remembers the text it came from: AWS passes a state's
// input through unchanged (formatting included) when no field transforms it.
type payload struct {
	raw    string
	val    any
	hasRaw bool
	hasVal bool
	// canon: val is exactly what parsing raw gives (set once both are known).
	canon bool
	// cache, when set, shares parsed texts within one decision.
	cache *textCache
}

func rawPayload(s string) *payload { return &payload{raw: s, hasRaw: true} }
func valPayload(v any) *payload    { return &payload{val: v, hasVal: true} }

// textCache remembers the last JSON text parsed or printed in a decision with its value,
// so that the input of a state (the output the previous state just printed) and the
// several reads of one state's input are parsed once. Values are immutable, so sharing
// one between readers is safe; a text always parses to the same value, so a hit gives
// what parsing would.
type textCache struct {
	text string
	val  any
	ok   bool
}

// payload is rawPayload for text s, served from the cache when s was seen last.
func (c *textCache) payload(s string) *payload {
	p := &payload{raw: s, hasRaw: true, cache: c}
	if c.ok && c.text == s {
		p.val, p.hasVal, p.canon = c.val, true, true
	}
	return p
}

// remember records p's text and value when they are known to agree.
func (c *textCache) remember(p *payload) {
	if p.hasRaw && p.hasVal && p.canon {
		c.text, c.val, c.ok = p.raw, p.val, true
	}
}

// Text is the JSON text of the payload.
func (p *payload) Text() string {
	if !p.hasRaw {
		p.raw, p.canon = expr.MarshalCanonical(p.val)
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
		p.canon = true
		if p.cache != nil {
			p.cache.remember(p)
		}
	}
	return p.val
}
