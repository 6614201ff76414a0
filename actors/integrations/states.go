package integrations

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/sfnd/sfnd/actors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/google/uuid"

	"github.com/sfnd/sfnd/actors/asl"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// Nested executions: arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken].
//
// A Task state on states:startExecution starts a child execution in the same engine,
// through the same path as the StartExecution API (validation, name reservation in the
// executions read model, start command), with the parent's task recorded on the child's
// start command and on its ExecutionStarted event (events.ParentTask).
//
//   - Fire and forget: TaskStarted, then TaskSucceeded with StartExecution's response.
//   - .waitForTaskToken: TaskStarted, TaskSubmitted with StartExecution's response; the
//     child (or anyone holding the token) answers with SendTask*.
//   - .sync / .sync:2: TaskStarted, TaskSubmitted with StartExecution's response; when
//     the child ends, its actor sends the parent's task result (DescribeExecution's
//     answer: Output a JSON string for .sync, parsed JSON for .sync:2; a child that did
//     not succeed fails the task with States.TaskFailed and that answer as the cause).
//
// Ordering and durability. The child is reserved (Submit) before TaskSubmitted is
// reported and launched only after (Launch), so a child that ends at once cannot
// report before its parent recorded the submission. The child's result command carries
// Nats-Msg-Id parent + scheduled event id + "result", so repeats are dropped. A node
// that dies between the child's last event and that command loses nothing: recovery
// re-dispatches the parent's pending task, which finds the child (Resume) and reports
// its end again. A child name the Parameters do not give is derived from the parent's
// ARN and the scheduled event id, so a re-dispatched start finds the child the first
// dispatch reserved instead of starting a second one.
//
// Stopping. When a parent's .sync task closes without the child's result (the parent
// was stopped, timed out or failed elsewhere, or the task timed out), the child is
// stopped (Cancel), as AWS does.

// StatesIntegration serves the "states" resource type (startExecution). It is bound to
// the engine and the API's starter once both exist (Bind).
type StatesIntegration struct {
	mu      sync.RWMutex
	start   actors.ExecutionStarter
	engine  *actors.Engine
	pending sync.Map // child ARN -> *events.StartCommand reserved and not yet launched
	// reserved: child ARN -> *events.StartCommand of a child an earlier Submit reserved
	// (ChildStarted.Reserved), until Launch.
	reserved sync.Map
}

var _ actors.JobIntegration = (*StatesIntegration)(nil)

// NewStatesIntegration returns an unbound integration.
func NewStatesIntegration() *StatesIntegration { return &StatesIntegration{} }

// Bind gives the integration its engine and starter.
func (s *StatesIntegration) Bind(engine *actors.Engine, start actors.ExecutionStarter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.engine, s.start = engine, start
}

func (s *StatesIntegration) bound() (*actors.Engine, actors.ExecutionStarter) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.engine, s.start
}

// Invoke implements actors.Integration (a call made without the job machinery: it submits
// and launches at once).
func (s *StatesIntegration) Invoke(ctx context.Context, call actors.IntegrationCall) (string, error) {
	out, job, err := s.Submit(ctx, call)
	if err != nil {
		return "", err
	}
	return out, s.Launch(ctx, call, job)
}

// Submit implements actors.JobIntegration: it reserves the child and returns StartExecution's
// response and the child's ARN.
func (s *StatesIntegration) Submit(ctx context.Context, call actors.IntegrationCall) (output, job string, err error) {
	engine, start := s.bound()
	if start == nil || engine == nil {
		return "", "", errors.New("states integration is not bound to an engine")
	}
	if call.Action != "startExecution" {
		return "", "", &actors.IntegrationError{Name: "States.Runtime",
			Cause: "The resource '" + call.Task.Resource + "' is not supported by this sfnd server."}
	}
	req, err := childStartOf(call)
	if err != nil {
		return "", "", err
	}
	res, err := start(ctx, req)
	if err != nil {
		if fe, ok := fault.As(err); ok {
			return "", "", startError(fe)
		}
		return "", "", err
	}
	if res.Start != nil {
		s.pending.Store(res.ExecutionARN, res.Start)
	} else if res.Reserved != nil {
		s.reserved.Store(res.ExecutionARN, res.Reserved)
	}
	return startExecutionResponse(res.ExecutionARN, res.StartDate, engine.Now().UTC()), res.ExecutionARN, nil
}

