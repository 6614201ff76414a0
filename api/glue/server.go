// Package glue is the AWS Glue room of the API: the AWSGlue.<Op> operations (AWS JSON
// 1.1) for workflows, workflow runs, jobs, job runs, triggers, crawlers, blueprints and
// tags, served through the shared edge in package api. Resources are event-sourced on
// the resource stream (one subject each, the whole record per event) and read from the
// glue_resources KV read model; workflow runs are actors (actors/glue*.go) driven by
// the pure decider in actors/gluerun.
package glue

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
	"github.com/sfnd/sfnd/projections"
)

// Glue error codes (all in events/fault/errors.json).
const (
	AlreadyExists               fault.Code = "AlreadyExistsException"
	ConcurrentModification      fault.Code = "ConcurrentModificationException"
	ConcurrentRunsExceeded      fault.Code = "ConcurrentRunsExceededException"
	CrawlerNotRunning           fault.Code = "CrawlerNotRunningException"
	CrawlerRunning              fault.Code = "CrawlerRunningException"
	CrawlerStopping             fault.Code = "CrawlerStoppingException"
	EntityNotFound              fault.Code = "EntityNotFoundException"
	IllegalBlueprintState       fault.Code = "IllegalBlueprintStateException"
	IllegalWorkflowState        fault.Code = "IllegalWorkflowStateException"
	InvalidInput                fault.Code = "InvalidInputException"
	ResourceNumberLimitExceeded fault.Code = "ResourceNumberLimitExceededException"
)

// Config is what the Glue operations need to know about their deployment.
type Config struct {
	Logger *slog.Logger
	// Now is the clock (injected so tests can control it).
	Now func() time.Time
	// TimeScale multiplies the delays of schedules and event batch windows (tests run
	// minutes in seconds); 0 or 1 = real time.
	TimeScale float64
}

// Server serves the Glue API.
type Server struct {
	cfg   Config
	store events.ResourceStore
	res   *projections.Resources
	ops   map[string]api.Op
	runs  Runs // workflow and job runs (nil until EnableRuns)
	bps   BlueprintEngine

	region, account string // of in-process calls
}

type request = api.Request

type violations = api.Violations

// New returns the Glue service.
func New(cfg Config, store events.ResourceStore, res *projections.Resources) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, store: store, res: res}
	s.ops = map[string]api.Op{
		"CreateWorkflow":    s.createWorkflow,
		"UpdateWorkflow":    s.updateWorkflow,
		"DeleteWorkflow":    s.deleteWorkflow,
		"GetWorkflow":       s.getWorkflow,
		"ListWorkflows":     s.listWorkflows,
		"BatchGetWorkflows": s.batchGetWorkflows,

		"CreateJob":    s.createJob,
		"UpdateJob":    s.updateJob,
		"DeleteJob":    s.deleteJob,
		"GetJob":       s.getJob,
		"GetJobs":      s.getJobs,
		"ListJobs":     s.listJobs,
		"BatchGetJobs": s.batchGetJobs,
	}
	s.registerTriggers()
	s.registerCrawlers()
	s.registerTags()
	s.registerRuns()
	s.registerBlueprints()
	for name, fn := range s.ops {
		s.ops[name] = s.scoped(fn) // accounts and regions apart (scope.go)
	}
	return s
}

// Service is the Glue face registered with the edge.
func (s *Server) Service() *api.Service {
	return &api.Service{Name: "Glue", Prefix: "AWSGlue.", ContentType: "application/x-amz-json-1.1", Ops: s.ops}
}

// Invoke calls one operation in-process (blueprint runs create their entities through
// it): in is the request body, the answer the response body or the AWS error.
func (s *Server) Invoke(ctx context.Context, op string, in any) (json.RawMessage, error) {
	return s.invokeAs(ctx, op, in, s.region, s.account)
}

// invokeAs calls one operation in-process as a caller of the region and account.
func (s *Server) invokeAs(ctx context.Context, op string, in any, region, account string) (json.RawMessage, error) {
	fn := s.ops[op]
	if fn == nil {
		return nil, fault.New(fault.UnknownOperation, "sfnd does not serve the Glue operation %s", op)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, errors.Wrap(err, "encode request")
	}
	out, err := fn(context.WithValue(ctx, inProcessKey{}, true), &request{Op: op, Region: region, Account: account, Body: body})
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	return b, errors.Wrap(err, "encode response")
}

type inProcessKey struct{}

func inProcess(ctx context.Context) bool { v, _ := ctx.Value(inProcessKey{}).(bool); return v }

