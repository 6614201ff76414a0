package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sfnd/sfnd/events/fault"
)

// violations collects "1 validation error detected: ..." items the way AWS's request
// validation words them.
type violations []string

func (v *violations) add(format string, args ...any) { *v = append(*v, fmt.Sprintf(format, args...)) }

// required records a missing required member.
func (v *violations) required(field string, present bool) {
	if !present {
		v.add("Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
}

// length records a string outside [min, max] characters.
func (v *violations) length(field, value string, min, max int) {
	n := utf8.RuneCountInString(value)
	switch {
	case n < min:
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", value, field, min)
	case n > max:
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", value, field, max)
	}
}

// requiredString records a missing required string member, or one outside [min, max]
// characters.
func (v *violations) requiredString(field string, value *string, min, max int) {
	v.required(field, value != nil)
	v.optionalString(field, value, min, max)
}

// optionalString records an optional string member, when given, outside [min, max]
// characters.
func (v *violations) optionalString(field string, value *string, min, max int) {
	if value != nil {
		v.length(field, *value, min, max)
	}
}

// err returns the ValidationException for the collected violations, or nil.
func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return fault.New(fault.ValidationException, "1 validation error detected: %s", v[0])
	}
	return fault.New(fault.ValidationException, "%d validation errors detected: %s", len(v), strings.Join(v, "; "))
}

// checkedARN returns the ValidationException for the collected violations, or else
// the required ARN member value (present once v holds no violation), answering
// InvalidArn when it is not an ARN of resourceType.
func (v violations) checkedARN(value *string, resourceType string) (string, error) {
	if err := v.err(); err != nil {
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
	if a.region == "" || a.account == "" || a.name == "" {
		return a, fault.New(fault.InvalidArn, "Invalid Arn: '%s'", s)
	}
	return a, nil
}

// resourceARN builds an ARN in the caller's region and account.
func (r *request) arnFor(resourceType, name string) string {
	return arn{partition: partitionOf(r.region), region: r.region, account: r.account, resourceType: resourceType, name: name}.String()
}

func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
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
			v.add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0", *p.MaxResults)
		} else {
			v.add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000", *p.MaxResults)
		}
	}
	v.optionalString("nextToken", p.NextToken, 1, tokenMaxLen)
}

// limit is the page size: maxResults, with 0 or absent meaning the default of 100.
func (p page) limit() int {
	if p.MaxResults == nil || *p.MaxResults == 0 {
		return 100
	}
	return *p.MaxResults
}

// cursor is what a nextToken carries: the sort key of the last item returned.
type cursor struct {
	Op    string `json:"o"`
	After string `json:"a"`
}

func encodeToken(op, after string) *string {
	b, _ := json.Marshal(cursor{Op: op, After: after})
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// decodeToken returns the cursor of a nextToken given to op, or InvalidToken.
func decodeToken(op string, tok *string) (string, error) {
	if tok == nil {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*tok)
	var c cursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.Op != op {
		return "", invalidToken()
	}
	return c.After, nil
}

// invalidToken is AWS's answer to a nextToken it did not issue (its message never
// echoes the token).
func invalidToken() error { return fault.New(fault.InvalidToken, "Invalid Token: 'Invalid token'") }

// inScope keeps the records whose ARN belongs to the caller's partition, region and
// account: resources are regional, as on AWS.
func inScope[T any](r *request, resourceType string, items []T, arnOf func(T) string) []T {
	prefix := arn{partition: partitionOf(r.region), region: r.region, account: r.account, resourceType: resourceType}.String()
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
	after, err := decodeToken(op, p.NextToken)
	if err != nil {
		return nil, nil, err
	}
	start := 0
	if after != "" {
		// items are sorted by key: resume after the cursor even if its item is gone.
		start = len(items)
		for i, it := range items {
			if key(it) > after {
				start = i
				break
			}
		}
	}
	n := p.limit()
	end := min(start+n, len(items))
	out := items[start:end]
	if end < len(items) && len(out) > 0 {
		return out, encodeToken(op, key(out[len(out)-1])), nil
	}
	return out, nil, nil
}