// Launch implements actors.JobIntegration: it delivers the reserved start of the child. A
// child reserved by an earlier dispatch (or node) is already running or is started by
// recovery from its reservation.
func (s *StatesIntegration) Launch(ctx context.Context, call actors.IntegrationCall, job string) error {
	engine, _ := s.bound()
	if engine == nil {
		return nil
	}
	v, ok := s.pending.LoadAndDelete(job)
	if !ok {
		// The child existed already (a re-dispatch after a crash, or a submit tried
		// again after its reservation's answer was lost): when it has no history it
		// was never launched and is launched now (a start delivered twice decides
		// nothing the second time); otherwise it may have ended while its parent's
		// task was not waiting for it.
		if s.launchReserved(ctx, engine, job) {
			return nil
		}
		return s.Resume(ctx, call, job)
	}
	st := v.(*events.StartCommand)
	engine.Deliver(events.Command{Kind: events.CmdStart, ExecARN: job, Time: st.StartDate, Start: st}, nil)
	return nil
}

// launchReserved delivers the start of a child an earlier Submit reserved
// (ChildStarted.Reserved) when the child has no history yet; it tells whether it did.
func (s *StatesIntegration) launchReserved(ctx context.Context, engine *actors.Engine, job string) bool {
	r, ok := s.reserved.LoadAndDelete(job)
	if !ok {
		return false
	}
	if hist, _, err := engine.ReadExecution(ctx, job); err != nil || len(hist) > 0 {
		return false
	}
	st := r.(*events.StartCommand)
	engine.Deliver(events.Command{Kind: events.CmdStart, ExecARN: job, Time: st.StartDate, Start: st}, nil)
	return true
}

// Cancel implements actors.JobIntegration: it stops the child (a child that ended already
// ignores it).
func (s *StatesIntegration) Cancel(ctx context.Context, job string) error {
	engine, _ := s.bound()
	if engine == nil {
		return nil
	}
	s.launchReserved(ctx, engine, job)
	if v, ok := s.pending.LoadAndDelete(job); ok {
		// Stopped between submission and launch: start the child first, so that the
		// stop (which arrives after the start) has an execution to stop.
		st := v.(*events.StartCommand)
		engine.Deliver(events.Command{Kind: events.CmdStart, ExecARN: job, Time: st.StartDate, Start: st}, nil)
	}
	return engine.PublishCommand(ctx, events.Command{Kind: events.CmdStop, ExecARN: job,
		Time: engine.Now().UTC()}, job+"#stop-by-parent")
}

// Resume implements actors.JobIntegration: when the child has ended, its result is reported
// to the parent's task again (a repeat of a result already sent is dropped).
func (s *StatesIntegration) Resume(ctx context.Context, call actors.IntegrationCall, job string) error {
	engine, _ := s.bound()
	if engine == nil || (call.Pattern != "sync" && call.Pattern != "sync:2") {
		return nil
	}
	hist, x, err := engine.ReadExecution(ctx, job)
	if err != nil || x == nil {
		return err
	}
	first, last := &hist[0], &hist[len(hist)-1]
	if first.ExecutionStartedEventDetails == nil || first.Ext == nil || first.Ext.Parent == nil {
		return nil
	}
	if x.Status() == asl.StatusRunning || x.Status() == asl.StatusPending {
		return nil
	}
	if p := *first.Ext.Parent; p.ExecARN != call.ExecARN || p.ScheduledEventID != call.Task.ScheduledEventID {
		return nil // another task's child
	}
	return actors.NotifyParent(ctx, engine, *first.Ext.Parent, x, last.Timestamp, "result-resumed")
}

