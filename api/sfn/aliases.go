package sfn

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// State machine aliases: Create/Describe/Update/Delete/ListStateMachineAliases, and the
// choice of a version when an execution starts through an alias. An alias lives in its
// state machine's Versioning index (events/versions.go), so that routing only to live
// versions and refusing to delete a routed version are decided on one subject.

// aliasNamePattern is AWS's constraint on alias names (the Go regexp package has no
// look-ahead: the "at least one non-digit" part is checked separately).
var aliasNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_\-.]+$`)

const aliasNameRule = `^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$`

// routingItem is a RoutingConfigurationListItem on the wire.
type routingItem struct {
	StateMachineVersionArn *string      `json:"stateMachineVersionArn"`
	Weight                 *json.Number `json:"weight"`
}

// checkAliasName applies the name rules, in AWS's words.
func checkAliasName(v *violations, name string) {
	n := len([]rune(name))
	switch {
	case n < 1:
		v.Add("Value '%s' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1", name)
	case n > 80:
		v.Add("Value '%s' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80", name)
	case !aliasNamePattern.MatchString(name) || strings.Trim(name, "0123456789") == "":
		v.Add("Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", name, aliasNameRule)
	}
}

// checkRouting validates a routing configuration the way AWS does, in AWS's order: the
// list's size and the members' shapes (as request validation), then distinct ARNs, the
// weights' sum, and that every ARN names a version. It returns the entries and the state
// machine they all belong to.
func checkRouting(items []routingItem) ([]events.RoutingEntry, string, error) {
	var v violations
	if len(items) < 1 {
		v.Add("Value '[]' at 'routingConfiguration' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(items) > 2 {
		parts := make([]string, len(items))
		for i, it := range items {
			w := "null"
			if it.Weight != nil {
				w = it.Weight.String()
			}
			parts[i] = "RoutingConfigurationListItem(stateMachineVersionArn=" + deref(it.StateMachineVersionArn) + ", weight=" + w + ")"
		}
		v.Add("Value '[%s]' at 'routingConfiguration' failed to satisfy constraint: Member must have length less than or equal to 2", strings.Join(parts, ", "))
	}
	entries := make([]events.RoutingEntry, 0, len(items))
	for i, it := range items {
		field := "routingConfiguration." + strconv.Itoa(i+1) + ".member."
		v.Required(field+"stateMachineVersionArn", it.StateMachineVersionArn != nil)
		v.Required(field+"weight", it.Weight != nil)
		var e events.RoutingEntry
		if it.StateMachineVersionArn != nil {
			v.Length(field+"stateMachineVersionArn", *it.StateMachineVersionArn, 1, 2000)
			e.StateMachineVersionARN = *it.StateMachineVersionArn
		}
		if it.Weight != nil {
			w, err := strconv.Atoi(it.Weight.String())
			switch {
			case err != nil:
				return nil, "", fault.New(fault.Serialization, "Unexpected value type for field 'weight'")
			case w < 0:
				v.Add("Value '%d' at '%sweight' failed to satisfy constraint: Member must have value greater than or equal to 0", w, field)
			case w > 100:
				v.Add("Value '%d' at '%sweight' failed to satisfy constraint: Member must have value less than or equal to 100", w, field)
			}
			e.Weight = w
		}
		entries = append(entries, e)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	arns := make([]string, len(entries))
	weights := make([]string, len(entries))
	sum := 0
	for i, e := range entries {
		arns[i], weights[i] = e.StateMachineVersionARN, strconv.Itoa(e.Weight)
		sum += e.Weight
	}
	received := "[" + strings.Join(arns, ", ") + "]"
	if len(entries) == 2 && arns[0] == arns[1] {
		return nil, "", fault.New(fault.ValidationException, "Routing configuration must contain distinct state machine version ARNs. Received: %s", received)
	}
	if sum != 100 {
		return nil, "", fault.New(fault.ValidationException, "Sum of routing configuration weights must equal 100. Received: [%s]", strings.Join(weights, ", "))
	}
	smARN := ""
	for _, s := range arns {
		a, err := parseARN(s, "stateMachine")
		if err != nil || versionNumber(a) == 0 {
			return nil, "", fault.New(fault.ValidationException, "Routing configuration must contain state machine version ARNs. Received: %s", received)
		}
		if smARN != "" && baseARN(a) != smARN {
			return nil, "", fault.New(fault.ValidationException, "Routing configuration must contain state machine version ARNs of the same state machine. Received: %s", received)
		}
		smARN = baseARN(a)
	}
	return entries, smARN, nil
}

// referencedNotFound is AWS's ResourceNotFound for a missing alias, version or state
// machine named in an alias request.
func referencedNotFound() error {
	return fault.New(fault.ResourceNotFound, "Request references a resource that does not exist.")
}

// routesExist checks that every routed version is live in the index.
func routesExist(vi *events.Versioning, entries []events.RoutingEntry) error {
	for _, e := range entries {
		a, _ := parseARN(e.StateMachineVersionARN, "stateMachine")
		if vi.Version(versionNumber(a)) == nil {
			return referencedNotFound()
		}
	}
	return nil
}

type createAliasInput struct {
	Name                 *string       `json:"name"`
	Description          *string       `json:"description"`
	RoutingConfiguration []routingItem `json:"routingConfiguration"`
}

type createAliasOutput struct {
	StateMachineAliasArn string `json:"stateMachineAliasArn"`
	CreationDate         Time   `json:"creationDate"`
}

func (s *Server) createStateMachineAlias(ctx context.Context, r *request) (any, error) {
	var in createAliasInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.Required("name", in.Name != nil)
	v.Required("routingConfiguration", in.RoutingConfiguration != nil)
	if in.Name != nil {
		checkAliasName(&v, *in.Name)
	}
	v.OptionalString("description", in.Description, 0, 256)
	if err := v.Err(); err != nil {
		return nil, err
	}
	routing, smARN, err := checkRouting(in.RoutingConfiguration)
	if err != nil {
		return nil, err
	}
	aliasARN := smARN + ":" + *in.Name
	desc := deref(in.Description)
	now := s.cfg.Now().UTC()
	var out createAliasOutput
	_, seq, err := events.Mutate(ctx, s.store, smARN, func(cur *events.ResourceEvent) (events.Decision, error) {
		if liveStateMachine(cur) == nil {
			return nil, referencedNotFound()
		}
		rec := *cur.StateMachine
		if rec.Status == "DELETING" {
			return nil, stateMachineDeleting(smARN)
		}
		if old := rec.Versioning.Alias(aliasARN); old != nil {
			if old.Description == desc && slices.Equal(old.Routing, routing) {
				out = createAliasOutput{StateMachineAliasArn: aliasARN, CreationDate: Time(old.CreationDate)}
				return nil, nil // an idempotent repeat
			}
			return nil, fault.New(fault.ConflictException, "Failed to create alias because an alias with the same name and a different routing configuration already exists.")
		}
		if err := routesExist(rec.Versioning, routing); err != nil {
			return nil, err
		}
		vi := rec.Versioning.Clone()
		vi.Aliases = append(vi.Aliases, events.AliasRecord{
			ARN: aliasARN, Name: *in.Name, Description: desc, Routing: routing, CreationDate: now, UpdateDate: now,
		})
		rec.Versioning = vi
		out = createAliasOutput{StateMachineAliasArn: aliasARN, CreationDate: Time(now)}
		return &events.ResourceEvent{Kind: events.StateMachineAliasCreated, Time: now, ARN: smARN, StateMachine: &rec}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, s.waitForChange(ctx, smARN, seq)
}

// aliasARNInput decodes and checks the stateMachineAliasArn member; it returns the alias
// ARN and its state machine's ARN.
func aliasARN(r *request, in any, arnOf func() *string) (string, string, error) {
	if err := r.Decode(in); err != nil {
		return "", "", err
	}
	p := arnOf()
	var v violations
	v.RequiredString("stateMachineAliasArn", p, 1, 256)
	if err := v.Err(); err != nil {
		return "", "", err
	}
	a, err := parseARN(*p, "stateMachine")
	if err != nil {
		return "", "", err
	}
	if a.qualifier == "" || a.more != "" || versionNumber(a) != 0 {
		return "", "", fault.New(fault.InvalidArn, "Invalid Arn: 'Invalid alias ARN: %s'", *p)
	}
	return *p, baseARN(a), nil
}

// lookupAlias reads an alias from its state machine's record.
func (s *Server) lookupAlias(ctx context.Context, aliasARN, smARN string) (events.AliasRecord, events.StateMachineRecord, error) {
	sm, err := s.stateMachine(ctx, smARN)
	if err != nil && !errors.Is(err, events.ErrNotFound) {
		return events.AliasRecord{}, sm, err
	}
	al := sm.Versioning.Alias(aliasARN)
	if err != nil || al == nil {
		return events.AliasRecord{}, sm, referencedNotFound()
	}
	return *al, sm, nil
}

type describeAliasOutput struct {
	StateMachineAliasArn string                `json:"stateMachineAliasArn"`
	Name                 string                `json:"name"`
	Description          string                `json:"description,omitempty"`
	RoutingConfiguration []events.RoutingEntry `json:"routingConfiguration"`
	CreationDate         Time                  `json:"creationDate"`
	UpdateDate           Time                  `json:"updateDate"`
}

func (s *Server) describeStateMachineAlias(ctx context.Context, r *request) (any, error) {
	var in struct {
		StateMachineAliasArn *string `json:"stateMachineAliasArn"`
	}
	alARN, smARN, err := aliasARN(r, &in, func() *string { return in.StateMachineAliasArn })
	if err != nil {
		return nil, err
	}
	al, _, err := s.lookupAlias(ctx, alARN, smARN)
	if err != nil {
		return nil, err
	}
	return describeAliasOutput{
		StateMachineAliasArn: al.ARN, Name: al.Name, Description: al.Description,
		RoutingConfiguration: al.Routing, CreationDate: Time(al.CreationDate), UpdateDate: Time(al.UpdateDate),
	}, nil
}

func (s *Server) updateStateMachineAlias(ctx context.Context, r *request) (any, error) {
	var in struct {
		StateMachineAliasArn *string       `json:"stateMachineAliasArn"`
		Description          *string       `json:"description"`
		RoutingConfiguration []routingItem `json:"routingConfiguration"`
	}
	alARN, smARN, err := aliasARN(r, &in, func() *string { return in.StateMachineAliasArn })
	if err != nil {
		return nil, err
	}
	var v violations
	v.OptionalString("description", in.Description, 0, 256)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.Description == nil && in.RoutingConfiguration == nil {
		return nil, fault.New(fault.ValidationException, "Either the description or the RoutingConfiguration must be specified")
	}
	var routing []events.RoutingEntry
	if in.RoutingConfiguration != nil {
		var target string
		if routing, target, err = checkRouting(in.RoutingConfiguration); err != nil {
			return nil, err
		}
		if target != smARN {
			return nil, fault.New(fault.ValidationException, "Routing configuration must contain state machine version ARNs of the alias's state machine. Received: [%s]", routing[0].StateMachineVersionARN)
		}
	}
	now := s.cfg.Now().UTC()
	_, seq, err := events.Mutate(ctx, s.store, smARN, func(cur *events.ResourceEvent) (events.Decision, error) {
		if sm := liveStateMachine(cur); sm == nil || sm.Versioning.Alias(alARN) == nil {
			return nil, referencedNotFound()
		}
		rec := *cur.StateMachine
		if routing != nil {
			if err := routesExist(rec.Versioning, routing); err != nil {
				return nil, err
			}
		}
		vi := rec.Versioning.Clone()
		al := vi.Alias(alARN)
		if in.Description != nil {
			al.Description = *in.Description
		}
		if routing != nil {
			al.Routing = routing
		}
		al.UpdateDate = now
		rec.Versioning = vi
		return &events.ResourceEvent{Kind: events.StateMachineAliasUpdated, Time: now, ARN: smARN, StateMachine: &rec}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.res.WaitFor(ctx, seq); err != nil {
		return nil, err
	}
	return struct {
		UpdateDate Time `json:"updateDate"`
	}{Time(now)}, nil
}

func (s *Server) deleteStateMachineAlias(ctx context.Context, r *request) (any, error) {
	var in struct {
		StateMachineAliasArn *string `json:"stateMachineAliasArn"`
	}
	alARN, smARN, err := aliasARN(r, &in, func() *string { return in.StateMachineAliasArn })
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	_, seq, err := events.Mutate(ctx, s.store, smARN, func(cur *events.ResourceEvent) (events.Decision, error) {
		if sm := liveStateMachine(cur); sm == nil || sm.Versioning.Alias(alARN) == nil {
			return nil, nil // deleting what does not exist succeeds, as on AWS
		}
		rec := *cur.StateMachine
		vi := rec.Versioning.Clone()
		vi.Aliases = slices.DeleteFunc(vi.Aliases, func(a events.AliasRecord) bool { return a.ARN == alARN })
		rec.Versioning = vi
		return &events.ResourceEvent{Kind: events.StateMachineAliasDeleted, Time: now, ARN: smARN, StateMachine: &rec}, nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.waitForChange(ctx, smARN, seq)
}

type aliasListItem struct {
	StateMachineAliasArn string `json:"stateMachineAliasArn"`
	CreationDate         Time   `json:"creationDate"`
}

func (s *Server) listStateMachineAliases(ctx context.Context, r *request) (any, error) {
	rec, p, err := s.pagedStateMachine(ctx, r, false)
	if err != nil {
		return nil, err
	}
	var aliases []events.AliasRecord
	if rec.Versioning != nil {
		aliases = rec.Versioning.Aliases // oldest first
	}
	items, next, err := paginate("ListStateMachineAliases", aliases, func(a events.AliasRecord) string {
		return sortKey(a.CreationDate.UnixNano(), a.ARN)
	}, p)
	if err != nil {
		return nil, err
	}
	out := struct {
		StateMachineAliases []aliasListItem `json:"stateMachineAliases"`
		NextToken           *string         `json:"nextToken,omitempty"`
	}{StateMachineAliases: []aliasListItem{}, NextToken: next}
	for _, a := range items {
		out.StateMachineAliases = append(out.StateMachineAliases, aliasListItem{
			StateMachineAliasArn: a.ARN, CreationDate: Time(a.CreationDate),
		})
	}
	return out, nil
}

// pickVersion chooses the version an execution started through an alias runs: each
// routed version with a probability of its weight percent, drawn from the injected source.
func pickVersion(routing []events.RoutingEntry, random func(int) int) string {
	x := random(100)
	for _, e := range routing {
		if x < e.Weight {
			return e.StateMachineVersionARN
		}
		x -= e.Weight
	}
	return routing[len(routing)-1].StateMachineVersionARN
}
