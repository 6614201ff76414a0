package integrations

import (
	"context"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sfnd/sfnd/actors"
)

// aws-sdk:* integrations: arn:aws:states:::aws-sdk:<service>:<action> calls any API
// action of a served service by name, its Parameters mapped onto aws-sdk-go-v2's
// input struct, its output rendered back with the API's member names; errors are
// <Service>.<Code>Exception (DynamoDb.ResourceNotFoundException,
// S3.NoSuchKeyException), as AWS documents for SDK integrations. Request-response and
// .waitForTaskToken patterns (the Tasks machinery handles the token).

var dynamodbUnions = func() unions {
	u := unions{}
	u.add(reflect.TypeFor[ddbtypes.AttributeValue](),
		&ddbtypes.AttributeValueMemberB{}, &ddbtypes.AttributeValueMemberBOOL{}, &ddbtypes.AttributeValueMemberBS{},
		&ddbtypes.AttributeValueMemberL{}, &ddbtypes.AttributeValueMemberM{}, &ddbtypes.AttributeValueMemberN{},
		&ddbtypes.AttributeValueMemberNS{}, &ddbtypes.AttributeValueMemberNULL{}, &ddbtypes.AttributeValueMemberS{},
		&ddbtypes.AttributeValueMemberSS{})
	return u
}()

var (
	dynamodbService = Service{ID: "dynamodb", EnvID: "DYNAMODB", LocalEnv: "DYNAMODB_ENDPOINT", SDKName: "DynamoDb",
		New: func(c aws.Config) any { return dynamodb.NewFromConfig(c) }, Unions: dynamodbUnions}
	sqsService = Service{ID: "sqs", EnvID: "SQS", LocalEnv: "SQS_ENDPOINT", SDKName: "Sqs",
		New: func(c aws.Config) any { return sqs.NewFromConfig(c) }}
	snsService = Service{ID: "sns", EnvID: "SNS", LocalEnv: "SNS_ENDPOINT", SDKName: "Sns",
		New: func(c aws.Config) any { return sns.NewFromConfig(c) }}
	eventBridgeService = Service{ID: "eventbridge", EnvID: "EVENTBRIDGE", LocalEnv: "EVENTBRIDGE_ENDPOINT", SDKName: "EventBridge",
		New: func(c aws.Config) any { return eventbridge.NewFromConfig(c) }}
	ecsService = Service{ID: "ecs", EnvID: "ECS", LocalEnv: "ECS_ENDPOINT", SDKName: "Ecs",
		New: func(c aws.Config) any { return ecs.NewFromConfig(c) }}
	batchService = Service{ID: "batch", EnvID: "BATCH", LocalEnv: "BATCH_ENDPOINT", SDKName: "Batch",
		New: func(c aws.Config) any { return batch.NewFromConfig(c) }}
	s3Service = Service{ID: "s3", EnvID: "S3", LocalEnv: "S3_ENDPOINT", SDKName: "S3",
		New: func(c aws.Config) any {
			return s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = c.BaseEndpoint != nil })
		}}
	lambdaService = Service{ID: "lambda", EnvID: "LAMBDA", LocalEnv: "LAMBDA_ENDPOINT", SDKName: "Lambda",
		New: func(c aws.Config) any { return lambda.NewFromConfig(c) }}
	kinesisService = Service{ID: "kinesis", EnvID: "KINESIS", LocalEnv: "KINESIS_ENDPOINT", SDKName: "Kinesis",
		New: func(c aws.Config) any { return kinesis.NewFromConfig(c) }}
	stsService = Service{ID: "sts", EnvID: "STS", LocalEnv: "STS_ENDPOINT", SDKName: "Sts",
		New: func(c aws.Config) any { return sts.NewFromConfig(c) }}
)

// Services are the AWS services sfnd calls, by ID.
var Services = map[string]*Service{}

func init() {
	for _, s := range []*Service{&dynamodbService, &sqsService, &snsService, &eventBridgeService, &ecsService,
		&batchService, &s3Service, &lambdaService, &kinesisService, &stsService, &glueService} {
		Services[s.ID] = s
	}
}

// SDK is the integration of one service's aws-sdk:* resources (resource type
// "aws-sdk:<service>").
type SDK struct {
	aws *AWS
	svc *Service
}

var _ actors.Integration = (*SDK)(nil)

// SDKIntegrations returns the aws-sdk integrations of every served service, by
// resource type.
func SDKIntegrations(a *AWS) map[string]actors.Integration {
	m := map[string]actors.Integration{}
	for id, s := range Services {
		m["aws-sdk:"+id] = &SDK{aws: a, svc: s}
	}
	return m
}

// Invoke implements actors.Integration.
func (s *SDK) Invoke(ctx context.Context, call actors.IntegrationCall) (string, error) {
	if call.Pattern != "" && call.Pattern != "waitForTaskToken" {
		return "", &actors.IntegrationError{Name: "States.Runtime",
			Cause: "The resource '" + call.Task.Resource + "' is not supported by this sfnd server: aws-sdk integrations serve the request-response and .waitForTaskToken patterns."}
	}
	in, err := params(call)
	if err != nil {
		return "", err
	}
	out, err := s.aws.call(ctx, s.svc, call, strings.TrimSpace(call.Action), in,
		errorStyle{prefix: s.svc.SDKName, service: s.svc.SDKName})
	if err != nil {
		return "", err
	}
	return render(s.svc, out, false), nil
}

// ServiceIDs lists the served services' IDs, sorted.
func ServiceIDs() []string {
	ids := make([]string, 0, len(Services))
	for id := range Services {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
