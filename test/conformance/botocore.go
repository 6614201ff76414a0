package conformance

import (
	_ "embed"
	"encoding/base64"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/google/uuid"
)

// This file emulates what botocore does around an AWS JSON 1.0 call, because the
// recorded snapshots are botocore's view of AWS's answers: client-side parameter
// validation (ParamValidationError), serialisation, and parsing of the response by
// the service model (unknown members dropped, null members dropped, timestamps
// turned into datetimes, modeled error fields merged into the error response).
//
// botocore_sfn_model.json is botocore 1.43.11's stepfunctions service model
// (Apache-2.0) with the documentation removed.

//go:embed botocore_sfn_model.json
var sfnModelJSON []byte

type shapeRef struct {
	shape          string
	idempotencyTok bool
}

type shape struct {
	name      string
	typ       string
	members   []string // in model order
	memberRef map[string]shapeRef
	required  []string
	min       *float64
	hasMin    bool
	member    shapeRef // list
	key, val  shapeRef // map
	exception bool
}

type operation struct {
	name   string
	input  string
	output string
}

type serviceModel struct {
	targetPrefix string
	jsonVersion  string
	ops          map[string]*operation
	shapes       map[string]*shape
	errorShapes  map[string]*shape // by error code
	snakeToOp    map[string]string
}

var (
	modelOnce sync.Once
	model     *serviceModel
	modelErr  error
)

func sfnModel() (*serviceModel, error) {
	modelOnce.Do(func() { model, modelErr = loadModel(sfnModelJSON) })
	return model, modelErr
}

func loadModel(data []byte) (*serviceModel, error) {
	raw, err := parseJSON(data)
	if err != nil {
		return nil, errors.Wrap(err, "service model")
	}
	root := raw.(*pyObject)
	get := func(o *pyObject, k string) *pyObject {
		v, _ := o.Get(k)
		r, _ := v.(*pyObject)
		if r == nil {
			return newObject()
		}
		return r
	}
	str := func(o *pyObject, k string) string {
		v, _ := o.Get(k)
		s, _ := v.(string)
		return s
	}
	ref := func(o *pyObject) shapeRef {
		b, _ := o.Get("idempotencyToken")
		return shapeRef{shape: str(o, "shape"), idempotencyTok: b == true}
	}
	md := get(root, "metadata")
	m := &serviceModel{
		targetPrefix: str(md, "targetPrefix"),
		jsonVersion:  str(md, "jsonVersion"),
		ops:          map[string]*operation{},
		shapes:       map[string]*shape{},
		errorShapes:  map[string]*shape{},
		snakeToOp:    map[string]string{},
	}
	ops := get(root, "operations")
	for _, name := range ops.Keys() {
		o := get(ops, name)
		m.ops[name] = &operation{name: name, input: str(get(o, "input"), "shape"), output: str(get(o, "output"), "shape")}
		m.snakeToOp[xformName(name)] = name
	}
	shapes := get(root, "shapes")
	for _, name := range shapes.Keys() {
		s := get(shapes, name)
		sh := &shape{name: name, typ: str(s, "type"), memberRef: map[string]shapeRef{}}
		members := get(s, "members")
		for _, mn := range members.Keys() {
			sh.members = append(sh.members, mn)
			sh.memberRef[mn] = ref(get(members, mn))
		}
		if rq, ok := s.Get("required"); ok {
			if l, ok := rq.(*pyList); ok {
				for _, x := range l.Items {
					if xs, ok := x.(string); ok {
						sh.required = append(sh.required, xs)
					}
				}
			}
		}
		if mn, ok := s.Get("min"); ok {
			f, _ := pyNumber(mn)
			sh.min, sh.hasMin = &f, true
		}
		sh.member = ref(get(s, "member"))
		sh.key = ref(get(s, "key"))
		sh.val = ref(get(s, "value"))
		if e, ok := s.Get("exception"); ok && e == true {
			sh.exception = true
			m.errorShapes[name] = sh
		}
		m.shapes[name] = sh
	}
	return m, nil
}

