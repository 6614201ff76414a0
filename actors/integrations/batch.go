package integrations

import (
	"context"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/sfnd/sfnd/actors/asl/expr"
	"github.com/sfnd/sfnd/events"
)

// Batch's optimized integration (arn:aws:states:::batch:submitJob[.sync]):
// Parameters are SubmitJob's (JobName, JobQueue, JobDefinition, Parameters,
// ContainerOverrides, ...); request-response answers SubmitJob's output (JobArn,
// JobId, JobName); .sync waits for the job to end and answers DescribeJobs' detail of
// it — SUCCEEDED succeeds, FAILED fails with States.TaskFailed and the detail as the
// cause; a stopped parent terminates the job. Errors are Batch.<Code>.
func newBatch(a *AWS) *optimized {
	style := errorStyle{prefix: "Batch", service: "AWSBatch", v1: true}
	return &optimized{aws: a, svc: &batchService, sdkMeta: true, style: style,
		patterns: map[string][]string{"submitJob": {"", "sync"}},
		job: &syncJob{every: 2 * time.Second,
			id: func(out reflect.Value, in *expr.Object) (jobRef, bool) {
				o := out.Interface().(*batch.SubmitJobOutput)
				if o.JobId == nil {
					return jobRef{}, false
				}
				return jobRef{ID: *o.JobId}, true
			},
			poll: func(ctx context.Context, client any, ref jobRef) (bool, events.TaskResult, error) {
				out, err := client.(*batch.Client).DescribeJobs(ctx, &batch.DescribeJobsInput{Jobs: []string{ref.ID}})
				if err != nil {
					return false, events.TaskResult{}, serviceError(err, style)
				}
				if len(out.Jobs) == 0 {
					return true, events.TaskResult{Status: "Failed", Error: "States.TaskFailed",
						Cause: "The Batch job " + ref.ID + " no longer exists."}, nil
				}
				j := out.Jobs[0]
				desc := expr.Marshal(batchService.Unions.fromShape(reflect.ValueOf(j)))
				switch j.Status {
				case batchtypes.JobStatusSucceeded:
					return true, events.TaskResult{Status: "Succeeded", Output: desc}, nil
				case batchtypes.JobStatusFailed:
					return true, events.TaskResult{Status: "Failed", Error: "States.TaskFailed", Cause: desc}, nil
				}
				return false, events.TaskResult{}, nil
			},
			cancel: func(ctx context.Context, client any, ref jobRef) error {
				_, err := client.(*batch.Client).TerminateJob(ctx, &batch.TerminateJobInput{JobId: aws.String(ref.ID),
					Reason: aws.String("Terminated by AWS Step Functions")})
				return err
			},
		}}
}
