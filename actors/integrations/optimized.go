package integrations

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/asl/expr"
	"github.com/sfnd/sfnd/events"
)

// Optimized integrations (arn:aws:states:::<service>:<action>[.sync|.waitForTaskToken])
// serve a fixed set of actions per service with the patterns AWS documents for each.
// Request-response and .waitForTaskToken make one call; .sync patterns (ECS runTask,
// Batch submitJob) submit the job, then poll it until it ends and report its end to
// the task (polling survives restarts: recovery re-dispatches the waiting task, which
// resumes the poll).

// optimized is one service's optimized integration.
type optimized struct {
	aws   *AWS
	svc   *Service
	style errorStyle
	// patterns lists each action's patterns ("" request-response, "sync",
	// "waitForTaskToken").
	patterns map[string][]string
	// sdkMeta adds SdkHttpMetadata/SdkResponseMetadata to outputs (the integrations
	// built on the AWS SDK for Java v1 do).
	sdkMeta bool
	// job is the .sync machinery, for services that have it.
	job *syncJob
}

func (o *optimized) check(call actors.IntegrationCall) error {
	for _, p := range o.patterns[call.Action] {
		if p == call.Pattern {
			return nil
		}
	}
	return &actors.IntegrationError{Name: "States.Runtime",
		Cause: "The resource '" + call.Task.Resource + "' is not supported by this sfnd server (the " + o.svc.ID +
			" integration serves " + o.served() + ")."}
}

func (o *optimized) served() string {
	s := ""
	for a, ps := range o.patterns {
		for _, p := range ps {
			if s != "" {
				s += ", "
			}
			s += a
			if p != "" {
				s += "." + p
			}
		}
	}
	return s
}

// Invoke implements actors.Integration.
func (o *optimized) Invoke(ctx context.Context, call actors.IntegrationCall) (string, error) {
	if err := o.check(call); err != nil {
		return "", err
	}
	in, err := params(call)
	if err != nil {
		return "", err
	}
	out, err := o.aws.call(ctx, o.svc, call, call.Action, in, o.style)
	if err != nil {
		return "", err
	}
	return render(o.svc, out, o.sdkMeta), nil
}

// syncJob is the .sync side of an optimized integration.
type syncJob struct {
	// id extracts the job's identity from the submitting call's output.
	id func(out reflect.Value, in *expr.Object) (jobRef, bool)
	// poll looks at the job once: done, and if so its result.
	poll func(ctx context.Context, client any, ref jobRef) (done bool, r events.TaskResult, err error)
	// cancel stops the job.
	cancel func(ctx context.Context, client any, ref jobRef) error
	// every is the polling interval.
	every time.Duration

	mu      sync.Mutex
	engine  *actors.Engine
	polling map[string]bool
}

// jobRef is what a .sync task remembers of its job (its task record's job string,
// as JSON): enough to poll or stop it after a restart.
type jobRef struct {
	Region  string `json:"r"`
	Role    string `json:"role,omitempty"`
	Cluster string `json:"c,omitempty"`
	Name    string `json:"n,omitempty"` // the job's name, where the job id alone does not find it (Glue)
	ID      string `json:"id"`
}

// optimizedJob is an optimized integration with a .sync pattern.
type optimizedJob struct{ *optimized }

var _ actors.JobIntegration = optimizedJob{}

// Submit implements actors.JobIntegration: it makes the call and answers its output
// and the job's reference.
func (o optimizedJob) Submit(ctx context.Context, call actors.IntegrationCall) (string, string, error) {
	if err := o.check(call); err != nil {
		return "", "", err
	}
	in, err := params(call)
	if err != nil {
		return "", "", err
	}
	out, err := o.aws.call(ctx, o.svc, call, call.Action, in, o.style)
	if err != nil {
		return "", "", err
	}
	ref, ok := o.job.id(out, in)
	if !ok {
		return "", "", &actors.IntegrationError{Name: "States.TaskFailed",
			Cause: "The " + o.svc.ID + " " + call.Action + " call started no job: " + render(o.svc, out, false)}
	}
	ref.Region, ref.Role = o.aws.regionOf(call.ExecARN), roleOf(call.Task.Credentials)
	b, _ := json.Marshal(ref)
	return render(o.svc, out, o.sdkMeta), string(b), nil
}

