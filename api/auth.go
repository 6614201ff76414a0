package api

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events/fault"
)

// Identity is one caller of a credentials file: a profile with its access key, its
// secret and the account its requests act in.
type Identity struct {
	Profile     string
	AccessKeyID string
	Secret      string
	Account     string
}

// Credentials are the identities a server accepts, by access key id.
type Credentials struct {
	byKey map[string]Identity
}

// LoadCredentials reads a credentials file in the AWS shared credentials format, one
// profile per identity:
//
//	[team-a]
//	aws_access_key_id = AKIA...
//	aws_secret_access_key = ...
//	aws_account_id = 111111111111
func LoadCredentials(path string) (*Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "credentials file")
	}
	defer f.Close()
	c, err := ParseCredentials(f)
	return c, errors.Wrapf(err, "credentials file %s", path)
}

// ParseCredentials parses the AWS shared credentials format (see LoadCredentials).
// Every profile needs the three keys; an access key may appear once.
func ParseCredentials(r io.Reader) (*Credentials, error) {
	c := &Credentials{byKey: map[string]Identity{}}
	var profiles []Identity
	cur := -1
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, errors.Newf("line %d: malformed section header", n)
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			name = strings.TrimSpace(strings.TrimPrefix(name, "profile "))
			profiles = append(profiles, Identity{Profile: name})
			cur = len(profiles) - 1
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || cur < 0 {
			return nil, errors.Newf("line %d: expected key = value inside a [profile] section", n)
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch k {
		case "aws_access_key_id":
			profiles[cur].AccessKeyID = v
		case "aws_secret_access_key":
			profiles[cur].Secret = v
		case "aws_account_id":
			profiles[cur].Account = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, p := range profiles {
		switch {
		case p.AccessKeyID == "" || p.Secret == "" || p.Account == "":
			return nil, errors.Newf("profile %q needs aws_access_key_id, aws_secret_access_key and aws_account_id", p.Profile)
		case len(p.Account) != 12 || strings.Trim(p.Account, "0123456789") != "":
			return nil, errors.Newf("profile %q: aws_account_id %q is not 12 digits", p.Profile, p.Account)
		case strings.ContainsAny(p.AccessKeyID, "/ ,="):
			return nil, errors.Newf("profile %q: malformed access key id", p.Profile)
		}
		if _, dup := c.byKey[p.AccessKeyID]; dup {
			return nil, errors.Newf("profile %q: access key id used by another profile", p.Profile)
		}
		c.byKey[p.AccessKeyID] = p
	}
	if len(c.byKey) == 0 {
		return nil, errors.New("no profiles")
	}
	return c, nil
}

// Len is the number of identities.
func (c *Credentials) Len() int { return len(c.byKey) }

// MaxSkew is the clock skew AWS allows between a signature's time and the server's.
const MaxSkew = 5 * time.Minute

// sigV4 is a parsed Authorization header.
type sigV4 struct {
	accessKey, date, region, service, terminator string
	signedHeaders                                []string
	signature                                    string
}

const amzDateFormat = "20060102T150405Z"

// authenticate checks the request's SigV4 signature against the credentials and
// returns the caller and the region its credential scope names. signingName is the
// service's name in the scope ("states", "glue"); empty accepts any.
func (s *Server) authenticate(hr *http.Request, body []byte, signingName string) (Identity, string, error) {
	auth := hr.Header.Get("Authorization")
	if auth == "" {
		return Identity{}, "", fault.New(fault.MissingAuthenticationToken, "Missing Authentication Token")
	}
	sig, err := parseAuthorization(auth, hr.Header)
	if err != nil {
		return Identity{}, "", err
	}
	id, ok := s.cfg.Credentials.byKey[sig.accessKey]
	if !ok {
		return Identity{}, "", fault.New(fault.UnrecognizedClient, "The security token included in the request is invalid.")
	}
	rawDate := hr.Header.Get("X-Amz-Date")
	at, err := time.Parse(amzDateFormat, rawDate)
	if err != nil {
		return Identity{}, "", fault.New(fault.IncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", rawDate)
	}
	now := s.now().UTC()
	switch {
	case at.Before(now.Add(-MaxSkew)):
		return Identity{}, "", fault.New(fault.InvalidSignature, "Signature expired: %s is now earlier than %s (%s - 5 min.)",
			rawDate, now.Add(-MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	case at.After(now.Add(MaxSkew)):
		return Identity{}, "", fault.New(fault.InvalidSignature, "Signature not yet current: %s is still later than %s (%s + 5 min.)",
			rawDate, now.Add(MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if sig.date != rawDate[:8] {
		return Identity{}, "", fault.New(fault.InvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			sig.date, rawDate[:8], rawDate)
	}
	if !ValidRegion(sig.region) {
		return Identity{}, "", fault.New(fault.InvalidSignature, "Credential should be scoped to a valid region, not '%s'. ", sig.region)
	}
	if signingName != "" && sig.service != signingName {
		return Identity{}, "", fault.New(fault.InvalidSignature, "Credential should be scoped to correct service: '%s'. ", signingName)
	}
	if sig.terminator != "aws4_request" {
		return Identity{}, "", fault.New(fault.InvalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", sig.terminator)
	}
	want, err := s.expectedSignature(hr, body, sig, id, at)
	if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(sig.signature)) != 1 {
		return Identity{}, "", fault.New(fault.InvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return id, sig.region, nil
}

// expectedSignature signs a copy of the request that carries exactly the headers the
// client signed, with aws-sdk-go-v2's signer, and returns the signature it computes.
func (s *Server) expectedSignature(hr *http.Request, body []byte, sig sigV4, id Identity, at time.Time) (string, error) {
	u := &url.URL{Scheme: "http", Host: hr.Host, Path: hr.URL.Path, RawPath: hr.URL.RawPath, RawQuery: hr.URL.RawQuery}
	req := &http.Request{Method: hr.Method, URL: u, Host: hr.Host, Header: http.Header{}}
	for _, h := range sig.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = int64(len(body))
		default:
			if vs, ok := hr.Header[http.CanonicalHeaderKey(h)]; ok {
				req.Header[http.CanonicalHeaderKey(h)] = vs
			} else {
				return "", errors.Newf("signed header %s is missing", h)
			}
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: id.AccessKeyID, SecretAccessKey: id.Secret}
	if err := s.signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), sig.service, sig.region, at); err != nil {
		return "", err
	}
	got, err := parseAuthorization(req.Header.Get("Authorization"), req.Header)
	if err != nil {
		return "", err
	}
	// The signer signs every header it is given except a few it never signs
	// (User-Agent, ...): a client that signed one of those is not verifiable.
	if !slices.Equal(got.signedHeaders, sig.signedHeaders) {
		return "", errors.New("signed headers differ")
	}
	return got.signature, nil
}

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/
// states/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex" with AWS's
// IncompleteSignatureException texts for what is missing or malformed.
func parseAuthorization(auth string, h http.Header) (sigV4, error) {
	var sig sigV4
	algo, rest, _ := strings.Cut(strings.TrimSpace(auth), " ")
	var cred, signed string
	if algo == "AWS4-HMAC-SHA256" {
		for _, part := range strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			k, v, ok := strings.Cut(part, "=")
			if !ok {
				return sig, fault.New(fault.IncompleteSignature, "'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", part, auth)
			}
			switch k {
			case "Credential":
				cred = v
			case "SignedHeaders":
				signed = v
			case "Signature":
				sig.signature = v
			}
		}
	}
	var missing []string
	if cred == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if sig.signature == "" {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if signed == "" {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if h.Get("X-Amz-Date") == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return sig, fault.New(fault.IncompleteSignature, "%s Authorization=%s", strings.Join(missing, " "), auth)
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return sig, fault.New(fault.IncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred)
	}
	sig.accessKey, sig.date, sig.region, sig.service, sig.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	sig.signedHeaders = strings.Split(signed, ";")
	return sig, nil
}

// caller is the context key of the authenticated caller.
type callerKey struct{}

// Caller is who a request acts for: the account of its credentials and the region of
// its credential scope. Resources of any other account or region do not exist for it.
type Caller struct {
	Account, Region string
}

// WithCaller returns ctx carrying the caller.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller a request context carries (ok false for work that
// no API request started: recovery, timers, nested executions).
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Owns reports whether an ARN ("arn:<partition>:<service>:<region>:<account>:...")
// belongs to the caller ctx carries; always true without one. ARNs that do not parse
// are left to the operation's own checks.
func Owns(ctx context.Context, arn string) bool {
	c, ok := CallerFrom(ctx)
	if !ok {
		return true
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return true
	}
	return parts[3] == c.Region && parts[4] == c.Account
}
