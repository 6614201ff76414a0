package sfn

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

type createActivityInput struct {
	Name                    *string          `json:"name"`
	Tags                    []wireTag        `json:"tags"`
	EncryptionConfiguration *encryptionInput `json:"encryptionConfiguration"`
}

type activityOutput struct {
	ActivityArn  string `json:"activityArn"`
	CreationDate Time   `json:"creationDate"`
}

func (s *Server) createActivity(ctx context.Context, r *request) (any, error) {
	var in createActivityInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("name", in.Name, 1, 80)
	tags := checkTags(&v, in.Tags)
	in.EncryptionConfiguration.check(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := validName(*in.Name); err != nil {
		return nil, err
	}
	encryption, err := in.EncryptionConfiguration.config()
	if err != nil {
		return nil, err
	}
	actARN := arnFor(r, "activity", *in.Name)
	if len(tags) > maxTags {
		return nil, tooManyTags(actARN)
	}
	now := s.cfg.Now().UTC()
	rec := events.ActivityRecord{ARN: actARN, Name: *in.Name, CreationDate: now, Encryption: encryption, Tags: tags}
	var existing *events.ActivityRecord
	_, seq, err := events.Mutate(ctx, s.store, actARN, func(cur *events.ResourceEvent) (events.Decision, error) {
		existing = nil
		if cur != nil && cur.Kind != events.ActivityDeleted && cur.Activity != nil {
			existing = cur.Activity // CreateActivity is idempotent
			return nil, nil
		}
		return &events.ResourceEvent{Kind: events.ActivityCreated, Time: now, ARN: actARN, Activity: &rec, Tags: tags}, nil
	})
	if err != nil {
		return nil, err
	}
	if existing != nil {
		// The activity may have been created by a concurrent call whose event is not
		// projected yet: wait for it, so a describe right after this answer finds it.
		if err := s.waitForResource(ctx, actARN); err != nil {
			return nil, err
		}
		return activityOutput{ActivityArn: existing.ARN, CreationDate: Time(existing.CreationDate)}, nil
	}
	if err := s.res.WaitFor(ctx, seq); err != nil {
		return nil, err
	}
	return activityOutput{ActivityArn: actARN, CreationDate: Time(now)}, nil
}

func activityARN(r *request) (string, error) {
	var in struct {
		ActivityArn *string `json:"activityArn"`
	}
	if err := r.Decode(&in); err != nil {
		return "", err
	}
	var v violations
	v.RequiredString("activityArn", in.ActivityArn, 1, 256)
	return checkedARN(v, in.ActivityArn, "activity")
}

// LookupActivity returns an activity or ActivityDoesNotExist.
func (s *Server) LookupActivity(ctx context.Context, actARN string) (events.ActivityRecord, error) {
	rec, err := s.activity(ctx, actARN)
	if errors.Is(err, events.ErrNotFound) {
		return rec, fault.New(fault.ActivityDoesNotExist, "Activity Does Not Exist: '%s'", actARN)
	}
	return rec, err
}

func (s *Server) describeActivity(ctx context.Context, r *request) (any, error) {
	actARN, err := activityARN(r)
	if err != nil {
		return nil, err
	}
	rec, err := s.LookupActivity(ctx, actARN)
	if err != nil {
		return nil, err
	}
	return struct {
		ActivityArn             string         `json:"activityArn"`
		Name                    string         `json:"name"`
		CreationDate            Time           `json:"creationDate"`
		EncryptionConfiguration map[string]any `json:"encryptionConfiguration,omitempty"`
	}{rec.ARN, rec.Name, Time(rec.CreationDate), encryptionOrDefault(rec.Encryption)}, nil
}

func (s *Server) deleteActivity(ctx context.Context, r *request) (any, error) {
	actARN, err := activityARN(r)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	_, seq, err := events.Mutate(ctx, s.store, actARN, func(cur *events.ResourceEvent) (events.Decision, error) {
		if cur == nil || cur.Kind == events.ActivityDeleted || cur.Activity == nil {
			return nil, nil
		}
		return &events.ResourceEvent{Kind: events.ActivityDeleted, Time: now, ARN: actARN, Activity: cur.Activity}, nil
	})
	if err != nil {
		return nil, err
	}
	// seq 0: already deleted, perhaps by a concurrent call: wait until that is visible.
	return struct{}{}, s.waitForChange(ctx, actARN, seq)
}

// encryptionOrDefault is the encryption configuration AWS reports: the one given, or
// the AWS-owned key.
func encryptionOrDefault(c map[string]any) map[string]any {
	if len(c) == 0 {
		return map[string]any{"type": "AWS_OWNED_KEY"}
	}
	return c
}

// waitForResource waits until the read models reflect the newest event of a resource,
// for answers that appended nothing themselves (idempotent repeats).
func (s *Server) waitForResource(ctx context.Context, arn string) error {
	_, seq, err := s.store.LastResource(ctx, arn)
	if errors.Is(err, events.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.res.WaitFor(ctx, seq)
}

// waitForChange waits until the read models reflect a change of the resource arn: the
// event appended at seq or, when nothing was appended (seq 0), the resource's newest
// event.
func (s *Server) waitForChange(ctx context.Context, arn string, seq uint64) error {
	if seq == 0 {
		return s.waitForResource(ctx, arn)
	}
	return s.res.WaitFor(ctx, seq)
}

type activityListItem struct {
	ActivityArn  string `json:"activityArn"`
	Name         string `json:"name"`
	CreationDate Time   `json:"creationDate"`
}

func (s *Server) listActivities(ctx context.Context, r *request) (any, error) {
	items, next, err := listOwn(ctx, r, "ListActivities", "activity", s.res.Activities,
		func(rec events.ActivityRecord) (string, time.Time) { return rec.ARN, rec.CreationDate })
	if err != nil {
		return nil, err
	}
	out := struct {
		Activities []activityListItem `json:"activities"`
		NextToken  *string            `json:"nextToken,omitempty"`
	}{Activities: []activityListItem{}, NextToken: next}
	for _, rec := range items {
		out.Activities = append(out.Activities, activityListItem{rec.ARN, rec.Name, Time(rec.CreationDate)})
	}
	return out, nil
}

// sortKey orders list items by creation time, then ARN.
func sortKey(nanos int64, arn string) string {
	return fmt.Sprintf("%020d|%s", nanos, arn)
}

// listOwn answers the page a List call of the caller's resources of one type asks for
// (ListActivities, ListStateMachines): those in the caller's partition, region and
// account, oldest first. load reads them all; ident gives a record's ARN and creation
// date.
func listOwn[T any](ctx context.Context, r *request, op, resourceType string,
	load func(context.Context) ([]T, error), ident func(T) (string, time.Time)) ([]T, *string, error) {
	var p page
	if err := r.Decode(&p); err != nil {
		return nil, nil, err
	}
	var v violations
	p.check(&v)
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	all, err := load(ctx)
	if err != nil {
		return nil, nil, err
	}
	all = inScope(r, resourceType, all, func(rec T) string {
		arn, _ := ident(rec)
		return arn
	})
	return paginate(op, all, func(rec T) string {
		arn, created := ident(rec)
		return sortKey(created.UnixNano(), arn)
	}, p)
}
