package integrations

import (
	"context"
	"encoding/json"
	stderrors "errors"
	"github.com/sfnd/sfnd/actors"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/actors/asl/expr"
)

// Lambda tasks: both the legacy resource (a function ARN,
// arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]) and the optimised
// integration (arn:aws:states:::lambda:invoke[.waitForTaskToken]) call the Lambda
// Invoke API (POST /2015-03-31/functions/<name>/invocations, SigV4-signed) at a
// configured endpoint, as AWS Step Functions Local does with its LAMBDA_ENDPOINT.
//
// What the history shows, as AWS records it:
//
//   - function ARN: LambdaFunctionScheduled{resource, input, timeoutInSeconds},
//     LambdaFunctionStarted, then LambdaFunctionSucceeded{output: the payload as the
//     function returned it} or LambdaFunctionFailed{error: the payload's errorType,
//     cause: the payload as returned} or LambdaFunctionTimedOut{States.Timeout}.
//   - lambda:invoke: TaskScheduled{resourceType "lambda", resource "invoke", region,
//     parameters}, TaskStarted, then TaskSucceeded whose output is the Invoke result as
//     the Java SDK AWS uses renders it ({ExecutedVersion, Payload, SdkHttpMetadata,
//     SdkResponseMetadata, StatusCode}) or TaskFailed{error: errorType, cause: the
//     payload re-serialised compactly}.
//   - service errors (no such function, throttling, a failed connection) fail the task
//     with Lambda.<ExceptionName> (Lambda.ResourceNotFoundException,
//     Lambda.TooManyRequestsException, Lambda.ServiceException, ...; an error Lambda
//     does not name is Lambda.AWSLambdaException, a request that never got an answer is
//     Lambda.SdkClientException), with the Java SDK's cause text "<message> (Service:
//     AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID:
//     <id>; Proxy: null)". A function ARN fails with LambdaFunctionFailed the same way.
//
// lambda:invoke.waitForTaskToken invokes the function asynchronously (InvocationType
// Event unless the Parameters name another) and records TaskSubmitted with the Invoke
// result (StatusCode 202); the function answers with SendTaskSuccess/Failure.
//
// Credentials: the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
// environment variables when set, else fixed dummy credentials (what a local Lambda
// emulator accepts). sfnd does not assume the state machine's role.

// LambdaConfig configures the Lambda integration.
type LambdaConfig struct {
	// Endpoint is the base URL of the Lambda API (e.g. http://127.0.0.1:9001). Empty
	// means AWS's regional endpoint of the function's region.
	Endpoint string
	// Region is the region of functions named without one (default us-east-1).
	Region string
	// Credentials sign the calls (default: see the package comment above).
	Credentials aws.CredentialsProvider
	// HTTPClient makes the calls (default: a client without an overall timeout; the
	// Task state's TimeoutSeconds bounds a call).
	HTTPClient *http.Client
}

// Lambda is the actors.Integration of Lambda tasks (resource type "lambda").
type Lambda struct {
	cfg    LambdaConfig
	client *lambda.Client
}

var _ actors.Integration = (*Lambda)(nil)

