package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/cockroachdb/errors"
)

// Region is the region the requests are signed for (the harness's us-east-1).
const Region = "us-east-1"

// sfnClient sends AWS JSON 1.0 requests the way an SDK does and hands back what
// boto3 would return.
type sfnClient struct {
	endpoint string
	http     *http.Client
	signer   *v4.Signer
	creds    aws.Credentials
	model    *serviceModel
}

func newSFNClient(endpoint string, hc *http.Client) (*sfnClient, error) {
	m, err := sfnModel()
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: 90 * time.Second}
	}
	return &sfnClient{
		endpoint: strings.TrimRight(endpoint, "/"),
		http:     hc,
		signer:   v4.NewSigner(),
		creds:    aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "conformance"},
		model:    m,
	}, nil
}

// call makes one API call. op is the API operation name; params are the call's
// arguments (a Python-model dict). It returns the parsed output, or the error boto3
// would raise (a *callError), or another error for a harness failure.
func (c *sfnClient) call(ctx context.Context, op string, params *pyObject) (*pyObject, error) {
	name, ok := c.model.operationName(op)
	if !ok {
		return nil, errors.Newf("'SFN' object has no attribute '%s'", xformName(op))
	}
	if params == nil {
		params = newObject()
	}
	body, cerr := c.model.buildRequest(name, params)
	if cerr != nil {
		return nil, cerr
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, errors.Wrap(err, "building request")
	}
	req.Header.Set("X-Amz-Target", c.model.targetPrefix+"."+name)
	req.Header.Set("Content-Type", "application/x-amz-json-"+c.model.jsonVersion)
	req.Header.Set("User-Agent", "sfnd-conformance/1.0 (botocore-compatible)")
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "states", Region, time.Now().UTC()); err != nil {
		return nil, errors.Wrap(err, "signing request")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(c.endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, transportError(c.endpoint, err)
	}
	out, cerr, err := c.model.parseResponse(name, resp.StatusCode, resp.Header, data)
	if err != nil {
		return nil, errors.Wrapf(err, "parsing %s response", name)
	}
	if cerr != nil {
		return nil, cerr
	}
	return out, nil
}

// transportError maps a transport failure to the BotoCoreError botocore raises.
func transportError(endpoint string, err error) *callError {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &callError{typeName: "ReadTimeoutError", code: "ReadTimeoutError",
			str: `Read timeout on endpoint URL: "` + endpoint + `/"`}
	}
	return &callError{typeName: "EndpointConnectionError", code: "EndpointConnectionError",
		str: `Could not connect to the endpoint URL: "` + endpoint + `/"`}
}
