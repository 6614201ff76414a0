// Package e2e holds sfnd's end-to-end tests: real clients (aws-sdk-go-v2, the AWS
// CLI, boto3) against a real node (embedded NATS JetStream on a temporary
// directory), including restarts and kill -9 of the built binary.
package e2e
