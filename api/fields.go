package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sfnd/sfnd/events/fault"
)

// Violations collects "1 validation error detected: ..." items the way AWS's request
// validation words them (the same words for every AWS JSON service).
type Violations []string

// Add records one violation.
// String arguments longer than fault.MaxEcho are cut short.
func (v *Violations) Add(format string, args ...any) {
	*v = append(*v, fmt.Sprintf(format, fault.EchoArgs(args)...))
}

// Required records a missing required member.
func (v *Violations) Required(field string, present bool) {
	if !present {
		v.Add("Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
}

// Length records a string outside [min, max] characters.
func (v *Violations) Length(field, value string, min, max int) {
	n := utf8.RuneCountInString(value)
	switch {
	case n < min:
		v.Add("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", value, field, min)
	case n > max:
		v.Add("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", value, field, max)
	}
}

// RequiredString records a missing required string member, or one outside [min, max]
// characters.
func (v *Violations) RequiredString(field string, value *string, min, max int) {
	v.Required(field, value != nil)
	v.OptionalString(field, value, min, max)
}

// OptionalString records an optional string member, when given, outside [min, max]
// characters.
func (v *Violations) OptionalString(field string, value *string, min, max int) {
	if value != nil {
		v.Length(field, *value, min, max)
	}
}

// Err returns the ValidationException for the collected violations, or nil.
func (v Violations) Err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		// Each item's values were capped when it was added.
		return &fault.Error{Code: fault.ValidationException, Message: "1 validation error detected: " + v[0]}
	}
	return &fault.Error{Code: fault.ValidationException, Message: fmt.Sprintf("%d validation errors detected: %s", len(v), strings.Join(v, "; "))}
}

// cursor is what a nextToken carries: the sort key of the last item returned.
type cursor struct {
	Op    string `json:"o"`
	After string `json:"a"`
}

// EncodeToken returns an opaque pagination token for op that resumes after the
// sort key after.
func EncodeToken(op, after string) *string {
	b, _ := json.Marshal(cursor{Op: op, After: after})
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// ErrBadToken is returned by DecodeToken for a token it did not issue; each service
// answers it with its own error.
var ErrBadToken = fault.New(fault.InvalidToken, "Invalid Token: 'Invalid token'")

// DecodeToken returns the cursor of a token EncodeToken issued for op ("" for none),
// or ErrBadToken.
func DecodeToken(op string, tok *string) (string, error) {
	if tok == nil {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*tok)
	var c cursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.Op != op {
		return "", ErrBadToken
	}
	return c.After, nil
}

// Paginate returns the page of at most limit items after the token's cursor, and the
// next token. items must be sorted ascending by key.
func Paginate[T any](op string, items []T, key func(T) string, token *string, limit int) ([]T, *string, error) {
	after, err := DecodeToken(op, token)
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
	end := min(start+limit, len(items))
	out := items[start:end]
	if end < len(items) && len(out) > 0 {
		return out, EncodeToken(op, key(out[len(out)-1])), nil
	}
	return out, nil, nil
}