// NewLambda returns the Lambda integration.
func NewLambda(cfg LambdaConfig) *Lambda {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Credentials == nil {
		id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
		if id == "" || secret == "" {
			id, secret = "sfnd", "sfnd"
		}
		cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	opts := lambda.Options{
		Region:           cfg.Region,
		Credentials:      aws.NewCredentialsCache(cfg.Credentials),
		HTTPClient:       cfg.HTTPClient,
		RetryMaxAttempts: 1, // retrying is the state machine's business (Retry)
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(strings.TrimRight(cfg.Endpoint, "/"))
	}
	return &Lambda{cfg: cfg, client: lambda.New(opts)}
}

// IsLambdaFunctionARN reports whether a Task resource is a Lambda function ARN (the
// legacy way to call a function).
func IsLambdaFunctionARN(resource string) bool {
	p := strings.SplitN(resource, ":", 7)
	return len(p) >= 7 && p[0] == "arn" && p[2] == "lambda" && p[5] == "function"
}

// Invoke implements actors.Integration.
func (l *Lambda) Invoke(ctx context.Context, call actors.IntegrationCall) (string, error) {
	if IsLambdaFunctionARN(call.Task.Resource) {
		return l.invokeFunctionARN(ctx, call)
	}
	if call.Action != "invoke" || (call.Pattern != "" && call.Pattern != "waitForTaskToken") {
		return "", &actors.IntegrationError{Name: "States.Runtime",
			Cause: "The resource '" + call.Task.Resource + "' is not supported by this sfnd server."}
	}
	in, err := lambdaInvokeInput(call)
	if err != nil {
		return "", err
	}
	out, err := l.client.Invoke(ctx, in, l.regionOf(aws.ToString(in.FunctionName)))
	if err != nil {
		return "", lambdaServiceError(err)
	}
	if out.FunctionError != nil {
		name, cause := functionError(out.Payload)
		if v, perr := expr.ParseJSON(string(out.Payload)); perr == nil {
			cause = expr.Marshal(v) // the optimised integration re-serialises the payload
		}
		return "", &actors.IntegrationError{Name: name, Cause: cause}
	}
	return invokeResult(out), nil
}

// invokeFunctionARN calls a function named by its ARN with the state's effective
// input and answers the payload as the function returned it.
func (l *Lambda) invokeFunctionARN(ctx context.Context, call actors.IntegrationCall) (string, error) {
	in := &lambda.InvokeInput{FunctionName: aws.String(call.Task.Resource),
		InvocationType: lambdatypes.InvocationTypeRequestResponse, Payload: []byte(call.Task.Parameters)}
	out, err := l.client.Invoke(ctx, in, l.regionOf(call.Task.Resource))
	if err != nil {
		return "", lambdaServiceError(err)
	}
	if out.FunctionError != nil {
		name, cause := functionError(out.Payload)
		return "", &actors.IntegrationError{Name: name, Cause: cause}
	}
	if len(out.Payload) == 0 {
		return "null", nil
	}
	return string(out.Payload), nil
}

// regionOf sends the call to the region of a function ARN.
func (l *Lambda) regionOf(function string) func(*lambda.Options) {
	region := l.cfg.Region
	if p := strings.Split(function, ":"); len(p) > 4 && p[0] == "arn" && p[3] != "" {
		region = p[3]
	}
	return func(o *lambda.Options) { o.Region = region }
}

// lambdaInvokeInput reads the Parameters of lambda:invoke: FunctionName (required),
// Payload (a string is sent as it is, any other value as JSON; none or null sends no
// payload), InvocationType, Qualifier, ClientContext, LogType.
func lambdaInvokeInput(call actors.IntegrationCall) (*lambda.InvokeInput, error) {
	v, err := expr.ParseJSON(call.Task.Parameters)
	params, ok := v.(*expr.Object)
	if err != nil || !ok {
		return nil, &actors.IntegrationError{Name: "States.Runtime",
			Cause: "The Parameters of the resource '" + call.Task.Resource + "' must be a JSON object."}
	}
	str := func(key string) (string, bool) {
		v, ok := params.Get(key)
		s, isStr := v.(string)
		return s, ok && isStr
	}
	in := &lambda.InvokeInput{}
	name, ok := str("FunctionName")
	if !ok || name == "" {
		return nil, &actors.IntegrationError{Name: "States.Runtime",
			Cause: "The field 'FunctionName' is required by the resource '" + call.Task.Resource + "'."}
	}
	in.FunctionName = aws.String(name)
	if p, ok := params.Get("Payload"); ok && p != nil {
		if s, isStr := p.(string); isStr {
			in.Payload = []byte(s)
		} else {
			in.Payload = []byte(expr.Marshal(p))
		}
	}
	if call.Pattern == "waitForTaskToken" {
		in.InvocationType = lambdatypes.InvocationTypeEvent
	}
	if s, ok := str("InvocationType"); ok {
		in.InvocationType = lambdatypes.InvocationType(s)
	}
	if s, ok := str("Qualifier"); ok {
		in.Qualifier = aws.String(s)
	}
	if s, ok := str("ClientContext"); ok {
		in.ClientContext = aws.String(s)
	}
	if s, ok := str("LogType"); ok {
		in.LogType = lambdatypes.LogType(s)
	}
	return in, nil
}

// functionError names a function's error by the errorType of its payload (a function
// that died without one, e.g. killed by its own timeout, is Lambda.Unknown); the
// cause is the payload as returned.
func functionError(payload []byte) (name, cause string) {
	var e struct {
		ErrorType string `json:"errorType"`
	}
	name = "Lambda.Unknown"
	if json.Unmarshal(payload, &e) == nil && e.ErrorType != "" {
		name = e.ErrorType
	}
	return name, string(payload)
}

// lambdaServiceError turns a failed Invoke call into the task's error.
func lambdaServiceError(err error) error {
	var apiErr smithy.APIError
	var respErr *awshttp.ResponseError
	if !errors.As(err, &apiErr) || !errors.As(err, &respErr) {
		cause := err.Error()
		var opErr *smithy.OperationError
		if stderrors.As(err, &opErr) && opErr.Err != nil {
			cause = opErr.Err.Error()
		}
		return &actors.IntegrationError{Name: "Lambda.SdkClientException", Cause: "Unable to execute HTTP request: " + cause}
	}
	code := apiErr.ErrorCode()
	if code == "" || code == "UnknownError" {
		code = "AWSLambdaException"
	}
	msg := apiErr.ErrorMessage()
	if msg == "" {
		msg = code
	}
	cause := msg + " (Service: AWSLambda; Status Code: " + strconv.Itoa(respErr.HTTPStatusCode()) +
		"; Error Code: " + code + "; Request ID: " + respErr.ServiceRequestID() + "; Proxy: null)"
	return &actors.IntegrationError{Name: "Lambda." + code, Cause: cause}
}

// invokeResult renders a successful Invoke as AWS Step Functions does (its Java SDK's
// InvokeResult): ExecutedVersion, Payload (the payload as JSON when it is JSON, else as
// a string), SdkHttpMetadata {AllHttpHeaders (every value, in java.util.HashMap
// order), HttpHeaders (one value each, case-insensitively sorted), HttpStatusCode},
// SdkResponseMetadata {RequestId}, StatusCode.
func invokeResult(out *lambda.InvokeOutput) string {
	res := expr.NewObject(5)
	if out.ExecutedVersion != nil {
		res.Set("ExecutedVersion", *out.ExecutedVersion)
	}
	var payload any = string(out.Payload)
	if v, err := expr.ParseJSON(string(out.Payload)); err == nil && len(out.Payload) > 0 {
		payload = v
	}
	res.Set("Payload", payload)
	var header http.Header
	status := int(out.StatusCode)
	if raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response); ok && raw != nil {
		header, status = raw.Header, raw.StatusCode
	}
	res.Set("SdkHttpMetadata", sdkHTTPMetadata(header, status))
	reqID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	meta := expr.NewObject(1)
	meta.Set("RequestId", reqID)
	res.Set("SdkResponseMetadata", meta)
	res.Set("StatusCode", json.Number(strconv.Itoa(int(out.StatusCode))))
	return expr.Marshal(res)
}

