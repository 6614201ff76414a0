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
}

func rawPayload(s string) *payload { return &payload{raw: s, hasRaw: true} }
func valPayload(v any) *payload    { return &payload{val: v, hasVal: true} }

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
