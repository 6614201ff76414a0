package sfn

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/events/fault"
)

// taskAPI holds what the task operations need.
type taskAPI struct {
	tasks *actors.Tasks
	// poll is the longest GetActivityTask holds a request (AWS: 60 s).
	poll time.Duration
}

// EnableTasks registers the activity worker and callback operations: GetActivityTask,
// SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat.
func (s *Server) EnableTasks(tasks *actors.Tasks) {
	t := &taskAPI{tasks: tasks, poll: actors.MaxPoll}
	s.ops["GetActivityTask"] = func(ctx context.Context, r *request) (any, error) { return s.getActivityTask(ctx, t, r) }
	s.ops["SendTaskSuccess"] = func(ctx context.Context, r *request) (any, error) { return sendTaskSuccess(ctx, t, r) }
	s.ops["SendTaskFailure"] = func(ctx context.Context, r *request) (any, error) { return sendTaskFailure(ctx, t, r) }
	s.ops["SendTaskHeartbeat"] = func(ctx context.Context, r *request) (any, error) { return sendTaskHeartbeat(ctx, t, r) }
}

type getActivityTaskOutput struct {
	TaskToken *string `json:"taskToken,omitempty"`
	Input     *string `json:"input,omitempty"`
}

func (s *Server) getActivityTask(ctx context.Context, t *taskAPI, r *request) (any, error) {
	var in struct {
		ActivityArn *string `json:"activityArn"`
		WorkerName  *string `json:"workerName"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("activityArn", in.ActivityArn, 1, 256)
	v.OptionalString("workerName", in.WorkerName, 1, 80)
	actARN, err := checkedARN(v, in.ActivityArn, "activity")
	if err != nil {
		return nil, err
	}
	if _, err := s.LookupActivity(ctx, actARN); err != nil {
		return nil, err
	}
	task, err := t.tasks.Poll(ctx, actARN, deref(in.WorkerName), t.poll)
	if err != nil {
		return nil, err
	}
	if task == nil {
		return getActivityTaskOutput{}, nil
	}
	return getActivityTaskOutput{TaskToken: &task.Token, Input: &task.Input}, nil
}

// checkToken validates the taskToken member.
func checkToken(v *violations, tok *string) {
	v.RequiredString("taskToken", tok, 1, 2048)
}

func sendTaskSuccess(ctx context.Context, t *taskAPI, r *request) (any, error) {
	var in struct {
		TaskToken *string `json:"taskToken"`
		Output    *string `json:"output"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	checkToken(&v, in.TaskToken)
	v.Required("output", in.Output != nil)
	if in.Output != nil && len(*in.Output) > maxPayload {
		v.Add("Value at 'output' failed to satisfy constraint: Member must have length less than or equal to %d", maxPayload)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !json.Valid([]byte(*in.Output)) {
		return nil, fault.New(fault.InvalidOutput, "Invalid Output: 'The output is not valid JSON'")
	}
	if err := t.owned(ctx, *in.TaskToken); err != nil {
		return nil, err
	}
	return struct{}{}, taskError(t.tasks.Succeed(ctx, *in.TaskToken, *in.Output))
}

func sendTaskFailure(ctx context.Context, t *taskAPI, r *request) (any, error) {
	var in struct {
		TaskToken *string `json:"taskToken"`
		Error     *string `json:"error"`
		Cause     *string `json:"cause"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	checkToken(&v, in.TaskToken)
	v.OptionalString("error", in.Error, 0, 256)
	v.OptionalString("cause", in.Cause, 0, 32768)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := t.owned(ctx, *in.TaskToken); err != nil {
		return nil, err
	}
	return struct{}{}, taskError(t.tasks.Fail(ctx, *in.TaskToken, deref(in.Error), deref(in.Cause)))
}

func sendTaskHeartbeat(ctx context.Context, t *taskAPI, r *request) (any, error) {
	var in struct {
		TaskToken *string `json:"taskToken"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	checkToken(&v, in.TaskToken)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := t.owned(ctx, *in.TaskToken); err != nil {
		return nil, err
	}
	return struct{}{}, taskError(t.tasks.Heartbeat(ctx, *in.TaskToken))
}

// owned refuses a task token of another account or region like a forged one: a
// token is bound to the account and region of the execution that issued it.
func (t *taskAPI) owned(ctx context.Context, token string) error {
	execARN, err := t.tasks.TokenExecution(token)
	if err != nil {
		return taskError(err)
	}
	if !api.Owns(ctx, execARN) {
		return taskError(actors.ErrInvalidToken)
	}
	return nil
}

// taskError maps the task errors of actors to their AWS errors.
func taskError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, actors.ErrInvalidToken):
		return fault.New(fault.InvalidToken, "Invalid Token: 'Invalid token'")
	case errors.Is(err, actors.ErrTaskTimedOut):
		return fault.New(fault.TaskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'")
	case errors.Is(err, actors.ErrTaskDoesNotExist):
		return fault.New(fault.TaskDoesNotExist, "Task Does Not Exist: 'Provided task does not exist'")
	}
	return err
}
