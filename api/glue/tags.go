package glue

import (
	"context"
	"regexp"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

func (s *Server) registerTags() {
	s.ops["TagResource"] = s.tagResource
	s.ops["UntagResource"] = s.untagResource
	s.ops["GetTags"] = s.getTags
}

var glueARN = regexp.MustCompile(`^arn:aws[^:]*:glue:[^:]*:[0-9]*:(workflow|job|trigger|crawler|blueprint)/(.+)$`)

// taggable resolves a resource ARN to its type and name.
func (s *Server) taggable(ctx context.Context, resourceArn *string) (string, string, error) {
	var v violations
	v.RequiredString("resourceArn", resourceArn, 1, 10240)
	if err := v.Err(); err != nil {
		return "", "", err
	}
	m := glueARN.FindStringSubmatch(*resourceArn)
	if m == nil {
		return "", "", fault.New(InvalidInput, "Invalid ARN: %s", *resourceArn)
	}
	if _, err := s.resource(ctx, m[1], "", m[2], func() error {
		return fault.New(EntityNotFound, "Resource not found: %s", *resourceArn)
	}); err != nil {
		return "", "", err
	}
	return m[1], m[2], nil
}

func (s *Server) tagResource(ctx context.Context, r *request) (any, error) {
	var in struct {
		ResourceArn *string           `json:"ResourceArn"`
		TagsToAdd   map[string]string `json:"TagsToAdd"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.Required("tagsToAdd", in.TagsToAdd != nil)
	tagErr := checkTags(&v, in.TagsToAdd)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if tagErr != nil {
		return nil, tagErr
	}
	typ, name, err := s.taggable(ctx, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if _, err := s.mutate(ctx, typ, "", name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", fault.New(EntityNotFound, "Resource not found: %s", *in.ResourceArn)
		}
		next := *cur
		next.Tags = map[string]string{}
		for k, v := range cur.Tags {
			next.Tags[k] = v
		}
		for k, v := range in.TagsToAdd {
			next.Tags[k] = v
		}
		if len(next.Tags) > 50 {
			return nil, "", fault.New(InvalidInput, "New tags would exceed the maximum number of tags (50)")
		}
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) untagResource(ctx context.Context, r *request) (any, error) {
	var in struct {
		ResourceArn  *string  `json:"ResourceArn"`
		TagsToRemove []string `json:"TagsToRemove"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.Required("tagsToRemove", in.TagsToRemove != nil)
	if len(in.TagsToRemove) > 50 {
		v.Add("Value at 'tagsToRemove' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	typ, name, err := s.taggable(ctx, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if _, err := s.mutate(ctx, typ, "", name, func(cur *events.GlueResource) (*events.GlueResource, events.ResourceKind, error) {
		if cur == nil {
			return nil, "", fault.New(EntityNotFound, "Resource not found: %s", *in.ResourceArn)
		}
		next := *cur
		next.Tags = map[string]string{}
		for k, v := range cur.Tags {
			next.Tags[k] = v
		}
		for _, k := range in.TagsToRemove {
			delete(next.Tags, k)
		}
		return &next, events.GlueUpdated, nil
	}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) getTags(ctx context.Context, r *request) (any, error) {
	var in struct {
		ResourceArn *string `json:"ResourceArn"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	typ, name, err := s.taggable(ctx, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	rec, err := s.res.Glue(ctx, typ, "", name)
	if err != nil {
		return nil, err
	}
	tags := rec.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return map[string]any{"Tags": tags}, nil
}