// childStartOf reads StartExecution's parameters of a Task state.
func childStartOf(call actors.IntegrationCall) (actors.ChildStart, error) {
	req := actors.ChildStart{Parent: events.ParentTask{ExecARN: call.ExecARN,
		ScheduledEventID: call.Task.ScheduledEventID, Pattern: call.Pattern}}
	var params map[string]json.RawMessage
	if p := strings.TrimSpace(call.Task.Parameters); p != "" && p != "null" {
		if err := json.Unmarshal([]byte(p), &params); err != nil {
			return req, &actors.IntegrationError{Name: "States.Runtime", Cause: "The Parameters of a states:startExecution task must be a JSON object."}
		}
	}
	str := func(key string) (*string, error) {
		raw, ok := params[key]
		if !ok || string(raw) == "null" {
			return nil, nil
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, startError(&fault.Error{Code: fault.ValidationException,
				Message: "1 validation error detected: Value at '" + lowerFirst(key) + "' failed to satisfy constraint: Member must be a string"})
		}
		return &v, nil
	}
	var err error
	if req.StateMachineARN, err = str("StateMachineArn"); err != nil {
		return req, err
	}
	if req.Name, err = str("Name"); err != nil {
		return req, err
	}
	if req.TraceHeader, err = str("TraceHeader"); err != nil {
		return req, err
	}
	if raw, ok := params["Input"]; ok && string(raw) != "null" {
		var text string
		if json.Unmarshal(raw, &text) != nil {
			var buf bytes.Buffer
			if err := json.Compact(&buf, raw); err != nil {
				return req, errors.Wrap(err, "compact child input")
			}
			text = buf.String()
		}
		req.Input = &text
	}
	if req.Name == nil {
		// AWS names the child with a fresh UUID; ours is derived from the parent's task so
		// that a re-dispatch after a crash finds the child the first dispatch reserved.
		name := uuid.NewSHA1(uuid.NameSpaceURL, []byte(call.ExecARN+"#"+strconv.FormatInt(call.Task.ScheduledEventID, 10))).String()
		req.Name = &name
	}
	return req, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// startError is the task error of a refused StartExecution: the service's error code
// as StepFunctions.<Code>Exception, with the AWS SDK's cause wording.
func startError(fe *fault.Error) *actors.IntegrationError {
	code := string(fe.Code)
	name := "StepFunctions." + code
	if !strings.HasSuffix(code, "Exception") {
		name += "Exception"
	}
	cause := fe.Message + " (Service: AWSStepFunctions; Status Code: " + strconv.Itoa(fault.Status(fe.Code)) +
		"; Error Code: " + code + "; Request ID: " + uuid.NewString() + "; Proxy: null)"
	return &actors.IntegrationError{Name: name, Cause: cause}
}

// startExecutionResponse is StartExecution's answer as a Task state sees it (the AWS SDK
// for Java shape, with its HTTP metadata).
func startExecutionResponse(execARN string, startDate, now time.Time) string {
	reqID := uuid.NewString()
	body := `{"executionArn":` + actors.JSONString(execARN) + `,"startDate":` +
		strconv.FormatFloat(float64(startDate.UnixMilli())/1000, 'E', -1, 64) + `}`
	length := strconv.Itoa(len(body))
	date := now.UTC().Format(time.RFC1123)
	date = strings.Replace(date, "UTC", "GMT", 1)
	var b bytes.Buffer
	b.WriteString(`{"ExecutionArn":` + actors.JSONString(execARN))
	b.WriteString(`,"SdkHttpMetadata":{"AllHttpHeaders":{"x-amzn-RequestId":[` + actors.JSONString(reqID) +
		`],"connection":["keep-alive"],"Content-Length":["` + length + `"],"Date":[` + actors.JSONString(date) +
		`],"Content-Type":["application/x-amz-json-1.0"]},"HttpHeaders":{"connection":"keep-alive","Content-Length":"` +
		length + `","Content-Type":"application/x-amz-json-1.0","Date":` + actors.JSONString(date) +
		`,"x-amzn-RequestId":` + actors.JSONString(reqID) + `},"HttpStatusCode":200}`)
	b.WriteString(`,"SdkResponseMetadata":{"RequestId":` + actors.JSONString(reqID) + `}`)
	b.WriteString(`,"StartDate":` + strconv.FormatInt(startDate.UnixMilli(), 10) + `}`)
	return b.String()
}