// xformName is botocore.xform_name: "StartExecution" -> "start_execution".
func xformName(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := rs[i-1] >= 'A' && rs[i-1] <= 'Z'
			if prevLower || (prevUpper && nextLower) {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// operationName maps a corpus operation name (API name, or boto3's snake_case
// method name) to the API operation name.
func (m *serviceModel) operationName(op string) (string, bool) {
	if _, ok := m.ops[op]; ok {
		return op, true
	}
	if n, ok := m.snakeToOp[op]; ok {
		return n, true
	}
	return "", false
}

// ---- client-side errors --------------------------------------------------------------

// callError is what a call raised: a botocore ClientError (the endpoint answered
// with an error), or a BotoCoreError (ParamValidationError, connection errors).
type callError struct {
	// typeName is type(exc).__name__: the modeled exception class
	// (e.g. "InvalidArn"), "ClientError", "ParamValidationError", ...
	typeName string
	// client is true for ClientError (the endpoint answered).
	client bool
	// code is the error code (ClientError) or the type name.
	code string
	// str is str(exc).
	str string
	// response is exc.response for a ClientError.
	response *pyObject
}

func (e *callError) Error() string { return e.str }

// ---- parameter validation (botocore.validate.ParamValidator) ---------------------------

type validationErrors struct{ msgs []string }

func vname(name string) string {
	if name == "" {
		return "input"
	}
	return strings.TrimPrefix(name, ".")
}

func (v *validationErrors) invalidType(name string, param any, valid ...string) {
	v.msgs = append(v.msgs, "Invalid type for parameter "+vname(name)+", value: "+pyStr(param)+
		", type: <class '"+pyTypeName(param)+"'>, valid types: "+strings.Join(valid, ", "))
}

func pyMinRepr(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return pyFloatRepr(f)
}

func (m *serviceModel) rangeCheck(name string, value float64, valueRepr string, sh *shape, errType string, v *validationErrors) {
	if sh.hasMin && value < *sh.min {
		what := "value"
		if errType == "invalid length" {
			v.msgs = append(v.msgs, "Invalid length for parameter "+vname(name)+", value: "+valueRepr+", valid min length: "+pyMinRepr(*sh.min))
			return
		}
		v.msgs = append(v.msgs, "Invalid "+what+" for parameter "+vname(name)+", value: "+valueRepr+", valid min value: "+pyMinRepr(*sh.min))
	}
}

const (
	tStr   = "<class 'str'>"
	tInt   = "<class 'int'>"
	tFloat = "<class 'float'>"
	tDec   = "<class 'decimal.Decimal'>"
	tBool  = "<class 'bool'>"
	tDict  = "<class 'dict'>"
	tList  = "<class 'list'>"
	tTuple = "<class 'tuple'>"
)

func isPyInt(v any) bool {
	switch v.(type) {
	case pyInt, bool:
		return true
	}
	return false
}

func (m *serviceModel) validate(param any, sh *shape, v *validationErrors, name string) {
	switch sh.typ {
	case "structure":
		o, ok := param.(*pyObject)
		if !ok {
			v.invalidType(name, param, tDict)
			return
		}
		for _, rq := range sh.required {
			if !o.Has(rq) {
				v.msgs = append(v.msgs, "Missing required parameter in "+vname(name)+": \""+rq+"\"")
			}
		}
		var known []string
		for _, k := range o.keys {
			if _, ok := sh.memberRef[k]; !ok {
				v.msgs = append(v.msgs, "Unknown parameter in "+vname(name)+": \""+k+"\", must be one of: "+strings.Join(sh.members, ", "))
			} else {
				known = append(known, k)
			}
		}
		for _, k := range known {
			m.validate(o.vals[k], m.shapes[sh.memberRef[k].shape], v, name+"."+k)
		}
	case "string":
		s, ok := param.(string)
		if !ok {
			v.invalidType(name, param, tStr)
			return
		}
		n := len([]rune(s))
		m.rangeCheck(name, float64(n), strconv.Itoa(n), sh, "invalid length", v)
	case "list":
		l, ok := param.(*pyList)
		if !ok {
			v.invalidType(name, param, tList, tTuple)
			return
		}
		n := len(l.Items)
		m.rangeCheck(name, float64(n), strconv.Itoa(n), sh, "invalid length", v)
		ms := m.shapes[sh.member.shape]
		scalar := map[string][]string{
			"float": {tFloat, tDec, tInt}, "double": {tFloat, tDec, tInt},
			"integer": {tInt}, "long": {tInt}, "boolean": {tBool}, "string": {tStr},
		}
		if valid, ok := scalar[ms.typ]; ok && !ms.hasMin && len(ms.required) == 0 {
			for i, item := range l.Items {
				if !scalarOK(ms.typ, item) {
					v.invalidType(name+"["+strconv.Itoa(i)+"]", item, valid...)
				}
			}
			return
		}
		for i, item := range l.Items {
			m.validate(item, ms, v, name+"["+strconv.Itoa(i)+"]")
		}
	case "map":
		o, ok := param.(*pyObject)
		if !ok {
			v.invalidType(name, param, tDict)
			return
		}
		for _, k := range o.keys {
			m.validate(k, m.shapes[sh.key.shape], v, name+" (key: "+k+")")
			m.validate(o.vals[k], m.shapes[sh.val.shape], v, name+"."+k)
		}
	case "integer", "long":
		if !isPyInt(param) {
			v.invalidType(name, param, tInt)
			return
		}
		f, _ := pyNumber(param)
		m.rangeCheck(name, f, pyStr(param), sh, "invalid range", v)
	case "float", "double":
		if !scalarOK(sh.typ, param) {
			v.invalidType(name, param, tFloat, tDec, tInt)
			return
		}
		f, _ := pyNumber(param)
		m.rangeCheck(name, f, pyStr(param), sh, "invalid range", v)
	case "boolean":
		if _, ok := param.(bool); !ok {
			v.invalidType(name, param, tBool)
		}
	case "timestamp":
		switch param.(type) {
		case pyInt, float64, string, pyDatetime:
		default:
			v.invalidType(name, param, "<class 'datetime.datetime'>", "timestamp-string")
		}
	case "blob":
		if _, ok := param.(string); !ok {
			v.invalidType(name, param, "<class 'bytes'>", "<class 'bytearray'>", "file-like object")
		}
	}
}

func scalarOK(typ string, v any) bool {
	switch typ {
	case "float", "double":
		switch v.(type) {
		case float64, pyInt, bool:
			return true
		}
		return false
	case "integer", "long":
		return isPyInt(v)
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	}
	return true
}

// ---- serialisation (botocore.serialize.JSONSerializer) ----------------------------------

func (m *serviceModel) serialize(v any, sh *shape) any {
	switch sh.typ {
	case "structure":
		o := v.(*pyObject)
		out := newObject()
		for _, k := range o.keys {
			mv := o.vals[k]
			if mv == nil {
				continue
			}
			out.Set(k, m.serialize(mv, m.shapes[sh.memberRef[k].shape]))
		}
		return out
	case "map":
		o := v.(*pyObject)
		out := newObject()
		for _, k := range o.keys {
			out.Set(k, m.serialize(o.vals[k], m.shapes[sh.val.shape]))
		}
		return out
	case "list":
		l := v.(*pyList)
		out := &pyList{Items: make([]any, len(l.Items))}
		for i, e := range l.Items {
			out.Items[i] = m.serialize(e, m.shapes[sh.member.shape])
		}
		return out
	case "timestamp":
		switch x := v.(type) {
		case pyDatetime:
			return pyInt(strconv.FormatInt(x.T.Unix(), 10))
		case string:
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return pyInt(strconv.FormatInt(t.Unix(), 10))
			}
		}
		return v
	case "blob":
		if s, ok := v.(string); ok {
			return base64.StdEncoding.EncodeToString([]byte(s))
		}
	}
	return v
}

// buildRequest validates params against the operation's input shape and returns
// the JSON body botocore would send, or a ParamValidationError.
func (m *serviceModel) buildRequest(op string, params *pyObject) ([]byte, *callError) {
	o := m.ops[op]
	in := m.shapes[o.input]
	body := newObject()
	if in != nil {
		for _, mn := range in.members {
			if in.memberRef[mn].idempotencyTok && !params.Has(mn) {
				params.Set(mn, uuid.NewString())
			}
		}
		var v validationErrors
		m.validate(params, in, &v, "")
		if len(v.msgs) > 0 {
			msg := "Parameter validation failed:\n" + strings.Join(v.msgs, "\n")
			return nil, &callError{typeName: "ParamValidationError", code: "ParamValidationError", str: msg}
		}
		body = m.serialize(params, in).(*pyObject)
	}
	return []byte(pyDumps(body, dumpStr)), nil
}

// ---- response parsing (botocore.parsers.BaseJSONParser) ------------------------------

func (m *serviceModel) parseShape(sh *shape, v any) (any, error) {
	switch sh.typ {
	case "structure":
		if v == nil {
			return nil, nil
		}
		o, ok := v.(*pyObject)
		if !ok {
			return nil, errors.Newf("'%s' object has no attribute 'get'", pyTypeName(v))
		}
		out := newObject()
		for _, mn := range sh.members {
			raw, ok := o.Get(mn)
			if !ok || raw == nil {
				continue
			}
			p, err := m.parseShape(m.shapes[sh.memberRef[mn].shape], raw)
			if err != nil {
				return nil, err
			}
			out.Set(mn, p)
		}
		return out, nil
	case "map":
		o, ok := v.(*pyObject)
		if !ok {
			return nil, errors.Newf("'%s' object has no attribute 'items'", pyTypeName(v))
		}
		out := newObject()
		for _, k := range o.keys {
			p, err := m.parseShape(m.shapes[sh.val.shape], o.vals[k])
			if err != nil {
				return nil, err
			}
			out.Set(k, p)
		}
		return out, nil
	case "list":
		l, ok := v.(*pyList)
		if !ok {
			if s, ok := v.(string); ok { // Python iterates a string's characters
				l = &pyList{}
				for _, r := range s {
					l.Items = append(l.Items, string(r))
				}
			} else {
				return nil, errors.Newf("'%s' object is not iterable", pyTypeName(v))
			}
		}
		out := &pyList{Items: make([]any, len(l.Items))}
		for i, e := range l.Items {
			if e == nil {
				continue
			}
			p, err := m.parseShape(m.shapes[sh.member.shape], e)
			if err != nil {
				return nil, err
			}
			out.Items[i] = p
		}
		return out, nil
	case "timestamp":
		return parseTimestamp(v)
	case "blob":
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("blob is not a string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, errors.Wrap(err, "blob")
		}
		return string(b), nil
	}
	return v, nil
}

// parseTimestamp is botocore.utils.parse_timestamp for the values a JSON 1.0
// service sends (epoch seconds) and ISO-8601 strings.
func parseTimestamp(v any) (any, error) {
	var secs float64
	switch x := v.(type) {
	case pyInt:
		bf, ok := new(big.Float).SetString(string(x))
		if !ok {
			return nil, errors.Newf("Invalid timestamp %q", string(x))
		}
		secs, _ = bf.Float64()
	case float64:
		secs = x
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			secs = f
		} else if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return pyDatetime{T: t}, nil
		} else if t, err := http.ParseTime(x); err == nil {
			return pyDatetime{T: t}, nil
		} else {
			return nil, errors.Newf("Invalid timestamp %q", x)
		}
	default:
		return nil, errors.Newf("Invalid timestamp %s", pyRepr(v))
	}
	if math.IsNaN(secs) || math.IsInf(secs, 0) || math.Abs(secs) > 253402300799 {
		return nil, errors.Newf("Invalid timestamp %v", secs)
	}
	whole := math.Floor(secs)
	us := math.RoundToEven((secs - whole) * 1e6)
	t := time.Unix(int64(whole), 0).Add(time.Duration(us) * time.Microsecond).UTC()
	return pyDatetime{T: t}, nil
}

