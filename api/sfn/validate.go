package sfn

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sfnd/sfnd/api"

	"github.com/sfnd/sfnd/events/fault"
)

// checkedARN returns the ValidationException for the collected violations, or else
// the required ARN member value (present once v holds no violation), answering
// InvalidArn when it is not an ARN of resourceType.
func checkedARN(v violations, value *string, resourceType string) (string, error) {
	if err := v.Err(); err != nil {
		return "", err
	}
	if _, err := parseARN(*value, resourceType); err != nil {
		return "", err
	}
	return *value, nil
}

// validName applies the naming rules of the API reference: 1-80 characters, none of
// white space, brackets, wildcards, the listed special characters, or control
// characters (U+0000-001F, U+007F-009F). Length is checked by the caller's
// violations (AWS answers ValidationException for it); this answers InvalidName.
func validName(name string) error {
	if !utf8.ValidString(name) {
		return fault.New(fault.InvalidName, "Invalid Name: '%s'", name)
	}
	for _, r := range name {
		switch {
		case r <= 0x20, r >= 0x7f && r <= 0x9f:
			return fault.New(fault.InvalidName, "Invalid Name: '%s'", name)
		case strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r):
			return fault.New(fault.InvalidName, "Invalid Name: '%s'", name)
		case r == '\u00a0' || r == '\u2028' || r == '\u2029' || r == '\u3000' || (r >= '\u2000' && r <= '\u200a'):
			return fault.New(fault.InvalidName, "Invalid Name: '%s'", name)
		}
	}
	return nil
}

// arn is a parsed Step Functions ARN:
// arn:<partition>:states:<region>:<account>:<resourceType>:<name>[:<qualifier>[:<more>]].
type arn struct {
	partition, region, account, resourceType, name, qualifier, more string
}

func (a arn) String() string {
	s := "arn:" + a.partition + ":states:" + a.region + ":" + a.account + ":" + a.resourceType + ":" + a.name
	if a.qualifier != "" {
		s += ":" + a.qualifier
	}
	if a.more != "" {
		s += ":" + a.more
	}
	return s
}

// parseARN parses s and checks that its resource type is one of types, answering the
// InvalidArn errors AWS gives.
func parseARN(s string, types ...string) (arn, error) {
	parts := strings.SplitN(s, ":", 9)
	if len(parts) < 7 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "states" {
		return arn{}, fault.New(fault.InvalidArn, "Invalid Arn: 'Invalid ARN prefix: %s'", s)
	}
	a := arn{partition: parts[1], region: parts[3], account: parts[4], resourceType: parts[5], name: parts[6]}
	if len(parts) > 7 {
		a.qualifier = parts[7]
	}
	if len(parts) > 8 {
		a.more = parts[8]
	}
	ok := false
	for _, t := range types {
		ok = ok || a.resourceType == t
	}
	if !ok {
		return a, fault.New(fault.InvalidArn, "Invalid Arn: 'Resource type not valid in this context: %s'", a.resourceType)
	}
	if a.region == "" || a.account == "" || a.name == "" || !api.ValidRegion(a.region) {
		return a, fault.New(fault.InvalidArn, "Invalid Arn: '%s'", s)
	}
	// Nothing after the name may be empty ("...:NAME:::::" is not "...:NAME"), and no
	// Step Functions ARN has more than nine segments.
	segs := strings.Split(s, ":")
	if len(segs) > 9 || slices.Contains(segs[6:], "") {
		return a, fault.New(fault.InvalidArn, "Invalid Arn: '%s'", s)
	}
	return a, nil
}

// resourceARN builds an ARN in the caller's region and account.
func arnFor(r *request, resourceType, name string) string {
	return arn{partition: api.PartitionOf(r.Region), region: r.Region, account: r.Account, resourceType: resourceType, name: name}.String()
}

// encryptionInput is an EncryptionConfiguration member of a request.
type encryptionInput struct {
	Type                         *string `json:"type"`
	KmsKeyID                     *string `json:"kmsKeyId"`
	KmsDataKeyReusePeriodSeconds *int64  `json:"kmsDataKeyReusePeriodSeconds"`
}

// kmsReuseDefault is the data key reuse period AWS applies when a customer managed
// key is given without one.
const kmsReuseDefault = 300

// check records the violations of an encryptionConfiguration member (nil: none given).
func (in *encryptionInput) check(v *violations) {
	if in == nil {
		return
	}
	v.Required("encryptionConfiguration.type", in.Type != nil)
	if in.Type != nil && *in.Type != "AWS_OWNED_KEY" && *in.Type != "CUSTOMER_MANAGED_KMS_KEY" {
		v.Add("Value '%s' at 'encryptionConfiguration.type' failed to satisfy constraint: Member must satisfy enum value set: [AWS_OWNED_KEY, CUSTOMER_MANAGED_KMS_KEY]", *in.Type)
	}
	v.OptionalString("encryptionConfiguration.kmsKeyId", in.KmsKeyID, 1, 2048)
}

