package integrations

import (
	"context"
	stderrors "errors"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithymiddleware "github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/actors/asl/expr"
)

// AWS services: how sfnd reaches them (endpoints, credentials, regions) and the
// shared mechanics of calling one with aws-sdk-go-v2 (Parameters onto the typed input
// struct, the output back as JSON, service errors as the task's error).
//
// Endpoints are configured as the AWS SDKs do: AWS_ENDPOINT_URL_<SERVICE> (the SDK's
// service id, upper case: AWS_ENDPOINT_URL_DYNAMODB), then AWS_ENDPOINT_URL for every
// service, with AWS Step Functions Local's names (DYNAMODB_ENDPOINT, SQS_ENDPOINT, ...)
// as aliases and `sfnd serve --<service>-endpoint` flags above all. Unset means the
// service's real regional AWS endpoint.
//
// Credentials: the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
// environment variables when set, else fixed dummy credentials (what local emulators
// accept). A Task whose Credentials name a literal RoleArn calls with that role,
// assumed through STS (at the STS endpoint configured like any other).
//
// Calls make one attempt: retrying is the state machine's business (Retry).

// Service describes one AWS service sfnd can call.
type Service struct {
	// ID is the service's name in Task resources ("dynamodb" in
	// arn:aws:states:::aws-sdk:dynamodb:getItem).
	ID string
	// EnvID is its id in AWS_ENDPOINT_URL_<EnvID>.
	EnvID string
	// LocalEnv is AWS Step Functions Local's endpoint variable for it, if any.
	LocalEnv string
	// SDKName prefixes the errors of its aws-sdk integration ("DynamoDb" in
	// DynamoDb.ResourceNotFoundException): the service name AWS uses, in PascalCase.
	SDKName string
	// New returns a client for a configuration.
	New func(aws.Config) any
	// Unions are the tagged unions its shapes use.
	Unions unions
}

// AWSConfig configures the calls to AWS services.
type AWSConfig struct {
	// Region is the region of calls made for executions whose region is unknown.
	Region string
	// Endpoints overrides the endpoint of a service by its ID (flags); the environment
	// is read for the others (see EndpointFromEnv).
	Endpoints map[string]string
	// Getenv reads the environment (os.Getenv by default).
	Getenv func(string) string
	// Credentials sign the calls (default: the environment's, else dummy ones).
	Credentials aws.CredentialsProvider
	// HTTPClient makes the calls (default: a client without an overall timeout; a
	// Task's TimeoutSeconds bounds a call).
	HTTPClient *http.Client
}

// AWS makes the calls of every AWS service integration: it keeps one client per
// service, region and role.
type AWS struct {
	cfg     AWSConfig
	mu      sync.Mutex
	clients map[string]any
}

// NewAWS returns the AWS caller.
func NewAWS(cfg AWSConfig) *AWS {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Credentials == nil {
		id, secret := cfg.Getenv("AWS_ACCESS_KEY_ID"), cfg.Getenv("AWS_SECRET_ACCESS_KEY")
		if id == "" || secret == "" {
			id, secret = "sfnd", "sfnd"
		}
		cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, cfg.Getenv("AWS_SESSION_TOKEN"))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	return &AWS{cfg: cfg, clients: map[string]any{}}
}

// Endpoint is the endpoint configured for a service ("" for AWS's own).
func (a *AWS) Endpoint(svc *Service) string {
	if e := a.cfg.Endpoints[svc.ID]; e != "" {
		return e
	}
	return EndpointFromEnv(a.cfg.Getenv, svc)
}

// EndpointFromEnv resolves a service's endpoint from the environment:
// AWS_ENDPOINT_URL_<SERVICE>, Step Functions Local's alias, AWS_ENDPOINT_URL.
func EndpointFromEnv(getenv func(string) string, svc *Service) string {
	if e := getenv("AWS_ENDPOINT_URL_" + svc.EnvID); e != "" {
		return e
	}
	if svc.LocalEnv != "" {
		if e := getenv(svc.LocalEnv); e != "" {
			return e
		}
	}
	return getenv("AWS_ENDPOINT_URL")
}

// client returns the service's client for a region and role ("" for none).
func (a *AWS) client(ctx context.Context, svc *Service, region, role string) any {
	key := svc.ID + "|" + region + "|" + role
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[key]; ok {
		return c
	}
	creds := aws.NewCredentialsCache(a.cfg.Credentials)
	if role != "" {
		stsClient := sts.NewFromConfig(a.awsConfig(&stsService, region, creds))
		creds = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, role,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "sfnd" }))
	}
	c := svc.New(a.awsConfig(svc, region, creds))
	a.clients[key] = c
	return c
}

func (a *AWS) awsConfig(svc *Service, region string, creds aws.CredentialsProvider) aws.Config {
	c := aws.Config{Region: region, Credentials: creds, HTTPClient: a.cfg.HTTPClient, RetryMaxAttempts: 1}
	if e := a.Endpoint(svc); e != "" {
		c.BaseEndpoint = aws.String(strings.TrimRight(e, "/"))
	}
	return c
}

// regionOf is the region of an execution's calls: its ARN's.
func (a *AWS) regionOf(execARN string) string {
	if p := strings.Split(execARN, ":"); len(p) > 4 && p[3] != "" {
		return p[3]
	}
	return a.cfg.Region
}

// roleOf is the literal RoleArn of a Task's Credentials, if any.
func roleOf(credentials string) string {
	if credentials == "" {
		return ""
	}
	v, err := expr.ParseJSON(credentials)
	if obj, ok := v.(*expr.Object); err == nil && ok {
		if r, ok := obj.Get("RoleArn"); ok {
			s, _ := r.(string)
			return s
		}
	}
	return ""
}