// awsHeaderNames restores the spelling AWS services use for headers Go canonicalises.
var awsHeaderNames = map[string]string{
	"X-Amzn-Requestid":               "x-amzn-RequestId",
	"X-Amzn-Remapped-Content-Length": "x-amzn-Remapped-Content-Length",
	"X-Amzn-Errortype":               "X-Amzn-ErrorType",
}

func awsHeaderName(k string) string {
	if n, ok := awsHeaderNames[k]; ok {
		return n
	}
	return k
}

// sdkHTTPMetadata is the SdkHttpMetadata of an AWS SDK for Java v1 result.
func sdkHTTPMetadata(h http.Header, status int) *expr.Object {
	names := make([]string, 0, len(h))
	byName := map[string][]string{}
	for k, vs := range h {
		n := awsHeaderName(k)
		names = append(names, n)
		byName[n] = vs
	}
	all := expr.NewObject(len(names))
	for _, n := range javaHashMapOrder(names) {
		vals := make([]any, len(byName[n]))
		for i, v := range byName[n] {
			vals[i] = v
		}
		all.Set(n, vals)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := strings.ToLower(names[i]), strings.ToLower(names[j])
		if a != b {
			return a < b
		}
		return names[i] < names[j]
	})
	one := expr.NewObject(len(names))
	for _, n := range names {
		if vs := byName[n]; len(vs) > 0 {
			one.Set(n, vs[len(vs)-1])
		}
	}
	md := expr.NewObject(3)
	md.Set("AllHttpHeaders", all)
	md.Set("HttpHeaders", one)
	md.Set("HttpStatusCode", json.Number(strconv.Itoa(status)))
	return md
}

// javaHashMapOrder is the iteration order of a java.util.HashMap holding these String
// keys (the order AWS prints AllHttpHeaders in): by bucket, String.hashCode spread as
// HashMap.hash does, over the table size the map grows to; keys sharing a bucket keep
// their insertion order (taken here as name order).
func javaHashMapOrder(keys []string) []string {
	n := 16
	for float64(len(keys)) > 0.75*float64(n) {
		n *= 2
	}
	bucket := func(s string) int {
		var h int32
		for _, c := range s {
			if c >= 0x10000 {
				hi, lo := 0xD800+((c-0x10000)>>10), 0xDC00+((c-0x10000)&0x3FF)
				h = 31*h + hi
				h = 31*h + lo
				continue
			}
			h = 31*h + c
		}
		u := uint32(h)
		u ^= u >> 16
		return int(u & uint32(n-1))
	}
	out := append([]string(nil), keys...)
	sort.SliceStable(out, func(i, j int) bool {
		bi, bj := bucket(out[i]), bucket(out[j])
		if bi != bj {
			return bi < bj
		}
		return out[i] < out[j]
	})
	return out
}
