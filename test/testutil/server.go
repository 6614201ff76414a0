// Package testutil starts real sfnd nodes for tests: an in-process NATS server with
// JetStream on a temporary directory (Port: -1) and the HTTP API on a free port.
package testutil

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sfnd/sfnd/actors"
	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/cmd/sfnd/app"
)

// Options adjusts a test node.
type Options struct {
	DataDir       string  // default t.TempDir()
	WaitTimeScale float64 // default 0.001: Wait states and retries run a thousand times faster
	IdleTimeout   time.Duration
	StartHold     time.Duration // app.Config.StartHold
	// Integrations, LambdaEndpoint and MockConfig are passed to app.Config as they are.
	Integrations   map[string]actors.Integration
	LambdaEndpoint string
	MockConfig     string // path of a MockConfigFile.json
	// GlueWork configures the Glue job runner (command templates, crawl duration, ...).
	GlueWork app.GlueWork
	// S3LocalRoot and S3Endpoint say where s3:// objects live (app.Config).
	S3LocalRoot, S3Endpoint string
	// Endpoints are the AWS services' endpoints for Task integrations, by service id.
	Endpoints map[string]string
	// GlueTimeScale multiplies Glue job timeouts, crawl durations and schedules
	// (default 1: real time).
	GlueTimeScale float64
	// Credentials turn authentication on (app.Config); Now is the clock signatures
	// are checked against.
	Credentials *api.Credentials
	Now         func() time.Time
	// TLSCert and TLSKey serve HTTPS (app.Config).
	TLSCert, TLSKey string
	// NATSWorkerPassword admits outside Glue workers to the node's NATS (app.Config).
	NATSWorkerPassword string
}

// Start starts a node and registers its shutdown with t.Cleanup.
func Start(t testing.TB, opts Options) *app.App {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.WaitTimeScale == 0 {
		opts.WaitTimeScale = 0.001
	}
	a, err := app.Start(context.Background(), app.Config{
		Listen: "127.0.0.1:0", DataDir: opts.DataDir, NATSPort: -1,
		WaitTimeScale: opts.WaitTimeScale, IdleTimeout: opts.IdleTimeout, StartHold: opts.StartHold,
		Integrations: opts.Integrations, LambdaEndpoint: opts.LambdaEndpoint, MockConfig: opts.MockConfig,
		GlueWork:    opts.GlueWork,
		Endpoints:   opts.Endpoints,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		S3LocalRoot: opts.S3LocalRoot, S3Endpoint: opts.S3Endpoint,
		GlueTimeScale: opts.GlueTimeScale,
		Credentials:   opts.Credentials, Now: opts.Now,
		TLSCert: opts.TLSCert, TLSKey: opts.TLSKey,
		NATSWorkerPassword: opts.NATSWorkerPassword,
	})
	if err != nil {
		t.Fatalf("start sfnd: %v", err)
	}
	t.Cleanup(a.Close)
	return a
}

// StartServer starts a node with default options and returns its endpoint.
func StartServer(t testing.TB) string {
	t.Helper()
	return Start(t, Options{}).Endpoint()
}

// Client returns an aws-sdk-go-v2 Step Functions client for endpoint, signing with
// static dummy credentials as every SDK user would.
func Client(endpoint string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  aws.NewCredentialsCache(staticCreds{}),
		// The SDK's own retries (3 attempts) absorb its known client-side race
		// against fast local servers (aws-sdk-go-v2 #1825/#2737: "use of closed network
		// connection" while decoding a large response); errors sfnd answers are not retried.
		RetryMaxAttempts: 3,
		// StartSyncExecution and TestState carry the endpoint host prefix "sync-", which
		// the SDK would put in front of 127.0.0.1; real users of a custom endpoint turn
		// it off the same way (boto3: Config(inject_host_prefix=False)).
		APIOptions: []func(*middleware.Stack) error{func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("sfndNoHostPrefix",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
				}), middleware.Before)
		}},
	})
}

type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", Source: "test"}, nil
}