// params parses a Task's Parameters (an object; none means {}).
func params(call actors.IntegrationCall) (*expr.Object, error) {
	if strings.TrimSpace(call.Task.Parameters) == "" {
		return expr.NewObject(0), nil
	}
	v, err := expr.ParseJSON(call.Task.Parameters)
	obj, ok := v.(*expr.Object)
	if err != nil || !ok {
		return nil, &actors.IntegrationError{Name: "States.Runtime",
			Cause: "The Parameters of the resource '" + call.Task.Resource + "' must be a JSON object."}
	}
	return obj, nil
}

// errorStyle says how a service error is named and worded: as the optimized
// integrations do (AWS SDK for Java v1: "DynamoDB.ConditionalCheckFailedException",
// "... (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ...; Request ID: ...;
// Proxy: null)") or as aws-sdk integrations do (Java v2: "DynamoDb.<Code>Exception",
// "... (Service: DynamoDb, Status Code: 400, Request ID: ...)").
type errorStyle struct {
	prefix  string // error name prefix: "DynamoDB" or "DynamoDb"
	service string // the "Service:" of the cause: "AmazonDynamoDBv2" or "DynamoDb"
	v1      bool
}

// call invokes the API action of a client by its name (camelCase, as in Task
// resources), with the Parameters set onto its input struct; it answers the output
// struct.
func (a *AWS) call(ctx context.Context, svc *Service, call actors.IntegrationCall, action string, in *expr.Object, style errorStyle) (reflect.Value, error) {
	c := a.client(ctx, svc, a.regionOf(call.ExecARN), roleOf(call.Task.Credentials))
	m := reflect.ValueOf(c).MethodByName(upperFirst(action))
	if !m.IsValid() || m.Type().NumIn() < 2 || m.Type().In(1).Kind() != reflect.Pointer {
		return reflect.Value{}, &actors.IntegrationError{Name: "States.Runtime",
			Cause: "The API action '" + action + "' of the service '" + svc.ID + "' is not served by sfnd (resource '" + call.Task.Resource + "')."}
	}
	input := reflect.New(m.Type().In(1).Elem())
	if err := svc.Unions.toShape(input.Elem(), in, ""); err != nil {
		return reflect.Value{}, &actors.IntegrationError{Name: "States.Runtime",
			Cause: "An error occurred while executing the state '" + call.Task.Resource + "': " + err.Error()}
	}
	out := m.Call([]reflect.Value{reflect.ValueOf(ctx), input})
	if err, _ := out[1].Interface().(error); err != nil {
		return reflect.Value{}, serviceError(err, style)
	}
	return out[0], nil
}

// render is an output struct as JSON; with sdkMeta, the SdkHttpMetadata and
// SdkResponseMetadata members the optimized integrations add.
func render(svc *Service, out reflect.Value, sdkMeta bool) string {
	obj, _ := svc.Unions.fromShape(out).(*expr.Object)
	if obj == nil {
		obj = expr.NewObject(2)
	}
	if sdkMeta {
		var md smithymiddleware.Metadata
		if f := out.Elem().FieldByName("ResultMetadata"); f.IsValid() {
			md, _ = f.Interface().(smithymiddleware.Metadata)
		}
		var header http.Header
		status := 200
		if raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && raw != nil {
			header, status = raw.Header, raw.StatusCode
		}
		obj.Set("SdkHttpMetadata", sdkHTTPMetadata(header, status))
		reqID, _ := awsmiddleware.GetRequestIDMetadata(md)
		meta := expr.NewObject(1)
		meta.Set("RequestId", reqID)
		obj.Set("SdkResponseMetadata", meta)
	}
	return expr.Marshal(obj)
}

// serviceError turns a failed call into the task's error.
func serviceError(err error, style errorStyle) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		cause := err.Error()
		var opErr *smithy.OperationError
		if stderrors.As(err, &opErr) && opErr.Err != nil {
			cause = opErr.Err.Error()
		}
		return &actors.IntegrationError{Name: style.prefix + ".SdkClientException", Cause: "Unable to execute HTTP request: " + cause}
	}
	code := apiErr.ErrorCode()
	if i := strings.LastIndexAny(code, "#"); i >= 0 {
		code = code[i+1:]
	}
	if code == "" || code == "UnknownError" {
		code = "Unknown"
	}
	// The error's name is its shape's: the type aws-sdk-go-v2 models it with
	// (QueueDoesNotExist for SQS's AWS.SimpleQueueService.NonExistentQueue), else its
	// code; the AWS SDKs for Java that Step Functions uses name the exception class
	// <Shape>Exception (SQS.QueueDoesNotExistException, S3.NoSuchKeyException).
	name := code
	if t := reflect.TypeOf(apiErr); t.Kind() == reflect.Pointer && t.Elem().Name() != "GenericAPIError" {
		name = t.Elem().Name()
	}
	if i := strings.LastIndex(name, "."); i >= 0 {
		name = name[i+1:]
	}
	if !strings.HasSuffix(name, "Exception") {
		name += "Exception"
	}
	msg := apiErr.ErrorMessage()
	if msg == "" {
		msg = code
	}
	status, reqID := 0, ""
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status, reqID = respErr.HTTPStatusCode(), respErr.ServiceRequestID()
	}
	if style.v1 {
		cause := msg + " (Service: " + style.service + "; Status Code: " + strconv.Itoa(status) +
			"; Error Code: " + code + "; Request ID: " + reqID + "; Proxy: null)"
		return &actors.IntegrationError{Name: style.prefix + "." + name, Cause: cause}
	}
	cause := msg + " (Service: " + style.service + ", Status Code: " + strconv.Itoa(status) + ", Request ID: " + reqID + ")"
	return &actors.IntegrationError{Name: style.prefix + "." + name, Cause: cause}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
