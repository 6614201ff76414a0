package integrations

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/sfnd/sfnd/actors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors/asl/expr"
)

// HTTP tasks (arn:aws:states:::http:invoke) make the HTTP call their Parameters
// describe:
//
//   - ApiEndpoint (required) and QueryParameters (an object; its values are encoded
//     like a URL-encoded body, arrays by Transform's ArrayFormat) make the URL;
//   - Method (required): GET, POST, PUT, DELETE, PATCH, OPTIONS or HEAD;
//   - Headers: an object of header names to strings (an array value sends the header
//     once per element);
//   - RequestBody: a string is sent as it is, anything else as JSON
//     (Content-Type application/json; charset=UTF-8 unless Headers set one), or, with
//     Transform {RequestBodyEncoding: "URL_ENCODED", RequestEncodingOptions:
//     {ArrayFormat: INDICES (default) | REPEAT | COMMAS | BRACKETS}}, as
//     application/x-www-form-urlencoded: nested objects as a[b]=c, arrays as a[0]=x
//     (INDICES), a=x&a=y (REPEAT), a=x,y (COMMAS) or a[]=x (BRACKETS);
//   - as AWS, the request carries User-Agent Amazon|StepFunctions|HttpInvoke|<region>
//     and Range bytes=0-262144.
//
// The task's output is {Headers (lower-case names, each to its list of values, by
// name), ResponseBody (JSON when the response says it is JSON and parses, else the
// text), StatusCode, StatusText}. A status outside 2xx fails the task with
// States.Http.StatusCode.<code> and that same object, as JSON text, as its cause; a
// request that gets no answer (connection refused, DNS, TLS, no answer within 60 s)
// fails with States.Http.Socket.
//
// Authentication / InvocationConfig {ConnectionArn}: AWS takes credentials from an
// EventBridge connection. sfnd has no EventBridge, so the field is accepted (not
// required) and nothing is added to the request: put what the API needs in Headers or
// QueryParameters. No secret is invented or looked up.

// HTTPTaskTimeout is how long an HTTP task waits for an answer (AWS: 60 s).
const HTTPTaskTimeout = 60 * time.Second

// HTTPInvoke is the actors.Integration of HTTP tasks (resource type "http").
type HTTPInvoke struct {
	client *http.Client
}

var _ actors.Integration = (*HTTPInvoke)(nil)

// NewHTTPInvoke returns the HTTP task integration; client nil means a client with
// HTTPTaskTimeout.
func NewHTTPInvoke(client *http.Client) *HTTPInvoke {
	if client == nil {
		client = &http.Client{Timeout: HTTPTaskTimeout}
	}
	return &HTTPInvoke{client: client}
}

var httpMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true,
	"PATCH": true, "OPTIONS": true, "HEAD": true}

// Invoke implements actors.Integration.
func (h *HTTPInvoke) Invoke(ctx context.Context, call actors.IntegrationCall) (string, error) {
	if call.Action != "invoke" || call.Pattern != "" {
		return "", &actors.IntegrationError{Name: "States.Runtime",
			Cause: "The resource '" + call.Task.Resource + "' is not supported by this sfnd server."}
	}
	req, err := h.request(ctx, call)
	if err != nil {
		return "", err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", errors.Wrap(ctx.Err(), "http task")
		}
		var ue *url.Error
		cause := err.Error()
		if errors.As(err, &ue) && ue.Err != nil {
			cause = ue.Err.Error()
		}
		return "", &actors.IntegrationError{Name: "States.Http.Socket", Cause: cause}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", &actors.IntegrationError{Name: "States.Http.Socket", Cause: err.Error()}
	}
	out := expr.Marshal(httpOutput(resp, body))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", &actors.IntegrationError{Name: "States.Http.StatusCode." + strconv.Itoa(resp.StatusCode), Cause: out}
	}
	return out, nil
}

func httpRuntimeError(cause string) error {
	return &actors.IntegrationError{Name: "States.Runtime", Cause: cause}
}

