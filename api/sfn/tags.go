package sfn

import (
	"context"
	"slices"
	"strconv"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// checkTags validates wire tags (key 1-128, value 0-256 characters) and returns them.
func checkTags(v *violations, in []wireTag) []events.Tag {
	var out []events.Tag
	for i, t := range in {
		switch {
		case t.Key == nil:
			v.Required("tags."+itoa(i+1)+".member.key", false)
			continue
		default:
			v.Length("tags."+itoa(i+1)+".member.key", *t.Key, 1, 128)
		}
		val := ""
		if t.Value != nil {
			val = *t.Value
			v.Length("tags."+itoa(i+1)+".member.value", val, 0, 256)
		}
		out = append(out, events.Tag{Key: *t.Key, Value: val})
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func tooManyTags(arn string) error {
	return &fault.Error{Code: fault.TooManyTags, Message: "Too many tags specified for resource: '" + fault.Echo(arn) + "'",
		Extra: map[string]any{"resourceName": fault.Echo(arn)}}
}

// mergeTags adds or overwrites tags, keeping first-seen order.
func mergeTags(cur, add []events.Tag) []events.Tag {
	out := slices.Clone(cur)
	for _, t := range add {
		i := slices.IndexFunc(out, func(o events.Tag) bool { return o.Key == t.Key })
		if i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	return out
}

// taggable resolves a resourceArn to a state machine or activity event subject.
func taggable(resourceArn string) error {
	_, err := parseARN(resourceArn, "stateMachine", "activity")
	return err
}

func resourceNotFound(arn string) error {
	return &fault.Error{Code: fault.ResourceNotFound, Message: "Resource not found: '" + fault.Echo(arn) + "'",
		Extra: map[string]any{"resourceName": fault.Echo(arn)}}
}

func (s *Server) tagResource(ctx context.Context, r *request) (any, error) {
	var in struct {
		ResourceArn *string   `json:"resourceArn"`
		Tags        []wireTag `json:"tags"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("resourceArn", in.ResourceArn, 1, 256)
	v.Required("tags", in.Tags != nil)
	tags := checkTags(&v, in.Tags)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.retag(ctx, *in.ResourceArn, events.TagsAdded, func(cur []events.Tag) ([]events.Tag, error) {
		next := mergeTags(cur, tags)
		if len(next) > maxTags {
			return nil, tooManyTags(*in.ResourceArn)
		}
		return next, nil
	}, tags, nil)
}

func (s *Server) untagResource(ctx context.Context, r *request) (any, error) {
	var in struct {
		ResourceArn *string  `json:"resourceArn"`
		TagKeys     []string `json:"tagKeys"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("resourceArn", in.ResourceArn, 1, 256)
	v.Required("tagKeys", in.TagKeys != nil)
	for i, k := range in.TagKeys {
		v.Length("tagKeys."+itoa(i+1)+".member", k, 1, 128)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.retag(ctx, *in.ResourceArn, events.TagsRemoved, func(cur []events.Tag) ([]events.Tag, error) {
		return slices.DeleteFunc(slices.Clone(cur), func(t events.Tag) bool { return slices.Contains(in.TagKeys, t.Key) }), nil
	}, nil, in.TagKeys)
}

// retag appends a tag event carrying the resource's whole record with its new tags.
func (s *Server) retag(ctx context.Context, resourceArn string, kind events.ResourceKind,
	change func([]events.Tag) ([]events.Tag, error), added []events.Tag, removed []string) (any, error) {
	if err := taggable(resourceArn); err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	_, seq, err := events.Mutate(ctx, s.store, resourceArn, func(cur *events.ResourceEvent) (events.Decision, error) {
		if cur == nil || cur.Kind == events.StateMachineDeleted || cur.Kind == events.ActivityDeleted {
			return nil, resourceNotFound(resourceArn)
		}
		ev := &events.ResourceEvent{Kind: kind, Time: now, ARN: resourceArn, Tags: added, TagKeys: removed}
		var tags *[]events.Tag // the tags of the record the event carries
		switch {
		case cur.StateMachine != nil:
			rec := *cur.StateMachine
			ev.StateMachine, tags = &rec, &rec.Tags
		case cur.Activity != nil:
			rec := *cur.Activity
			ev.Activity, tags = &rec, &rec.Tags
		default:
			return nil, resourceNotFound(resourceArn)
		}
		next, err := change(*tags)
		if err != nil {
			return nil, err
		}
		*tags = next
		return ev, nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.res.WaitFor(ctx, seq); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) listTagsForResource(ctx context.Context, r *request) (any, error) {
	var in struct {
		ResourceArn *string `json:"resourceArn"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("resourceArn", in.ResourceArn, 1, 256)
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, err := parseARN(*in.ResourceArn, "stateMachine", "activity")
	if err != nil {
		return nil, err
	}
	var tags []events.Tag
	if a.resourceType == "stateMachine" {
		var rec events.StateMachineRecord
		rec, err = s.stateMachine(ctx, *in.ResourceArn)
		tags = rec.Tags
	} else {
		var rec events.ActivityRecord
		rec, err = s.activity(ctx, *in.ResourceArn)
		tags = rec.Tags
	}
	if errors.Is(err, events.ErrNotFound) {
		return nil, resourceNotFound(*in.ResourceArn)
	} else if err != nil {
		return nil, err
	}
	out := struct {
		Tags []events.Tag `json:"tags"`
	}{Tags: []events.Tag{}}
	out.Tags = append(out.Tags, tags...)
	return out, nil
}
