package validate

import "encoding/json"

// JSONSyntaxError checks that src is one JSON value and returns the message AWS's JSON
// parser (Jackson) gives for the first syntax error, without its location suffix, e.g.
// "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token
// 'null', 'true' or 'false')". ok is false when src is valid JSON. Empty input reports
// "No content to map due to end-of-input".
func JSONSyntaxError(src string) (msg string, ok bool) {
	// The standard library's scanner checks validity without building anything; only
	// a text it refuses needs the slower parser, for Jackson's words (it refuses
	// nesting deeper than 10,000, which the parser then accepts).
	if json.Valid([]byte(src)) {
		return "", false
	}
	p := &jsonParser{src: src}
	p.skipSpace()
	if p.pos >= len(src) {
		return "No content to map due to end-of-input", true
	}
	if _, err := p.value(); err != nil {
		return err.msg, true
	}
	p.skipSpace()
	if p.pos < len(src) {
		return "Unexpected trailing content", true
	}
	return "", false
}