// request builds the HTTP request of a call from its Parameters.
func (h *HTTPInvoke) request(ctx context.Context, call actors.IntegrationCall) (*http.Request, error) {
	v, err := expr.ParseJSON(call.Task.Parameters)
	params, ok := v.(*expr.Object)
	if err != nil || !ok {
		return nil, httpRuntimeError("The Parameters of an HTTP Task must be a JSON object.")
	}
	str := func(key string) string {
		v, _ := params.Get(key)
		s, _ := v.(string)
		return s
	}
	endpoint := str("ApiEndpoint")
	u, err := url.Parse(endpoint)
	if endpoint == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, httpRuntimeError("The ApiEndpoint '" + endpoint + "' of the HTTP Task is not a valid http(s) URL.")
	}
	method := str("Method")
	if !httpMethods[method] {
		return nil, httpRuntimeError("The Method '" + method + "' of the HTTP Task is not one of GET, POST, PUT, DELETE, PATCH, OPTIONS, HEAD.")
	}
	urlEncoded, arrayFormat := false, "INDICES"
	if t, ok := params.Get("Transform"); ok {
		to, _ := t.(*expr.Object)
		if to != nil {
			if e, _ := to.Get("RequestBodyEncoding"); e == "URL_ENCODED" {
				urlEncoded = true
			} else if e != nil && e != "NONE" {
				return nil, httpRuntimeError("The RequestBodyEncoding of the HTTP Task must be NONE or URL_ENCODED.")
			}
			if o, _ := to.Get("RequestEncodingOptions"); o != nil {
				if oo, ok := o.(*expr.Object); ok {
					if f, ok := oo.Get("ArrayFormat"); ok {
						s, _ := f.(string)
						switch s {
						case "INDICES", "REPEAT", "COMMAS", "BRACKETS":
							arrayFormat = s
						default:
							return nil, httpRuntimeError("The ArrayFormat of the HTTP Task must be INDICES, REPEAT, COMMAS or BRACKETS.")
						}
					}
				}
			}
		}
	}
	if q, ok := params.Get("QueryParameters"); ok && q != nil {
		qo, isObj := q.(*expr.Object)
		if !isObj {
			return nil, httpRuntimeError("The QueryParameters of the HTTP Task must be an object.")
		}
		enc := formEncode(qo, arrayFormat)
		if enc != "" {
			if u.RawQuery != "" {
				u.RawQuery += "&" + enc
			} else {
				u.RawQuery = enc
			}
		}
	}
	var body io.Reader
	contentType := ""
	if b, ok := params.Get("RequestBody"); ok && method != "GET" && method != "HEAD" {
		switch bv := b.(type) {
		case string:
			body = strings.NewReader(bv)
		case *expr.Object:
			if urlEncoded {
				body, contentType = strings.NewReader(formEncode(bv, arrayFormat)), "application/x-www-form-urlencoded"
			} else {
				body, contentType = strings.NewReader(expr.Marshal(bv)), "application/json; charset=UTF-8"
			}
		default:
			body, contentType = strings.NewReader(expr.Marshal(bv)), "application/json; charset=UTF-8"
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, httpRuntimeError("The HTTP Task's request cannot be built: " + err.Error())
	}
	if hv, ok := params.Get("Headers"); ok && hv != nil {
		ho, isObj := hv.(*expr.Object)
		if !isObj {
			return nil, httpRuntimeError("The Headers of the HTTP Task must be an object.")
		}
		for k, v := range ho.All() {
			if arr, ok := v.([]any); ok {
				for _, e := range arr {
					req.Header.Add(k, scalarText(e))
				}
				continue
			}
			req.Header.Set(k, scalarText(v))
		}
	}
	if contentType != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	region := ""
	if p := strings.Split(call.ExecARN, ":"); len(p) > 3 {
		region = p[3]
	}
	req.Header.Set("User-Agent", "Amazon|StepFunctions|HttpInvoke|"+region)
	req.Header.Set("Range", "bytes=0-262144")
	return req, nil
}

// scalarText renders a JSON value for a header, a query or a form field.
func scalarText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	case json.Number:
		return expr.FormatNumber(string(t))
	default:
		return expr.Marshal(t)
	}
}

// formEncode encodes an object as application/x-www-form-urlencoded: nested objects
// as a[b]=c, arrays by format. Keys keep the object's order.
func formEncode(o *expr.Object, format string) string {
	var parts []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch t := v.(type) {
		case *expr.Object:
			for k, e := range t.All() {
				walk(key+"["+url.QueryEscape(k)+"]", e)
			}
		case []any:
			switch format {
			case "COMMAS":
				vals := make([]string, len(t))
				for i, e := range t {
					vals[i] = url.QueryEscape(scalarText(e))
				}
				parts = append(parts, key+"="+strings.Join(vals, ","))
			case "REPEAT":
				for _, e := range t {
					walk(key, e)
				}
			case "BRACKETS":
				for _, e := range t {
					walk(key+"[]", e)
				}
			default:
				for i, e := range t {
					walk(key+"["+strconv.Itoa(i)+"]", e)
				}
			}
		default:
			parts = append(parts, key+"="+url.QueryEscape(scalarText(t)))
		}
	}
	for k, v := range o.All() {
		walk(url.QueryEscape(k), v)
	}
	return strings.Join(parts, "&")
}

// httpOutput is the output of an HTTP task: {Headers, ResponseBody, StatusCode,
// StatusText}.
func httpOutput(resp *http.Response, body []byte) *expr.Object {
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	headers := expr.NewObject(len(names))
	for _, k := range names {
		vals := make([]any, len(resp.Header[k]))
		for i, v := range resp.Header[k] {
			vals[i] = v
		}
		headers.Set(strings.ToLower(k), vals)
	}
	var rb any = string(body)
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil &&
		(mt == "application/json" || strings.HasSuffix(mt, "+json")) && len(bytes.TrimSpace(body)) > 0 {
		if v, err := expr.ParseJSON(string(body)); err == nil {
			rb = v
		}
	}
	out := expr.NewObject(4)
	out.Set("Headers", headers)
	out.Set("ResponseBody", rb)
	out.Set("StatusCode", json.Number(strconv.Itoa(resp.StatusCode)))
	out.Set("StatusText", strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode))))
	return out
}
