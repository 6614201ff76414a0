package validate

// JSONSyntaxError checks that src is one JSON value and returns the message AWS's JSON
// parser (Jackson) gives for the first syntax error, without its location suffix, e.g.
// "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token
// 'null', 'true' or 'false')". ok is false when src is valid JSON. Empty input reports
// "No content to map due to end-of-input".
func JSONSyntaxError(src string) (msg string, ok bool) {
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
