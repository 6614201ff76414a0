package glue

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/api"
	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// Accounts and regions.
//
// Glue resources of another account or region do not exist for a caller. The Glue
// core, its runs and its workers know resources by name only, so the room keeps each
// caller's resources under names of their own: a caller of the deployment's own
// account and region (--account, --region) uses names as they are; any other caller's
// names get a scope prefix
//
//	"..s" + first 12 hex digits of SHA-256(account "/" region) + ".."
//
// on the way in (every member that names a Glue resource: Name, JobName, CrawlerName,
// WorkflowName, BlueprintName, DependentJobName, their lists, the actions and
// conditions of a trigger, the name in a ResourceArn), and loses it on the way out
// (responses and error messages). Cross-references (a trigger's jobs, a workflow run's
// graph) are stored prefixed, so the core finds the right resource without knowing
// about scopes; top-level lists show only the caller's own. A name that starts like a
// scope prefix is refused from everyone (no caller can reach into another scope), and
// a ResourceArn naming another account or region is EntityNotFoundException. The
// prefix counts against the names' length limits (17 characters).

// scopeKey carries the caller's scope prefix in the context of an operation.
type scopeKey struct{}

var reservedName = regexp.MustCompile(`^\.\.s[0-9a-f]{12}\.\.`)

// scopePrefix is the prefix of the names of a caller: "" for the deployment's own
// account and region.
func (s *Server) scopePrefix(region, account string) string {
	if (region == s.region || region == "") && (account == s.account || account == "") {
		return ""
	}
	sum := sha256.Sum256([]byte(account + "/" + region))
	return "..s" + hex.EncodeToString(sum[:6]) + ".."
}

// scopeOf is the scope prefix an operation runs under.
func scopeOf(ctx context.Context) string { p, _ := ctx.Value(scopeKey{}).(string); return p }

// ownName reports whether a stored top-level resource name belongs to scope p.
func ownName(p, name string) bool {
	if p == "" {
		return !reservedName.MatchString(name)
	}
	return strings.HasPrefix(name, p)
}

// list is the read model's list of Glue resources of a type, without the top-level
// resources of other scopes (runs are listed under their parent, already scoped).
func (s *Server) list(ctx context.Context, typ, parent string) ([]events.GlueResource, error) {
	all, err := s.res.GlueList(ctx, typ, parent)
	if err != nil || parent != "" {
		return all, err
	}
	p := scopeOf(ctx)
	out := all[:0:0]
	for _, rec := range all {
		if ownName(p, rec.Name) {
			out = append(out, rec)
		}
	}
	return out, nil
}

// nameKeys are the request members naming one Glue resource; nameListKeys name several.
var (
	nameKeys     = map[string]bool{"Name": true, "JobName": true, "CrawlerName": true, "WorkflowName": true, "BlueprintName": true, "DependentJobName": true}
	nameListKeys = map[string]bool{"Names": true, "JobNames": true, "CrawlerNames": true, "TriggerNames": true, "CrawlerNameList": true}
	// nested are the members whose objects name resources too (a trigger's actions,
	// its predicate's conditions, an update's trigger).
	nested = map[string]bool{"Actions": true, "Predicate": true, "Conditions": true, "TriggerUpdate": true}
)

// scoped wraps an operation with the caller's scope (see above).
func (s *Server) scoped(fn api.Op) api.Op {
	return func(ctx context.Context, r *request) (any, error) {
		p := s.scopePrefix(r.Region, r.Account)
		ctx = context.WithValue(ctx, scopeKey{}, p)
		if p == "" && !bytes.Contains(r.Body, []byte("ResourceArn")) && !bytes.Contains(r.Body, []byte("..s")) {
			return fn(ctx, r) // nothing to rename, nothing reserved
		}
		body, err := s.scopeRequest(r, p)
		if err != nil {
			return nil, err
		}
		if body != nil {
			scoped := *r
			scoped.Body = body
			r = &scoped
		}
		out, err := fn(ctx, r)
		if p == "" {
			return out, err
		}
		if err != nil {
			return nil, unscopeError(err, p)
		}
		b, merr := json.Marshal(out)
		if merr != nil {
			return nil, errors.Wrap(merr, "encode response")
		}
		return json.RawMessage(bytes.ReplaceAll(b, []byte(p), nil)), nil
	}
}

// scopeRequest returns the request body with the caller's names prefixed (nil: the
// body is left as it is, malformed bodies included: the operation answers them).
func (s *Server) scopeRequest(r *request, p string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, nil
	}
	var refuse error
	var walk func(m map[string]any)
	rename := func(v any) any {
		name, ok := v.(string)
		if !ok {
			return v
		}
		if reservedName.MatchString(name) && refuse == nil {
			refuse = fault.New(InvalidInput, "Name %s starts like an sfnd scope prefix (..s<12 hex digits>..), which sfnd reserves", name)
		}
		return p + name
	}
	walk = func(m map[string]any) {
		for k, v := range m {
			switch {
			case nameKeys[k]:
				m[k] = rename(v)
			case nameListKeys[k]:
				if list, ok := v.([]any); ok {
					for i := range list {
						list[i] = rename(list[i])
					}
				}
			case nested[k]:
				switch x := v.(type) {
				case map[string]any:
					walk(x)
				case []any:
					for _, e := range x {
						if em, ok := e.(map[string]any); ok {
							walk(em)
						}
					}
				}
			case k == "ResourceArn":
				arn, ok := v.(string)
				if !ok {
					continue
				}
				match := glueARN.FindStringSubmatch(arn)
				if match == nil {
					continue // the operation answers a malformed ARN
				}
				parts := strings.SplitN(arn, ":", 6)
				if parts[3] != r.Region || parts[4] != r.Account {
					if refuse == nil {
						refuse = fault.New(EntityNotFound, "Resource not found: %s", arn)
					}
					continue
				}
				i := strings.LastIndex(arn, match[2])
				m[k] = arn[:i] + rename(match[2]).(string)
			}
		}
	}
	walk(top)
	if refuse != nil {
		return nil, refuse
	}
	if p == "" {
		return nil, nil
	}
	b, err := json.Marshal(top)
	return b, errors.Wrap(err, "encode scoped request")
}

// unscopeError removes the scope prefix from an AWS error's message.
func unscopeError(err error, p string) error {
	e, ok := fault.As(err)
	if !ok || !strings.Contains(e.Message, p) {
		return err
	}
	c := *e
	c.Message = strings.ReplaceAll(e.Message, p, "")
	return &c
}
