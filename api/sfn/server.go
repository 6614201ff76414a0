// Package api is sfnd's HTTP edge: the AWS JSON 1.0 protocol (POST / dispatched on
// X-Amz-Target), wire structs, input validation, pagination tokens, request ids and
// the mapping of fault errors to AWS error bodies.
package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/google/uuid"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/projections"
)

// maxBody bounds a request body: a definition may be 1 MiB, inputs 256 KiB.
const maxBody = 2 << 20

// Config is what the API needs to know about its deployment.
type Config struct {
	Region  string // default region when a request is not signed
	Account string // the account id in every ARN
	Logger  *slog.Logger
	// Now is the clock (injected so tests can control it).
	Now func() time.Time
	// Random returns a number in [0, n): it picks the version an alias routes an
	// execution to (injected so tests can control it; math/rand/v2 by default).
	Random func(n int) int
}

// Server serves the Step Functions API.
type Server struct {
	cfg   Config
	store events.ResourceStore
	res   *projections.Resources
	ops   map[string]op

	engine *actors.Engine
	hist   *jsstore.Store
	execs  *projections.Executions
	// deleting holds the ARNs of state machines marked DELETING that wait for their
	// last execution to end.
	deleting sync.Map
}

// op is one API operation: it decodes its own input from the request.
type op func(ctx context.Context, r *request) (any, error)

// request is one decoded API call.
type request struct {
	op      string
	region  string
	account string
	body    []byte
}

// New returns the API server.
func New(cfg Config, store events.ResourceStore, res *projections.Resources) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Random == nil {
		cfg.Random = rand.IntN
	}
	s := &Server{cfg: cfg, store: store, res: res}
	s.ops = map[string]op{
		"CreateStateMachine":   s.createStateMachine,
		"DescribeStateMachine": s.describeStateMachine,
		"UpdateStateMachine":   s.updateStateMachine,
		"DeleteStateMachine":   s.deleteStateMachine,
		"ListStateMachines":    s.listStateMachines,
		"CreateActivity":       s.createActivity,
		"DescribeActivity":     s.describeActivity,
		"DeleteActivity":       s.deleteActivity,
		"ListActivities":       s.listActivities,
		"TagResource":          s.tagResource,
		"UntagResource":        s.untagResource,
		"ListTagsForResource":  s.listTagsForResource,

		"PublishStateMachineVersion":     s.publishStateMachineVersion,
		"ListStateMachineVersions":       s.listStateMachineVersions,
		"DeleteStateMachineVersion":      s.deleteStateMachineVersion,
		"CreateStateMachineAlias":        s.createStateMachineAlias,
		"DescribeStateMachineAlias":      s.describeStateMachineAlias,
		"UpdateStateMachineAlias":        s.updateStateMachineAlias,
		"DeleteStateMachineAlias":        s.deleteStateMachineAlias,
		"ListStateMachineAliases":        s.listStateMachineAliases,
		"ValidateStateMachineDefinition": s.validateStateMachineDefinition,
		"TestState":                      s.testState,
		"StartSyncExecution":             s.startSyncExecution,
	}
	return s
}

// Handle registers an operation (used by other parts of the engine to add theirs).
func (s *Server) Handle(name string, fn func(ctx context.Context, r *Request) (any, error)) {
	s.ops[name] = func(ctx context.Context, r *request) (any, error) { return fn(ctx, (*Request)(r)) }
}

// Request is the exported view of a decoded call for operations registered with Handle.
type Request request

// credentialRegion is the region of a SigV4 Authorization header's credential scope
// ("... Credential=AKID/20260101/eu-west-1/states/aws4_request, ..."), or "".
func credentialRegion(auth string) string {
	_, scope, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	parts := strings.SplitN(scope, "/", 4)
	if len(parts) < 4 || len(parts[1]) != 8 || parts[2] == "" {
		return ""
	}
	for _, c := range parts[2] {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return ""
		}
	}
	return parts[2]
}

func init() {
	// Request ids and generated names are random UUIDs: draw them from a pooled
	// buffer rather than one getrandom call each.
	uuid.EnableRandPool()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	reqID := uuid.NewString()
	w.Header().Set("x-amzn-RequestId", reqID)
	if hr.Method == http.MethodGet && (hr.URL.Path == "/healthz" || hr.URL.Path == "/ping") {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	if hr.Method != http.MethodPost {
		writeError(w, fault.New(fault.UnknownOperation, "Only POST is supported"))
		return
	}
	target := hr.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, "AWSStepFunctions.")
	fn := s.ops[name]
	if !ok || fn == nil {
		writeError(w, &fault.Error{Code: fault.UnknownOperation})
		return
	}
	body, err := io.ReadAll(io.LimitReader(hr.Body, maxBody+1))
	if err != nil {
		writeError(w, fault.New(fault.Serialization, "could not read request body"))
		return
	}
	if len(body) > maxBody {
		writeError(w, fault.New(fault.RequestEntityTooLarge, "Request body is too large"))
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	region := s.cfg.Region
	if reg := credentialRegion(hr.Header.Get("Authorization")); reg != "" {
		region = reg
	}
	r := &request{op: name, region: region, account: s.cfg.Account, body: body}
	start := time.Now()
	out, err := s.call(hr.Context(), fn, r)
	if err != nil {
		if e, ok := fault.As(err); !ok || e.Code == fault.InternalFailure {
			s.cfg.Logger.Error("internal failure", "op", name, "requestId", reqID, "err", err)
		}
		writeError(w, err)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.cfg.Logger.Error("encode response", "op", name, "err", err)
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	s.cfg.Logger.Debug("call", "op", name, "took", time.Since(start))
}

// call runs an operation, turning a panic into an InternalFailure rather than a
// dropped connection.
func (s *Server) call(ctx context.Context, fn op, r *request) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.Newf("panic in %s: %v", r.op, p)
		}
	}()
	return fn(ctx, r)
}

// writeError is the one place where errors become AWS error bodies.
func writeError(w http.ResponseWriter, err error) {
	e, ok := fault.As(err)
	if !ok {
		e = &fault.Error{Code: fault.InternalFailure, Message: "An internal error occurred"}
	}
	body := map[string]any{"__type": string(e.Code)}
	if e.Message != "" {
		body["message"] = e.Message
	}
	for k, v := range e.Extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-ErrorType", string(e.Code))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(fault.Status(e.Code))
	_, _ = w.Write(b)
}

// Decode reads the request body into v, answering SerializationException for JSON
// that does not fit the operation's shape.
func (r *Request) Decode(v any) error { return (*request)(r).decode(v) }

// Region is the region of the call (from the SigV4 credential scope).
func (r *Request) Region() string { return r.region }

// Account is the account id of the call.
func (r *Request) Account() string { return r.account }

func (r *request) decode(v any) error {
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fault.New(fault.Serialization, "Unexpected value type for field '%s'", te.Field)
		}
		return fault.New(fault.Serialization, "Unable to parse request body as JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		// Anything after the one JSON object makes the body malformed.
		return fault.New(fault.Serialization, "Unable to parse request body as JSON")
	}
	return nil
}

// Time is a timestamp on the wire: epoch seconds, as the JSON 1.0 protocol sends them.
type Time time.Time

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON accepts epoch seconds (number) or an RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		p, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return err
		}
		*t = Time(p)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*t = Time(time.UnixMilli(int64(f * 1000)))
	return nil
}

// TimePtr converts an optional time.
func TimePtr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	v := Time(*t)
	return &v
}