// config returns the configuration to store (nil when none was given), or the
// InvalidEncryptionConfiguration AWS answers for a customer managed key without a key
// id or a data key reuse period outside 60..900 seconds. Call it once check recorded
// no violation. Numbers are float64, as a stored record decodes them.
func (in *encryptionInput) config() (map[string]any, error) {
	if in == nil {
		return nil, nil
	}
	out := map[string]any{"type": *in.Type}
	if *in.Type == "CUSTOMER_MANAGED_KMS_KEY" {
		if in.KmsKeyID == nil {
			return nil, fault.New(fault.InvalidEncryption, "Invalid Encryption Configuration: 'kmsKeyId' is required when 'type' is 'CUSTOMER_MANAGED_KMS_KEY'")
		}
		out["kmsDataKeyReusePeriodSeconds"] = float64(kmsReuseDefault)
	}
	if p := in.KmsDataKeyReusePeriodSeconds; p != nil {
		if *p < 60 || *p > 900 {
			return nil, fault.New(fault.InvalidEncryption, "Invalid Encryption Configuration: 'kmsDataKeyReusePeriodSeconds' must be between 60 and 900 seconds, got %d", *p)
		}
		out["kmsDataKeyReusePeriodSeconds"] = float64(*p)
	}
	if in.KmsKeyID != nil {
		out["kmsKeyId"] = *in.KmsKeyID
	}
	return out, nil
}

// checkRoleARN answers InvalidArn for a roleArn that is not an IAM role ARN
// (arn:<partition>:iam::<account>:role/<name>).
func checkRoleARN(role string) error {
	rest, ok := strings.CutPrefix(role, "arn:")
	partition, rest, _ := strings.Cut(rest, ":")
	rest, ok2 := strings.CutPrefix(rest, "iam::")
	account, name, _ := strings.Cut(rest, ":")
	name, ok3 := strings.CutPrefix(name, "role/")
	if !ok || !ok2 || !ok3 || !strings.HasPrefix(partition, "aws") || account == "" || strings.Trim(account, "0123456789") != "" ||
		strings.Trim(name, "/") == "" || strings.ContainsAny(name, ": ") {
		return fault.New(fault.InvalidArn, "Invalid Role Arn: '%s'", role)
	}
	return nil
}

// metadataOnly records an includedData member outside its enum and reports whether
// it asks for METADATA_ONLY (definitions, inputs and outputs left out).
func metadataOnly(v *violations, includedData *string) bool {
	if includedData == nil {
		return false
	}
	switch *includedData {
	case "ALL_DATA":
		return false
	case "METADATA_ONLY":
		return true
	}
	v.Add("Value '%s' at 'includedData' failed to satisfy constraint: Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]", *includedData)
	return false
}

// page holds the pagination parameters every List* call takes.
type page struct {
	MaxResults *int    `json:"maxResults"`
	NextToken  *string `json:"nextToken"`
}

// tokenMaxLen is the nextToken length limit of most List* calls.
const tokenMaxLen = 1024

func (p page) check(v *violations) {
	if p.MaxResults != nil && (*p.MaxResults < 0 || *p.MaxResults > 1000) {
		if *p.MaxResults < 0 {
			v.Add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0", *p.MaxResults)
		} else {
			v.Add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000", *p.MaxResults)
		}
	}
	v.OptionalString("nextToken", p.NextToken, 1, tokenMaxLen)
}

// limit is the page size: maxResults, with 0 or absent meaning the default of 100.
func (p page) limit() int {
	if p.MaxResults == nil || *p.MaxResults == 0 {
		return 100
	}
	return *p.MaxResults
}

// invalidToken is AWS's answer to a nextToken it did not issue (its message never
// echoes the token).
func invalidToken() error { return fault.New(fault.InvalidToken, "Invalid Token: 'Invalid token'") }

// inScope keeps the records whose ARN belongs to the caller's partition, region and
// account: resources are regional, as on AWS.
func inScope[T any](r *request, resourceType string, items []T, arnOf func(T) string) []T {
	prefix := arn{partition: api.PartitionOf(r.Region), region: r.Region, account: r.Account, resourceType: resourceType}.String()
	out := items[:0:0]
	for _, it := range items {
		if strings.HasPrefix(arnOf(it), prefix) {
			out = append(out, it)
		}
	}
	return out
}

// paginate returns the page of items after the token's cursor, and the next token.
// items must be sorted ascending by key.
func paginate[T any](op string, items []T, key func(T) string, p page) ([]T, *string, error) {
	return api.Paginate(op, items, key, p.NextToken, p.limit())
}

func encodeToken(op, after string) *string { return api.EncodeToken(op, after) }

// decodeToken returns the cursor of a nextToken given to op, or InvalidToken.
func decodeToken(op string, tok *string) (string, error) {
	after, err := api.DecodeToken(op, tok)
	if err != nil {
		return "", invalidToken()
	}
	return after, nil
}
