// Package glue tests sfnd's AWS Glue API end to end: aws-sdk-go-v2's Glue client (and
// boto3 scenarios) against a real node.
package glue

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/smithy-go"

	"github.com/sfnd/sfnd/cmd/sfnd/app"
	"github.com/sfnd/sfnd/test/testutil"
)

var ctx = context.Background()

type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", Source: "test"}, nil
}

// client returns a Glue client for a node.
func client(a *app.App) *glue.Client {
	return glue.New(glue.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(a.Endpoint()),
		// The SDK's retries absorb its known client-side race against fast local
		// servers (aws-sdk-go-v2 #1825/#2737, see testutil.Client); errors sfnd
		// answers are not retried.
		Credentials: aws.NewCredentialsCache(staticCreds{}), RetryMaxAttempts: 3,
	})
}

// start starts a node and returns it with a Glue client.
func start(t *testing.T) (*app.App, *glue.Client) {
	t.Helper()
	a := testutil.Start(t, testutil.Options{})
	return a, client(a)
}

// wantCode fails the test unless err is the AWS error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// result is a call's answer; ok fails the test on its error: do(c.Op(...)).ok(t).
type result[T any] struct {
	v   T
	err error
}

func do[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) ok(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}