// Launch implements actors.JobIntegration: for .sync it polls the job until it ends.
func (o optimizedJob) Launch(ctx context.Context, call actors.IntegrationCall, job string) error {
	if call.Pattern != "sync" {
		return nil
	}
	var ref jobRef
	if err := json.Unmarshal([]byte(job), &ref); err != nil {
		return err
	}
	o.job.mu.Lock()
	defer o.job.mu.Unlock()
	key := call.ExecARN + "#" + strconv.FormatInt(call.Task.ScheduledEventID, 10)
	if o.job.engine == nil || o.job.polling[key] {
		return nil
	}
	if o.job.polling == nil {
		o.job.polling = map[string]bool{}
	}
	o.job.polling[key] = true
	go o.pollUntilDone(call, ref, key)
	return nil
}

func (o optimizedJob) pollUntilDone(call actors.IntegrationCall, ref jobRef, key string) {
	defer func() {
		o.job.mu.Lock()
		delete(o.job.polling, key)
		o.job.mu.Unlock()
	}()
	engine := o.job.engine
	client := o.aws.client(context.Background(), o.svc, ref.Region, ref.Role)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		done, r, err := o.job.poll(ctx, client, ref)
		cancel()
		if err != nil {
			r, done = events.TaskResult{Status: "Failed", Error: "States.TaskFailed", Cause: err.Error()}, true
			if ie, ok := err.(*actors.IntegrationError); ok {
				r.Error, r.Cause = ie.Name, ie.Cause
			}
		}
		if done {
			r.ScheduledEventID = call.Task.ScheduledEventID
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_ = engine.PublishCommand(ctx, events.Command{Kind: events.CmdTaskResult, ExecARN: call.ExecARN,
				Time: engine.Now().UTC(), Task: &r}, key+"#result")
			cancel()
			return
		}
		time.Sleep(o.job.every)
	}
}

// Cancel implements actors.JobIntegration: it stops the job.
func (o optimizedJob) Cancel(ctx context.Context, job string) error {
	var ref jobRef
	if err := json.Unmarshal([]byte(job), &ref); err != nil {
		return err
	}
	return o.job.cancel(ctx, o.aws.client(ctx, o.svc, ref.Region, ref.Role), ref)
}

// Resume implements actors.JobIntegration: after a restart, polling starts again.
func (o optimizedJob) Resume(ctx context.Context, call actors.IntegrationCall, job string) error {
	return o.Launch(ctx, call, job)
}

// Optimized returns the optimized integrations by resource type, bound to the engine
// once it exists (Bind).
type Optimized struct {
	byType map[string]actors.Integration
	jobs   []*syncJob
}

// NewOptimized returns the optimized integrations of the AWS services.
func NewOptimized(a *AWS) *Optimized {
	o := &Optimized{byType: map[string]actors.Integration{}}
	for typ, in := range map[string]*optimized{
		"dynamodb": newDynamoDB(a), "sqs": newSQS(a), "sns": newSNS(a), "events": newEventBridge(a),
		"ecs": newECS(a), "batch": newBatch(a), "glue": newGlue(a),
	} {
		if in.job != nil {
			o.byType[typ] = optimizedJob{in}
			o.jobs = append(o.jobs, in.job)
			continue
		}
		o.byType[typ] = in
	}
	return o
}

// Integrations are the optimized integrations by resource type.
func (o *Optimized) Integrations() map[string]actors.Integration { return o.byType }

// Bind gives the .sync integrations the engine they report to.
func (o *Optimized) Bind(e *actors.Engine) {
	for _, j := range o.jobs {
		j.mu.Lock()
		j.engine = e
		j.mu.Unlock()
	}
}
