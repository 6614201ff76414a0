package objects

import (
	"bytes"
	"context"
	stderrors "errors"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Config says where s3:// objects live.
type Config struct {
	// LocalRoot keeps s3://bucket/key in the file LocalRoot/bucket/key (--s3-local-root).
	// It wins over Endpoint.
	LocalRoot string
	// Endpoint is an S3-compatible endpoint URL (--s3-endpoint), addressed path-style.
	// Empty: the SDK's AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (also path-style), else AWS.
	Endpoint string
	// Region signs the requests (default: the SDK's AWS_REGION chain, else us-east-1).
	Region string
	// Credentials sign the requests (default: the SDK's default chain: environment,
	// shared files, ...).
	Credentials aws.CredentialsProvider
	// HTTPClient makes the calls (default: the SDK's).
	HTTPClient *http.Client
}

// New opens the object store the configuration names.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.LocalRoot != "" {
		b, err := newLocalRoot(cfg.LocalRoot)
		if err != nil {
			return nil, err
		}
		return &Store{s3: b}, nil
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(cfg.HTTPClient))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	endpoint := cfg.Endpoint
	envEndpoint := os.Getenv("AWS_ENDPOINT_URL_S3")
	if envEndpoint == "" {
		envEndpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(strings.TrimRight(endpoint, "/"))
		}
		if endpoint != "" || envEndpoint != "" {
			o.UsePathStyle = true // S3-compatible servers rarely resolve bucket.host names
		}
		// Checksums only where S3 requires them: S3-compatible servers differ in the
		// newer trailing-checksum encodings.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	desc := "AWS S3"
	if endpoint != "" {
		desc = "S3 endpoint " + endpoint
	} else if envEndpoint != "" {
		desc = "S3 endpoint " + envEndpoint
	}
	return &Store{s3: &s3Backend{client: client, desc: desc}}, nil
}

// s3Backend talks to S3 (or an S3-compatible server) through aws-sdk-go-v2.
type s3Backend struct {
	client *s3.Client
	desc   string
}

func (b *s3Backend) describe() string { return b.desc }

func (b *s3Backend) get(ctx context.Context, bucket, key string) (*Object, error) {
	rc, obj, err := b.open(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		return nil, s3Error("GetObject", bucket, key, err)
	}
	obj.Body = body
	return obj, nil
}

func (b *s3Backend) open(ctx context.Context, bucket, key string) (io.ReadCloser, *Object, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, nil, s3Error("GetObject", bucket, key, err)
	}
	obj := &Object{Bucket: bucket, Key: key, ETag: aws.ToString(out.ETag), Size: aws.ToInt64(out.ContentLength)}
	if out.LastModified != nil {
		obj.LastModified = out.LastModified.UTC()
	}
	return out.Body, obj, nil
}

func (b *s3Backend) put(ctx context.Context, bucket, key string, body []byte, contentType string) (string, error) {
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	out, err := b.client.PutObject(ctx, in)
	if err != nil {
		return "", s3Error("PutObject", bucket, key, err)
	}
	return aws.ToString(out.ETag), nil
}

func (b *s3Backend) list(ctx context.Context, bucket string, opts ListOptions) ([]Info, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if opts.Prefix != "" {
		in.Prefix = aws.String(opts.Prefix)
	}
	if opts.StartAfter != "" {
		in.StartAfter = aws.String(opts.StartAfter)
	}
	var out []Info
	p := s3.NewListObjectsV2Paginator(b.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s3Error("ListObjectsV2", bucket, opts.Prefix, err)
		}
		for _, o := range page.Contents {
			in := Info{Key: aws.ToString(o.Key), ETag: aws.ToString(o.ETag), Size: aws.ToInt64(o.Size), StorageClass: string(o.StorageClass)}
			if o.LastModified != nil {
				in.LastModified = o.LastModified.UTC()
			}
			if in.StorageClass == "" {
				in.StorageClass = "STANDARD"
			}
			out = append(out, in)
			if opts.Max > 0 && len(out) == opts.Max {
				return out, nil
			}
		}
	}
	return out, nil
}

// s3Error turns an SDK error into an *Error with S3's code, status and request id.
func s3Error(op, bucket, key string, err error) error {
	if stderrors.Is(err, context.Canceled) || stderrors.Is(err, context.DeadlineExceeded) {
		return err
	}
	e := &Error{Op: op, Bucket: bucket, Key: key, Err: err, Code: CodeNoAnswer, Message: err.Error()}
	var nsk *s3types.NoSuchKey
	var nsb *s3types.NoSuchBucket
	var api smithy.APIError
	switch {
	case stderrors.As(err, &nsk):
		e.Code, e.Message = "NoSuchKey", "The specified key does not exist."
	case stderrors.As(err, &nsb):
		e.Code, e.Message = "NoSuchBucket", "The specified bucket does not exist"
	case stderrors.As(err, &api):
		e.Code, e.Message = api.ErrorCode(), api.ErrorMessage()
	}
	var re *awshttp.ResponseError
	if stderrors.As(err, &re) {
		e.StatusCode = re.HTTPStatusCode()
		e.RequestID = re.ServiceRequestID()
		if e.Code == CodeNoAnswer {
			e.Code = http.StatusText(e.StatusCode)
		}
	}
	if e.Message == "" {
		e.Message = e.Code
	}
	return e
}
