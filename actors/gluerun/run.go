package gluerun

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events"
)

// Workflow run statuses.
const (
	StatusRunning   = "RUNNING"
	StatusCompleted = "COMPLETED"
	StatusStopping  = "STOPPING"
	StatusStopped   = "STOPPED"
	StatusError     = "ERROR"
)

// Event types of a workflow run's history.
const (
	EvStarted       = "WorkflowRunStarted"
	EvTriggerFired  = "TriggerFired"
	EvActionStarted = "ActionStarted"
	EvActionRetried = "ActionRetried"
	EvActionEnded   = "ActionEnded"
	EvPropertiesPut = "RunPropertiesPut"
	EvStopping      = "WorkflowRunStopping"
	EvStopped       = "WorkflowRunStopped"
	EvCompleted     = "WorkflowRunCompleted"
	EvErrored       = "WorkflowRunErrored"
)

// Node is the state of one job or crawler node within a run.
type Node struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// Runs are the job run ids (all attempts) or crawl ids started for the node in
	// this run, oldest first.
	Runs []string `json:"runs,omitempty"`
	// State is the state its latest attempt settled in ("" while it runs).
	State   string `json:"state,omitempty"`
	Settled bool   `json:"settled,omitempty"`
	// Trigger started the node; Arguments and Timeout are the action's.
	Trigger   string            `json:"trigger,omitempty"`
	Arguments map[string]string `json:"arguments,omitempty"`
	Timeout   int               `json:"timeout,omitempty"`
	// Copied: the node ran in the run this one resumes, and does not run again.
	Copied bool `json:"copied,omitempty"`
}

// Batch is a run's StartingEventBatchCondition.
type Batch struct {
	BatchSize   int `json:"BatchSize,omitempty"`
	BatchWindow int `json:"BatchWindow,omitempty"`
}

// Run is the state of one workflow run: what Apply folds its events into.
type Run struct {
	Workflow      string                   `json:"workflow"`
	RunId         string                   `json:"runId"`
	PreviousRunId string                   `json:"previousRunId,omitempty"`
	Status        string                   `json:"status"`
	ErrorMessage  string                   `json:"errorMessage,omitempty"`
	StartedOn     time.Time                `json:"startedOn"`
	CompletedOn   *time.Time               `json:"completedOn,omitempty"`
	Properties    map[string]string        `json:"properties"`
	Triggers      []events.GlueTriggerBody `json:"triggers"`
	Nodes         map[string]*Node         `json:"nodes"`
	Fired         map[string]bool          `json:"fired,omitempty"`
	Batch         *Batch                   `json:"batch,omitempty"`
	LastEventID   int64                    `json:"lastEventId"`
}

