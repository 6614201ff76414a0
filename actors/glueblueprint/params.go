package glueblueprint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/cockroachdb/errors"
)

var (
	roleArnRe  = regexp.MustCompile(`^arn:aws[^:]*:iam::[0-9]*:role/.+$`)
	bucketRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	roleNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

// ResolveParameters checks StartBlueprintRun's Parameters (a JSON object) against a
// parameterSpec and returns the user parameters with defaults filled in. Errors read
// as InvalidInputException messages.
func ResolveParameters(parameterSpec, parameters string) (map[string]any, error) {
	spec := map[string]ParamSpec{}
	if strings.TrimSpace(parameterSpec) != "" {
		if err := json.Unmarshal([]byte(parameterSpec), &spec); err != nil {
			return nil, errors.Newf("The blueprint's parameter specification is not valid: %v", err)
		}
	}
	given := map[string]json.RawMessage{}
	if strings.TrimSpace(parameters) != "" {
		dec := json.NewDecoder(strings.NewReader(parameters))
		dec.UseNumber()
		var probe any
		if err := dec.Decode(&probe); err != nil || dec.More() {
			return nil, errors.New("Parameters is not valid JSON")
		}
		if _, ok := probe.(map[string]any); !ok {
			return nil, errors.New("Parameters must be a JSON object")
		}
		if err := json.Unmarshal([]byte(parameters), &given); err != nil {
			return nil, errors.New("Parameters must be a JSON object")
		}
	}
	var unknown []string
	for name := range given {
		if _, ok := spec[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, errors.Newf("Parameter %s is not defined in the blueprint's parameter specification", unknown[0])
	}
	names := make([]string, 0, len(spec))
	for name := range spec {
		names = append(names, name)
	}
	sort.Strings(names)
	out := map[string]any{}
	for _, name := range names {
		p := spec[name]
		raw, ok := given[name]
		if !ok || string(raw) == "null" {
			if len(p.DefaultValue) == 0 {
				return nil, errors.Newf("Parameter %s is required", name)
			}
			raw = p.DefaultValue
		} else if err := checkValue(name, p, raw, true); err != nil {
			return nil, err
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, errors.Newf("Parameter %s: %v", name, err)
		}
		out[name] = v
	}
	return out, nil
}

// checkValue checks one value (or, for collections, a list of them) against its spec.
func checkValue(name string, p ParamSpec, raw json.RawMessage, strict bool) error {
	if p.Collection {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return errors.Newf("Parameter %s must be a list of %s values", name, p.Type)
		}
		for _, it := range items {
			if err := checkOne(name, p, it, strict); err != nil {
				return err
			}
		}
		return nil
	}
	return checkOne(name, p, raw, strict)
}

func checkOne(name string, p ParamSpec, raw json.RawMessage, strict bool) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return errors.Newf("Parameter %s is not valid JSON", name)
	}
	bad := func(want string) error {
		return errors.Newf("Parameter %s must be %s, not %s", name, want, shorten(string(raw)))
	}
	switch p.Type {
	case "Integer":
		n, ok := v.(json.Number)
		if !ok {
			return bad("an Integer")
		}
		if _, err := n.Int64(); err != nil {
			return bad("an Integer")
		}
	case "Double":
		n, ok := v.(json.Number)
		if !ok {
			return bad("a Double")
		}
		if f, err := n.Float64(); err != nil || math.IsInf(f, 0) {
			return bad("a Double")
		}
	case "Boolean":
		if _, ok := v.(bool); !ok {
			return bad("a Boolean")
		}
	default: // the string types
		s, ok := v.(string)
		if !ok {
			return bad("a " + p.Type + " string")
		}
		if strict && s != "" {
			switch p.Type {
			case "S3Uri":
				if !strings.HasPrefix(s, "s3://") {
					return bad("an S3 URI (s3://bucket/key)")
				}
			case "S3Bucket":
				if !bucketRe.MatchString(s) {
					return bad("an S3 bucket name")
				}
			case "IAMRoleArn":
				if !roleArnRe.MatchString(s) {
					return bad("an IAM role ARN")
				}
			case "IAMRoleName":
				if !roleNameRe.MatchString(s) {
					return bad("an IAM role name")
				}
			}
		}
	}
	if len(p.AllowedValues) > 0 {
		for _, a := range p.AllowedValues {
			if jsonEqual(a, raw) {
				return nil
			}
		}
		allowed := make([]string, len(p.AllowedValues))
		for i, a := range p.AllowedValues {
			allowed[i] = string(a)
		}
		return errors.Newf("Parameter %s must be one of %s, not %s", name, strings.Join(allowed, ", "), shorten(string(raw)))
	}
	return nil
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y) && fmt.Sprintf("%T", x) == fmt.Sprintf("%T", y)
}

func shorten(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}
