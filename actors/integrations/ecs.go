package integrations

import (
	"context"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/sfnd/sfnd/actors/asl/expr"
	"github.com/sfnd/sfnd/events"
)

// ECS's optimized integration (arn:aws:states:::ecs:runTask[.sync|.waitForTaskToken]):
// Parameters are RunTask's (Cluster, TaskDefinition, LaunchType, Overrides,
// NetworkConfiguration, ...); request-response answers RunTask's output; .sync waits
// for the task to stop and answers DescribeTasks' description of it — the task
// succeeds when every essential container exited 0, otherwise it fails with
// States.TaskFailed and the description as the cause; a stopped parent stops the ECS
// task (StopTask). Errors are ECS.<Code>.
func newECS(a *AWS) *optimized {
	return &optimized{aws: a, svc: &ecsService, sdkMeta: true,
		style:    errorStyle{prefix: "ECS", service: "AmazonECS", v1: true},
		patterns: map[string][]string{"runTask": {"", "sync", "waitForTaskToken"}},
		job: &syncJob{every: 2 * time.Second,
			id: func(out reflect.Value, in *expr.Object) (jobRef, bool) {
				o := out.Interface().(*ecs.RunTaskOutput)
				if len(o.Tasks) == 0 || o.Tasks[0].TaskArn == nil {
					return jobRef{}, false
				}
				return jobRef{Cluster: aws.ToString(o.Tasks[0].ClusterArn), ID: *o.Tasks[0].TaskArn}, true
			},
			poll: func(ctx context.Context, client any, ref jobRef) (bool, events.TaskResult, error) {
				c := client.(*ecs.Client)
				out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: nilIfEmpty(ref.Cluster), Tasks: []string{ref.ID}})
				if err != nil {
					return false, events.TaskResult{}, serviceError(err, errorStyle{prefix: "ECS", service: "AmazonECS", v1: true})
				}
				if len(out.Tasks) == 0 {
					return true, events.TaskResult{Status: "Failed", Error: "States.TaskFailed",
						Cause: "The ECS task " + ref.ID + " no longer exists."}, nil
				}
				t := out.Tasks[0]
				if aws.ToString(t.LastStatus) != "STOPPED" {
					return false, events.TaskResult{}, nil
				}
				desc := expr.Marshal(ecsService.Unions.fromShape(reflect.ValueOf(t)))
				for _, ct := range t.Containers {
					if ct.ExitCode == nil || *ct.ExitCode != 0 {
						return true, events.TaskResult{Status: "Failed", Error: "States.TaskFailed", Cause: desc}, nil
					}
				}
				return true, events.TaskResult{Status: "Succeeded", Output: desc}, nil
			},
			cancel: func(ctx context.Context, client any, ref jobRef) error {
				_, err := client.(*ecs.Client).StopTask(ctx, &ecs.StopTaskInput{Cluster: nilIfEmpty(ref.Cluster),
					Task: aws.String(ref.ID), Reason: aws.String("Stopped by AWS Step Functions")})
				return err
			},
		}}
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