// Start is what a run starts with (the WorkflowRunStarted event's details).
type Start struct {
	Workflow      string                   `json:"workflow"`
	RunId         string                   `json:"runId"`
	PreviousRunId string                   `json:"previousRunId,omitempty"`
	Properties    map[string]string        `json:"properties,omitempty"`
	Triggers      []events.GlueTriggerBody `json:"triggers"`
	// Copied are the nodes a resumed run takes over from the original run; Fired the
	// original run's fired triggers it keeps; Resume the node keys it starts directly.
	Copied map[string]*Node `json:"copied,omitempty"`
	Fired  map[string]bool  `json:"fired,omitempty"`
	Resume []string         `json:"resume,omitempty"`
	Batch  *Batch           `json:"batch,omitempty"`
	// ErrorMessage: the start was refused (a schedule or event start over the
	// workflow's MaxConcurrentRuns); the run is recorded in ERROR.
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// Event is one event of a workflow run's history.
type Event struct {
	ID           int64             `json:"id"`
	Type         string            `json:"type"`
	Time         time.Time         `json:"time"`
	Start        *Start            `json:"start,omitempty"`
	Trigger      string            `json:"trigger,omitempty"`
	Node         string            `json:"node,omitempty"`
	RunId        string            `json:"runId,omitempty"`
	Attempt      int               `json:"attempt,omitempty"`
	State        string            `json:"state,omitempty"`
	ErrorMessage string            `json:"errorMessage,omitempty"`
	Arguments    map[string]string `json:"arguments,omitempty"`
	Timeout      int               `json:"timeout,omitempty"`
	Properties   map[string]string `json:"properties,omitempty"`
	// Decided is, on the first event of each decision, the trigger it was decided on
	// (an audit replay re-decides it: Verify).
	Decided *Trigger `json:"decided,omitempty"`
}

// Trigger kinds: what can happen to a run.
const (
	TrStart         = "Start"
	TrActionEnded   = "ActionEnded"   // a node's latest attempt settled
	TrActionRetried = "ActionRetried" // a failed attempt is retried as NewRunId
	TrProperties    = "PutProperties"
	TrStop          = "Stop"
	TrWake          = "Wake" // recovery: re-issue what the run waits for
)

// Trigger is one input of Decide. Time comes from outside (the decider reads no clock).
type Trigger struct {
	Kind         string            `json:"kind"`
	Time         time.Time         `json:"time"`
	Start        *Start            `json:"start,omitempty"`
	Node         string            `json:"node,omitempty"`
	RunId        string            `json:"runId,omitempty"`
	NewRunId     string            `json:"newRunId,omitempty"`
	Attempt      int               `json:"attempt,omitempty"`
	State        string            `json:"state,omitempty"`
	ErrorMessage string            `json:"errorMessage,omitempty"`
	Properties   map[string]string `json:"properties,omitempty"`
}

// Effect is something to carry out after a decision's events are stored.
type Effect interface{ isEffect() }

// StartJob starts a job run (idempotent by RunId).
type StartJob struct {
	JobName, RunId, TriggerName string
	Arguments                   map[string]string
	Timeout                     int
}

// StartCrawl starts a crawl (idempotent by CrawlId).
type StartCrawl struct {
	CrawlerName, CrawlId, TriggerName string
}

// StopAction stops a job run or a crawl.
type StopAction struct {
	Type, Name, RunId string
}

// Ended: the run reached Status (COMPLETED, STOPPED, ERROR) and frees its slot.
type Ended struct{ Status string }

func (StartJob) isEffect()   {}
func (StartCrawl) isEffect() {}
func (StopAction) isEffect() {}
func (Ended) isEffect()      {}

// Errors of Decide.
var (
	ErrAlreadyStarted = errors.New("gluerun: the run has started already")
	ErrNotStarted     = errors.New("gluerun: the run has not started")
	ErrNotRunning     = errors.New("gluerun: the run is not RUNNING")
)

// New returns the state of a run with no events yet.
func New() *Run { return &Run{Nodes: map[string]*Node{}, Properties: map[string]string{}} }

// Rebuild folds a history into a run.
func Rebuild(evs []Event) *Run {
	r := New()
	for i := range evs {
		Apply(r, evs[i])
	}
	return r
}

// Apply folds one event into the run. Live decisions and replays call it alike.
func Apply(r *Run, ev Event) {
	r.LastEventID = ev.ID
	switch ev.Type {
	case EvStarted:
		s := ev.Start
		r.Workflow, r.RunId, r.PreviousRunId = s.Workflow, s.RunId, s.PreviousRunId
		r.Status, r.StartedOn = StatusRunning, ev.Time
		r.Properties = maps.Clone(s.Properties)
		if r.Properties == nil {
			r.Properties = map[string]string{}
		}
		r.Triggers, r.Batch = s.Triggers, s.Batch
		r.Nodes = map[string]*Node{}
		for k, n := range s.Copied {
			c := *n
			c.Copied = true
			r.Nodes[k] = &c
		}
		r.Fired = maps.Clone(s.Fired)
	case EvErrored:
		r.Status, r.ErrorMessage = StatusError, ev.ErrorMessage
		r.CompletedOn = ptrTime(ev.Time)
	case EvTriggerFired:
		if r.Fired == nil {
			r.Fired = map[string]bool{}
		}
		r.Fired[ev.Trigger] = true
	case EvActionStarted:
		n := r.node(ev.Node)
		if n.Copied {
			*n = Node{Type: n.Type, Name: n.Name}
		}
		n.Runs = append(n.Runs, ev.RunId)
		n.State, n.Settled = "", false
		n.Trigger, n.Arguments, n.Timeout = ev.Trigger, ev.Arguments, ev.Timeout
	case EvActionRetried:
		n := r.node(ev.Node)
		n.Runs = append(n.Runs, ev.RunId)
		n.State, n.Settled = "", false
	case EvActionEnded:
		n := r.node(ev.Node)
		n.State, n.Settled = ev.State, true
	case EvPropertiesPut:
		for k, v := range ev.Properties {
			r.Properties[k] = v
		}
	case EvStopping:
		r.Status = StatusStopping
	case EvStopped:
		r.Status, r.CompletedOn = StatusStopped, ptrTime(ev.Time)
	case EvCompleted:
		r.Status, r.CompletedOn = StatusCompleted, ptrTime(ev.Time)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

func (r *Run) node(key string) *Node {
	n := r.Nodes[key]
	if n == nil {
		typ, name := splitKey(key)
		n = &Node{Type: typ, Name: name}
		r.Nodes[key] = n
	}
	return n
}

// NodeKey is a node's key in Run.Nodes.
func NodeKey(typ, name string) string { return typ + ":" + name }

func splitKey(key string) (string, string) {
	for i := 0; i < len(key); i++ {
		if key[i] == ':' {
			return key[:i], key[i+1:]
		}
	}
	return "", key
}

// decision accumulates a decision's events, applying each as it is added.
type decision struct {
	r       *Run
	t       Trigger
	evs     []Event
	effects []Effect
}

func (d *decision) add(ev Event) {
	ev.ID = d.r.LastEventID + 1
	ev.Time = d.t.Time
	Apply(d.r, ev)
	d.evs = append(d.evs, ev)
}

// Decide returns the events a trigger adds to the run (already applied to r) and the
// effects to carry out once they are stored.
func Decide(r *Run, t Trigger) ([]Event, []Effect, error) {
	d := &decision{r: r, t: t}
	if t.Kind != TrStart && r.Status == "" {
		return nil, nil, ErrNotStarted
	}
	switch t.Kind {
	case TrStart:
		if r.Status != "" {
			return nil, nil, ErrAlreadyStarted
		}
		d.start(t.Start)
	case TrActionEnded:
		n := r.Nodes[t.Node]
		if n == nil || n.Copied || n.Settled || len(n.Runs) == 0 || n.Runs[len(n.Runs)-1] != t.RunId {
			return nil, nil, nil // stale or repeated
		}
		d.add(Event{Type: EvActionEnded, Node: t.Node, RunId: t.RunId, State: t.State, ErrorMessage: t.ErrorMessage})
		d.progress()
	case TrActionRetried:
		n := r.Nodes[t.Node]
		if n == nil || n.Copied || n.Settled || len(n.Runs) == 0 || n.Runs[len(n.Runs)-1] != t.RunId {
			return nil, nil, nil
		}
		d.add(Event{Type: EvActionRetried, Node: t.Node, RunId: t.NewRunId, Attempt: t.Attempt})
	case TrProperties:
		d.add(Event{Type: EvPropertiesPut, Properties: t.Properties})
	case TrStop:
		if r.Status != StatusRunning {
			return nil, nil, ErrNotRunning
		}
		d.add(Event{Type: EvStopping})
		for _, k := range r.sortedKeys() {
			n := r.Nodes[k]
			if n.running() {
				d.effects = append(d.effects, StopAction{Type: n.Type, Name: n.Name, RunId: n.Runs[len(n.Runs)-1]})
			}
		}
		d.progress()
	case TrWake:
		for _, k := range r.sortedKeys() {
			n := r.Nodes[k]
			if !n.running() {
				continue
			}
			id := n.Runs[len(n.Runs)-1]
			switch {
			case r.Status == StatusStopping:
				d.effects = append(d.effects, StopAction{Type: n.Type, Name: n.Name, RunId: id})
			case n.Type == NodeJob && len(n.Runs) == 1:
				d.effects = append(d.effects, StartJob{JobName: n.Name, RunId: id, TriggerName: n.Trigger, Arguments: n.Arguments, Timeout: n.Timeout})
			case n.Type == NodeCrawler:
				d.effects = append(d.effects, StartCrawl{CrawlerName: n.Name, CrawlId: id, TriggerName: n.Trigger})
			}
		}
		if r.Status == StatusRunning || r.Status == StatusStopping {
			d.progress()
		}
	default:
		return nil, nil, errors.Newf("gluerun: unknown trigger %q", t.Kind)
	}
	return d.evs, d.effects, nil
}

func (n *Node) running() bool { return !n.Copied && !n.Settled && len(n.Runs) > 0 }

func (r *Run) sortedKeys() []string {
	keys := slices.Collect(maps.Keys(r.Nodes))
	sort.Strings(keys)
	return keys
}

func (d *decision) start(s *Start) {
	if s == nil {
		s = &Start{}
	}
	d.add(Event{Type: EvStarted, Start: s})
	if s.ErrorMessage != "" {
		d.add(Event{Type: EvErrored, ErrorMessage: s.ErrorMessage})
		d.effects = append(d.effects, Ended{Status: StatusError})
		return
	}
	if len(s.Resume) > 0 {
		for _, k := range s.Resume {
			n := d.r.Nodes[k]
			if n == nil {
				continue
			}
			d.startNode(k, n.Trigger, n.Arguments, n.Timeout)
		}
	} else {
		for i := range d.r.Triggers {
			t := &d.r.Triggers[i]
			if t.Type != "CONDITIONAL" {
				d.fire(t)
				break
			}
		}
	}
	d.progress()
}

// fire records a trigger firing and starts its actions.
func (d *decision) fire(t *events.GlueTriggerBody) {
	d.add(Event{Type: EvTriggerFired, Trigger: t.Name})
	for _, a := range t.Actions {
		typ, name := actionTarget(a)
		if name == "" {
			continue
		}
		d.startNode(NodeKey(typ, name), t.Name, a.Arguments, deref(a.Timeout))
	}
}

// startNode starts a job or crawler node unless it already runs or ran in this run.
func (d *decision) startNode(key, trigger string, args map[string]string, timeout int) {
	n := d.r.Nodes[key]
	if n != nil && !n.Copied && len(n.Runs) > 0 {
		return // already started in this run by another trigger
	}
	typ, name := splitKey(key)
	id := ActionRunID(d.r.RunId, typ, key)
	d.add(Event{Type: EvActionStarted, Node: key, RunId: id, Trigger: trigger, Arguments: args, Timeout: timeout})
	if typ == NodeJob {
		d.effects = append(d.effects, StartJob{JobName: name, RunId: id, TriggerName: trigger, Arguments: args, Timeout: timeout})
	} else {
		d.effects = append(d.effects, StartCrawl{CrawlerName: name, CrawlId: id, TriggerName: trigger})
	}
}

// ActionRunID is the id of the job run (jr_ + 64 hex) or crawl (a UUID) a run starts
// for a node: derived from the run id, so a replayed decision names the same run and
// starting it again is a no-op.
func ActionRunID(runID, typ, key string) string {
	h := sha256.Sum256([]byte(runID + "\x00" + key))
	if typ == NodeJob {
		return "jr_" + hex.EncodeToString(h[:])
	}
	b := h[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// progress fires the conditional triggers that became true, then ends the run when
// nothing runs any more (a trigger can only fire when a node settles).
func (d *decision) progress() {
	r := d.r
	if r.Status == StatusRunning {
		for fired := true; fired; {
			fired = false
			for i := range r.Triggers {
				t := &r.Triggers[i]
				if t.Type != "CONDITIONAL" || r.Fired[t.Name] || t.State != "ACTIVATED" {
					continue
				}
				if r.satisfied(t) {
					d.fire(t)
					fired = true
				}
			}
		}
	}
	for _, n := range r.Nodes {
		if n.running() {
			return
		}
	}
	switch r.Status {
	case StatusRunning:
		d.add(Event{Type: EvCompleted})
		d.effects = append(d.effects, Ended{Status: StatusCompleted})
	case StatusStopping:
		d.add(Event{Type: EvStopped})
		d.effects = append(d.effects, Ended{Status: StatusStopped})
	}
}

// satisfied reports whether a conditional trigger's predicate holds: a condition is
// true when its node's latest attempt in this run settled in the watched state.
func (r *Run) satisfied(t *events.GlueTriggerBody) bool {
	if t.Predicate == nil || len(t.Predicate.Conditions) == 0 {
		return false
	}
	any := deref(t.Predicate.Logical) == "ANY"
	for _, c := range t.Predicate.Conditions {
		typ, name := conditionTarget(c)
		want := deref(c.State)
		if typ == NodeCrawler {
			want = deref(c.CrawlState)
		}
		n := r.Nodes[NodeKey(typ, name)]
		ok := n != nil && n.Settled && n.State == want
		if any && ok {
			return true
		}
		if !any && !ok {
			return false
		}
	}
	return !any
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}
