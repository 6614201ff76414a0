package integrations

import (
	"context"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/sfnd/sfnd/actors/asl/expr"
	"github.com/sfnd/sfnd/events"
)

// glueService is AWS Glue. By default sfnd points it at its own Glue API (cmd/sfnd),
// so Glue tasks run this server's jobs.
var glueService = Service{ID: "glue", EnvID: "GLUE", SDKName: "Glue",
	New: func(c aws.Config) any { return glue.NewFromConfig(c) }}

// Glue's optimized integration (arn:aws:states:::glue:startJobRun[.sync]): Parameters
// are StartJobRun's (JobName, Arguments, Timeout, ...); request-response answers
// StartJobRun's output (JobRunId); .sync waits for the job run to end and answers
// GetJobRun's JobRun — SUCCEEDED succeeds, FAILED, TIMEOUT, STOPPED and ERROR fail
// with States.TaskFailed and the JobRun as the cause; a stopped parent stops the job
// run (BatchStopJobRun). Errors are Glue.<Code>.
func newGlue(a *AWS) *optimized {
	style := errorStyle{prefix: "Glue", service: "AWSGlue", v1: true}
	return &optimized{aws: a, svc: &glueService, sdkMeta: true, style: style,
		patterns: map[string][]string{"startJobRun": {"", "sync"}},
		job: &syncJob{every: time.Second,
			id: func(out reflect.Value, in *expr.Object) (jobRef, bool) {
				o := out.Interface().(*glue.StartJobRunOutput)
				name, _ := in.Get("JobName")
				job, _ := name.(string)
				if o.JobRunId == nil || job == "" {
					return jobRef{}, false
				}
				return jobRef{ID: *o.JobRunId, Name: job}, true
			},
			poll: func(ctx context.Context, client any, ref jobRef) (bool, events.TaskResult, error) {
				out, err := client.(*glue.Client).GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String(ref.Name), RunId: aws.String(ref.ID)})
				if err != nil {
					return false, events.TaskResult{}, serviceError(err, style)
				}
				if out.JobRun == nil {
					return false, events.TaskResult{}, nil
				}
				desc := expr.Marshal(glueService.Unions.fromShape(reflect.ValueOf(out.JobRun)))
				switch out.JobRun.JobRunState {
				case gluetypes.JobRunStateSucceeded:
					return true, events.TaskResult{Status: "Succeeded", Output: desc}, nil
				case gluetypes.JobRunStateFailed, gluetypes.JobRunStateTimeout, gluetypes.JobRunStateStopped,
					gluetypes.JobRunStateError, gluetypes.JobRunStateExpired:
					return true, events.TaskResult{Status: "Failed", Error: "States.TaskFailed", Cause: desc}, nil
				}
				return false, events.TaskResult{}, nil
			},
			cancel: func(ctx context.Context, client any, ref jobRef) error {
				_, err := client.(*glue.Client).BatchStopJobRun(ctx, &glue.BatchStopJobRunInput{
					JobName: aws.String(ref.Name), JobRunIds: []string{ref.ID}})
				return err
			},
		}}
}