// SetDeployment sets the region and account of in-process calls.
func (s *Server) SetDeployment(region, account string) { s.region, s.account = region, account }

// arn is the ARN of a Glue resource as the caller's region and account see it.
func arn(r *request, typ, name string) string {
	return "arn:" + api.PartitionOf(r.Region) + ":glue:" + r.Region + ":" + r.Account + ":" + typ + "/" + name
}

// now is the server's clock in UTC.
func (s *Server) now() time.Time { return s.cfg.Now().UTC() }

// resource reads one resource's read model; a missing one answers notFound.
func (s *Server) resource(ctx context.Context, typ, parent, name string, notFound func() error) (events.GlueResource, error) {
	rec, err := s.res.Glue(ctx, typ, parent, name)
	if errors.Is(err, events.ErrNotFound) {
		return rec, notFound()
	}
	return rec, err
}

// mutate changes one resource with optimistic concurrency: decide gets its current
// record (nil when it does not exist) and returns the record after the change (nil:
// nothing to do) and whether it is deleted. The call returns once the read model shows
// the change.
func (s *Server) mutate(ctx context.Context, typ, parent, name string,
	decide func(cur *events.GlueResource) (next *events.GlueResource, kind events.ResourceKind, err error)) (*events.GlueResource, error) {
	subj := events.GlueSubject(typ, parent, name)
	var out *events.GlueResource
	_, seq, err := events.Mutate(ctx, s.store, subj, func(cur *events.ResourceEvent) (events.Decision, error) {
		var rec *events.GlueResource
		if cur != nil && cur.Kind != events.GlueDeleted && cur.Glue != nil {
			c := *cur.Glue
			rec = &c
		}
		next, kind, err := decide(rec)
		out = next
		if err != nil || next == nil {
			return nil, err
		}
		next.Type, next.Parent, next.Name = typ, parent, name
		return &events.ResourceEvent{Kind: kind, Time: s.now(), ARN: subj, Glue: next}, nil
	})
	if err != nil || seq == 0 {
		return out, err
	}
	return out, s.res.WaitFor(ctx, seq)
}

// singleLine reports whether s matches Glue's single-line string pattern (any
// character but control characters other than TAB).
func singleLine(s string) bool {
	for _, c := range s {
		if c != '\t' && unicode.IsControl(c) {
			return false
		}
	}
	return true
}

const singleLinePattern = `[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*`

// nameString checks a NameString member (1..255 single-line characters).
func nameString(v *violations, field string, value *string, required bool) {
	if required {
		v.Required(field, value != nil)
	}
	if value == nil {
		return
	}
	v.Length(field, *value, 1, 255)
	if !singleLine(*value) {
		v.Add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", *value, field, singleLinePattern)
	}
}

// maxResults checks a MaxResults member and returns the page size (max by default).
func maxResults(v *violations, value *int, max int) int {
	if value == nil {
		return max
	}
	switch {
	case *value < 1:
		v.Add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1", *value)
	case *value > max:
		v.Add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", *value, max)
	}
	return *value
}

// paginate pages items (sorted ascending by key) with Glue's error for a bad token.
func paginate[T any](op string, items []T, key func(T) string, token *string, limit int) ([]T, *string, error) {
	out, next, err := api.Paginate(op, items, key, token, limit)
	if errors.Is(err, api.ErrBadToken) {
		return nil, nil, fault.New(InvalidInput, "Invalid pagination token")
	}
	return out, next, err
}

// tagsMatch reports whether a resource carries every tag of the filter.
func tagsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// checkTags validates a Tags map (≤50 pairs, key 1..128, value ≤256, no "aws" prefix).
func checkTags(v *violations, tags map[string]string) error {
	if len(tags) > 50 {
		return fault.New(InvalidInput, "New tags would exceed the maximum number of tags (50)")
	}
	for k, val := range tags {
		v.Length("tags.key", k, 1, 128)
		v.Length("tags.value", val, 0, 256)
		if strings.HasPrefix(strings.ToLower(k), "aws") {
			return fault.New(InvalidInput, "Tag keys cannot start with the reserved prefix 'aws': %s", k)
		}
	}
	return nil
}

func decodeBody[T any](rec events.GlueResource) (T, error) {
	var b T
	err := json.Unmarshal(rec.Body, &b)
	return b, errors.Wrapf(err, "decode %s %s", rec.Type, rec.Name)
}

func encodeBody(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain shapes are encoded
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}