// retryableCodes are the error codes botocore's legacy retry handler retries; with
// one attempt allowed, such an error says "(reached max retries: 0)".
var retryableCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottledException": true, "TooManyRequestsException": true,
	"ProvisionedThroughputExceededException": true, "TransactionInProgressException": true,
	"RequestLimitExceeded": true, "BandwidthLimitExceeded": true, "LimitExceededException": true,
	"RequestThrottled": true, "SlowDown": true, "PriorRequestNotComplete": true,
	"EC2ThrottledException": true,
}

// parseResponse turns an HTTP answer into what boto3 returns: the parsed output
// (ok) or the ClientError it raises.
func (m *serviceModel) parseResponse(op string, status int, header http.Header, body []byte) (*pyObject, *callError, error) {
	meta := newObject()
	if rid := header.Get("x-amzn-requestid"); rid != "" || len(header.Values("x-amzn-requestid")) > 0 {
		meta.Set("RequestId", rid)
	}
	meta.Set("HTTPStatusCode", pyInt(strconv.Itoa(status)))
	hh := newObject()
	for k, vs := range header {
		hh.Set(strings.ToLower(k), strings.Join(vs, ", "))
	}
	meta.Set("HTTPHeaders", hh)
	meta.Set("RetryAttempts", pyInt("0"))

	parseBody := func() (any, error) {
		if len(body) == 0 {
			return newObject(), nil
		}
		v, err := parseJSON(body)
		if err != nil {
			o := newObject()
			o.Set("message", string(body))
			return o, nil
		}
		return v, nil
	}

	if status < 300 {
		var parsed *pyObject
		outName := m.ops[op].output
		if outName == "" {
			parsed = newObject()
		} else {
			raw, err := parseBody()
			if err != nil {
				return nil, nil, err
			}
			p, err := m.parseShape(m.shapes[outName], raw)
			if err != nil {
				return nil, nil, err
			}
			if p == nil {
				return nil, nil, errors.New("response body is null")
			}
			parsed = p.(*pyObject)
		}
		parsed.Set("ResponseMetadata", meta)
		return parsed, nil, nil
	}

	resp := newObject()
	errObj := newObject()
	trimmed := strings.TrimSpace(string(body))
	generic := status >= 500 && (trimmed == "" || strings.HasPrefix(trimmed, "<html>"))
	var raw any
	if generic {
		errObj.Set("Code", strconv.Itoa(status))
		errObj.Set("Message", http.StatusText(status))
	} else {
		var err error
		raw, err = parseBody()
		if err != nil {
			return nil, nil, err
		}
		b, ok := raw.(*pyObject)
		if !ok {
			return nil, nil, errors.Newf("'%s' object has no attribute 'get'", pyTypeName(raw))
		}
		msg, ok := b.Get("message")
		if !ok {
			msg, ok = b.Get("Message")
			if !ok {
				msg = ""
			}
		}
		errObj.Set("Message", msg)
		code, ok := b.Get("__type")
		if !ok {
			code = strconv.Itoa(status)
		}
		cs, isStr := code.(string)
		if code != nil && !isStr {
			return nil, nil, errors.Newf("error code %s is not a string", pyRepr(code))
		}
		if code != nil {
			if i := strings.Index(cs, ":"); i >= 0 {
				cs = cs[:i]
			}
			if i := strings.LastIndex(cs, "#"); i >= 0 {
				cs = cs[i+1:]
			}
			errObj.Set("Code", cs)
		} else {
			errObj.Set("Code", "")
		}
	}
	resp.Set("Error", errObj)
	codeV, _ := errObj.Get("Code")
	code, _ := codeV.(string)
	retryable := status == 500 || status == 502 || status == 503 || status == 504 || retryableCodes[code]
	if retryable {
		meta.Set("MaxAttemptsReached", true)
	}
	resp.Set("ResponseMetadata", meta)
	// endpoint._add_modeled_error_fields
	if es, ok := m.errorShapes[code]; ok {
		if generic {
			// parser.parse on the generic response again yields Error/ResponseMetadata.
			ge := newObject()
			ge.Set("Code", strconv.Itoa(status))
			ge.Set("Message", http.StatusText(status))
			resp.Set("Error", ge)
		} else {
			p, err := m.parseShape(es, raw)
			if err != nil {
				return nil, nil, err
			}
			if po, ok := p.(*pyObject); ok {
				for _, k := range po.keys {
					resp.Set(k, po.vals[k])
				}
			}
		}
	}
	typeName := "ClientError"
	if _, ok := m.errorShapes[code]; ok {
		typeName = code
	}
	ev, _ := resp.Get("Error")
	eo, _ := ev.(*pyObject)
	c, ok := eo.Get("Code")
	if !ok {
		c = "Unknown"
	}
	msg, ok := eo.Get("Message")
	if !ok {
		msg = "Unknown"
	}
	retryInfo := ""
	if retryable {
		retryInfo = " (reached max retries: 0)"
	}
	s := "An error occurred (" + pyStr(c) + ") when calling the " + op + " operation" + retryInfo + ": " + pyStr(msg)
	return nil, &callError{typeName: typeName, client: true, code: code, str: s, response: resp}, nil
}
