// Package api is sfnd's shared HTTP edge: the AWS JSON protocol (POST / dispatched on
// X-Amz-Target to the service whose target prefix matches), request ids, request
// decoding, the mapping of fault errors to AWS error bodies, field checks and
// pagination tokens. Each service keeps its operations in a room of its own
// (api/sfn for Step Functions, api/glue for Glue) and registers them here.
package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/cockroachdb/errors"
	"github.com/google/uuid"

	"github.com/sfnd/sfnd/events/fault"
)

// MaxBody bounds a request body: a definition may be 1 MiB, inputs 256 KiB.
const MaxBody = 2 << 20

// Config is what the edge needs to know about its deployment.
type Config struct {
	Region  string // default region when a request is not signed
	Account string // the account id of unsigned (development) requests
	Logger  *slog.Logger
	Limits  Limits // zero fields take DefaultLimits' values
	// Observe, when set, is told about every operation call: its name, the HTTP
	// status of the answer and how long it took (metrics).
	Observe func(op string, status int, took time.Duration)
	// Credentials, when set, are the only callers: every request (but /healthz) must
	// carry a valid SigV4 signature of one of them, and acts in its account. Without
	// them (development), any credentials or none are accepted and act in Account.
	Credentials *Credentials
	// Now is the clock signatures are checked against (time.Now by default).
	Now func() time.Time
}

// Op is one API operation: it decodes its own input from the request.
type Op func(ctx context.Context, r *Request) (any, error)

// Service is one AWS service's protocol face: its X-Amz-Target prefix (with the
// trailing dot, "AWSStepFunctions."), its JSON content type and its operations.
type Service struct {
	Name        string // for logs and error messages: "Step Functions", "Glue"
	SigningName string // the service in a SigV4 credential scope: "states", "glue"
	Prefix      string
	ContentType string
	Ops         map[string]Op
}

// Request is one decoded API call.
type Request struct {
	Op      string
	Region  string
	Account string
	Body    []byte
}

// Server is the HTTP edge shared by every service.
type Server struct {
	cfg      Config
	signer   *v4.Signer
	services []*Service
	gets     map[string]http.Handler
	getTree  []prefixHandler
	public   map[string]bool // exact GET routes reachable without a signature
}

type prefixHandler struct {
	prefix string
	h      http.Handler
	public bool // reachable without a signature (HandlePublicGet)
}

// New returns the edge.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Limits = cfg.Limits.withDefaults()
	s := &Server{cfg: cfg, gets: map[string]http.Handler{}, signer: v4.NewSigner()}
	health := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok\n")
	})
	s.gets["/healthz"] = health
	s.gets["/ping"] = health
	return s
}

// Authenticating reports whether requests must be signed by known credentials.
func (s *Server) Authenticating() bool { return s.cfg.Credentials != nil }

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// open reports whether an unauthenticated client may GET path: /healthz, /ping and
// the routes registered with HandlePublicGet (the console's static shell, which holds
// no data: everything it shows comes through signed API calls).
func (s *Server) open(path string) bool {
	if path == "/healthz" || path == "/ping" {
		return true
	}
	if _, ok := s.gets[path]; ok {
		return s.public[path]
	}
	if p := s.bestPrefix(path); p != nil {
		return p.public
	}
	return false
}

// Register adds a service's operations.
func (s *Server) Register(svc *Service) { s.services = append(s.services, svc) }

// Targets lists every X-Amz-Target the edge serves ("AWSStepFunctions.StartExecution"),
// sorted: what a client (the console) can call.
func (s *Server) Targets() []string {
	var out []string
	for _, svc := range s.services {
		for name := range svc.Ops {
			out = append(out, svc.Prefix+name)
		}
	}
	sort.Strings(out)
	return out
}

// HandleGet serves GET (and HEAD) requests for path; a path ending in "/" serves
// every path below it (the longest registered prefix wins).
func (s *Server) HandleGet(path string, h http.Handler) {
	if strings.HasSuffix(path, "/") {
		s.getTree = append(s.getTree, prefixHandler{prefix: path, h: h})
		return
	}
	s.gets[path] = h
}

// HandlePublicGet is HandleGet for routes that need no signature even when the edge
// authenticates: static content that reveals nothing (the console's page and assets).
func (s *Server) HandlePublicGet(path string, h http.Handler) {
	if strings.HasSuffix(path, "/") {
		s.getTree = append(s.getTree, prefixHandler{prefix: path, h: h, public: true})
		return
	}
	s.gets[path] = h
	if s.public == nil {
		s.public = map[string]bool{}
	}
	s.public[path] = true
}

func (s *Server) bestPrefix(path string) *prefixHandler {
	var best *prefixHandler
	for i := range s.getTree {
		p := &s.getTree[i]
		if strings.HasPrefix(path, p.prefix) && (best == nil || len(p.prefix) > len(best.prefix)) {
			best = p
		}
	}
	return best
}

