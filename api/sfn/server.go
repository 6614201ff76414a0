// Package sfn is the Step Functions room of the API: the AWSStepFunctions.<Op>
// operations (AWS JSON 1.0), their wire structs and input validation, served through
// the shared edge in package api.
package sfn

import (
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
	"github.com/sfnd/sfnd/projections"
)

// Config is what the Step Functions operations need to know about their deployment.
type Config struct {
	Logger *slog.Logger
	// Now is the clock (injected so tests can control it).
	Now func() time.Time
	// Random returns a number in [0, n): it picks the version an alias routes an
	// execution to (injected so tests can control it; math/rand/v2 by default).
	Random func(n int) int
	// Unserved lists the Task states of a definition whose resources no integration
	// of this server serves (nil: not checked); Create/UpdateStateMachine log them.
	Unserved func(definition string) []asl.TaskResource
}

// Server serves the Step Functions API.
type Server struct {
	cfg   Config
	store events.ResourceStore
	res   *projections.Resources
	ops   map[string]api.Op

	engine *actors.Engine
	hist   *jsstore.Store
	execs  *projections.Executions
	// mapRuns serves the Map Run operations (mapruns.go).
	mapRuns *actors.MapRuns
	// deleting holds the ARNs of state machines marked DELETING that wait for their
	// last execution to end.
	deleting sync.Map
}

// request is one decoded API call.
type request = api.Request

// violations collects request validation errors.
type violations = api.Violations

// Time is a timestamp on the wire.
type Time = api.Time

// New returns the Step Functions service.
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
	s := &Server{cfg: cfg, store: scopedStore{store}, res: res}
	s.ops = map[string]api.Op{
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

// Service is the Step Functions face registered with the edge.
func (s *Server) Service() *api.Service {
	return &api.Service{Name: "Step Functions", SigningName: "states", Prefix: "AWSStepFunctions.", ContentType: "application/x-amz-json-1.0", Ops: s.ops}
}

// Handle registers an operation (used by other parts of the engine to add theirs).
func (s *Server) Handle(name string, fn api.Op) { s.ops[name] = fn }