func (s *Server) getHandler(path string) http.Handler {
	if h, ok := s.gets[path]; ok {
		return h
	}
	if best := s.bestPrefix(path); best != nil {
		return best.h
	}
	return nil
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
	const defaultType = "application/x-amz-json-1.0"
	isGet := hr.Method == http.MethodGet || hr.Method == http.MethodHead
	if isGet && s.open(hr.URL.Path) {
		s.getHandler(hr.URL.Path).ServeHTTP(w, hr)
		return
	}
	target := hr.Header.Get("X-Amz-Target")
	var svc *Service
	var name string
	for _, c := range s.services {
		if n, ok := strings.CutPrefix(target, c.Prefix); ok {
			svc, name = c, n
			break
		}
	}
	contentType := defaultType
	signingName := ""
	if svc != nil {
		contentType, signingName = svc.ContentType, svc.SigningName
	}
	// The body is read (bounded in size and time) before anything else: the
	// signature covers it, and nothing is answered to a caller not yet known.
	body, err := s.readBody(w, hr)
	if err != nil {
		// The client is cut off: what it sent is not a request.
		w.Header().Set("Connection", "close")
		WriteError(w, contentType, fault.New(fault.Serialization, "could not read request body"))
		return
	}
	if len(body) > MaxBody {
		WriteError(w, contentType, fault.New(fault.RequestEntityTooLarge, "Request body is too large"))
		return
	}
	caller := Caller{Account: s.cfg.Account, Region: s.cfg.Region}
	if s.cfg.Credentials != nil {
		id, region, err := s.authenticate(hr, body, signingName)
		if err != nil {
			WriteError(w, contentType, err)
			return
		}
		caller = Caller{Account: id.Account, Region: region}
	} else if reg, ok := credentialRegion(hr.Header.Get("Authorization")); ok {
		if !ValidRegion(reg) {
			WriteError(w, contentType, fault.New(fault.InvalidSignature, "Credential should be scoped to a valid region, not '%s'. ", reg))
			return
		}
		caller.Region = reg
	}
	ctx := WithCaller(hr.Context(), caller)
	if isGet {
		if h := s.getHandler(hr.URL.Path); h != nil {
			h.ServeHTTP(w, hr.WithContext(ctx))
			return
		}
	}
	if hr.Method != http.MethodPost {
		WriteError(w, contentType, fault.New(fault.UnknownOperation, "Only POST is supported"))
		return
	}
	if svc == nil {
		WriteError(w, defaultType, fault.New(fault.UnknownOperation, "sfnd does not serve the operation '%s'", target))
		return
	}
	fn := svc.Ops[name]
	if fn == nil {
		WriteError(w, svc.ContentType, fault.New(fault.UnknownOperation, "sfnd does not serve the %s operation %s", svc.Name, name))
		return
	}
	if !utf8.Valid(body) {
		// JSON is UTF-8: a body that is not is refused, never silently repaired.
		WriteError(w, svc.ContentType, fault.New(fault.Serialization, "Invalid UTF-8 in request body"))
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	r := &Request{Op: name, Region: caller.Region, Account: caller.Account, Body: body}
	start := time.Now()
	out, err := s.call(ctx, fn, r)
	if s.cfg.Observe != nil {
		status := http.StatusOK
		if err != nil {
			status = http.StatusInternalServerError
			if e, ok := fault.As(err); ok {
				status = fault.Status(e.Code)
			}
		}
		s.cfg.Observe(name, status, time.Since(start))
	}
	if err != nil {
		if e, ok := fault.As(err); !ok || e.Code == fault.InternalFailure {
			s.cfg.Logger.Error("internal failure", "op", name, "requestId", reqID, "err", err)
		}
		WriteError(w, svc.ContentType, err)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.cfg.Logger.Error("encode response", "op", name, "err", err)
		WriteError(w, svc.ContentType, err)
		return
	}
	w.Header().Set("Content-Type", svc.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	s.cfg.Logger.Debug("call", "op", name, "took", time.Since(start))
}

// readBody reads at most MaxBody+1 bytes of the body within the body timeout, then
// lifts the deadline so that long polls are not cut off while they wait.
func (s *Server) readBody(w http.ResponseWriter, hr *http.Request) ([]byte, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.cfg.Limits.BodyTimeout))
	body, err := io.ReadAll(io.LimitReader(hr.Body, MaxBody+1))
	if err != nil {
		return nil, err
	}
	_ = rc.SetReadDeadline(time.Time{})
	return body, nil
}

// credentialRegion is the region of a SigV4 Authorization header's credential scope
// ("... Credential=AKID/20260101/eu-west-1/states/aws4_request, ..."); ok is false
// when the header names none (development mode then uses the default region).
func credentialRegion(auth string) (string, bool) {
	_, scope, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", false
	}
	parts := strings.SplitN(scope, "/", 4)
	if len(parts) < 4 || len(parts[1]) != 8 || parts[2] == "" {
		return "", false
	}
	return parts[2], true
}

// call runs an operation, turning a panic into an InternalFailure rather than a
// dropped connection.
func (s *Server) call(ctx context.Context, fn Op, r *Request) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.Newf("panic in %s: %v", r.Op, p)
		}
	}()
	return fn(ctx, r)
}

// WriteError is the one place where errors become AWS error bodies.
func WriteError(w http.ResponseWriter, contentType string, err error) {
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
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("x-amzn-ErrorType", string(e.Code))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(fault.Status(e.Code))
	_, _ = w.Write(b)
}

// Decode reads the request body into v, answering SerializationException for JSON
// that does not fit the operation's shape.
func (r *Request) Decode(v any) error {
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
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

// Time is a timestamp on the wire: epoch seconds, as the AWS JSON protocols send them.
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
