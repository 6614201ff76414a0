package sfn

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/fault"
)

// State machine versions: PublishStateMachineVersion, ListStateMachineVersions,
// DeleteStateMachineVersion, and the publish flag of CreateStateMachine and
// UpdateStateMachine. How they are stored is told in events/versions.go: the state
// machine's record indexes its versions; each version's snapshot lives on its own subject.

// versionNumber returns the version number of a qualified state machine ARN
// ("...:stateMachine:name:7"), or 0 when the qualifier is absent or not a number.
func versionNumber(a arn) int {
	if a.qualifier == "" || a.more != "" {
		return 0
	}
	n, err := strconv.Atoi(a.qualifier)
	if err != nil || n <= 0 || strconv.Itoa(n) != a.qualifier {
		return 0
	}
	return n
}

// baseARN is the unqualified state machine ARN of a version or alias ARN.
func baseARN(a arn) string {
	a.qualifier, a.more = "", ""
	return a.String()
}

// allocateVersion publishes rec's current revision into rec's index: the version already
// published for that revision when there is one (created false), else a new version
// numbered one past the highest ever published.
func allocateVersion(rec *events.StateMachineRecord, now time.Time) (events.VersionRef, bool) {
	for _, v := range rec.Versioning.Clone().Versions {
		if v.RevisionID == rec.RevisionID {
			return v, false
		}
	}
	vi := rec.Versioning.Clone()
	vi.LastVersion++
	ref := events.VersionRef{
		Number: vi.LastVersion, ARN: rec.ARN + ":" + strconv.Itoa(vi.LastVersion),
		RevisionID: rec.RevisionID, CreationDate: now,
	}
	vi.Versions = append(vi.Versions, ref)
	rec.Versioning = vi
	return ref, true
}

// versionSnapshot is the record of version ref, taken from the state machine record it
// was published from.
func versionSnapshot(rec events.StateMachineRecord, ref events.VersionRef, description string) events.StateMachineRecord {
	snap := rec
	snap.ARN, snap.CreationDate, snap.RevisionID, snap.Description = ref.ARN, ref.CreationDate, ref.RevisionID, description
	snap.UpdateDate, snap.Tags, snap.Versioning, snap.Seq = nil, nil, nil, 0
	snap.Status = "ACTIVE"
	return snap
}

// writeVersion appends a version's snapshot to its own subject, unless the subject
// already holds this very version; it returns the sequence to wait for (0: none).
func (s *Server) writeVersion(ctx context.Context, snap events.StateMachineRecord) (uint64, error) {
	now := s.cfg.Now().UTC()
	_, seq, err := events.Mutate(ctx, s.store, snap.ARN, func(cur *events.ResourceEvent) (events.Decision, error) {
		if cur != nil && cur.Kind == events.StateMachineVersionPublished && cur.Version != nil &&
			cur.Version.CreationDate.Equal(snap.CreationDate) && cur.Version.RevisionID == snap.RevisionID {
			return nil, nil
		}
		return &events.ResourceEvent{Kind: events.StateMachineVersionPublished, Time: now, ARN: snap.ARN, Version: &snap}, nil
	})
	return seq, err
}

// deleteVersionSubjects appends StateMachineVersionDeleted to the subject of each version
// (after the state machine itself is deleted, or a version removed from its index).
func (s *Server) deleteVersionSubjects(ctx context.Context, refs []events.VersionRef) (uint64, error) {
	now := s.cfg.Now().UTC()
	var last uint64
	for _, ref := range refs {
		_, seq, err := events.Mutate(ctx, s.store, ref.ARN, func(cur *events.ResourceEvent) (events.Decision, error) {
			if cur == nil || cur.Kind == events.StateMachineVersionDeleted || cur.Version == nil {
				return nil, nil
			}
			return &events.ResourceEvent{Kind: events.StateMachineVersionDeleted, Time: now, ARN: ref.ARN, Version: cur.Version}, nil
		})
		if err != nil {
			return last, err
		}
		last = max(last, seq)
	}
	return last, nil
}

// lookupDescribable returns the record DescribeStateMachine describes for smARN: the
// state machine, or the snapshot of a version for a version ARN.
func (s *Server) lookupDescribable(ctx context.Context, smARN string) (events.StateMachineRecord, error) {
	a, err := parseARN(smARN, "stateMachine")
	if err != nil {
		return events.StateMachineRecord{}, err
	}
	if a.qualifier == "" {
		return s.lookupStateMachine(ctx, smARN)
	}
	if versionNumber(a) == 0 {
		return events.StateMachineRecord{}, stateMachineNotFound(smARN)
	}
	rec, err := s.version(ctx, smARN)
	if errors.Is(err, events.ErrNotFound) {
		return rec, stateMachineNotFound(smARN)
	}
	return rec, err
}

type publishVersionInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	RevisionID      *string `json:"revisionId"`
	Description     *string `json:"description"`
}

type publishVersionOutput struct {
	CreationDate           Time   `json:"creationDate"`
	StateMachineVersionArn string `json:"stateMachineVersionArn"`
}

func (s *Server) publishStateMachineVersion(ctx context.Context, r *request) (any, error) {
	var in publishVersionInput
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("stateMachineArn", in.StateMachineArn, 1, 256)
	v.OptionalString("description", in.Description, 0, 256)
	smARN, err := checkedARN(v, in.StateMachineArn, "stateMachine")
	if err != nil {
		return nil, err
	}
	ref, err := s.publish(ctx, smARN, in.RevisionID, deref(in.Description))
	if err != nil {
		return nil, err
	}
	return publishVersionOutput{CreationDate: Time(ref.CreationDate), StateMachineVersionArn: ref.ARN}, nil
}

// publish publishes the current revision of smARN (which must be revisionID when that is
// given) as a version, or returns the version already published for it.
func (s *Server) publish(ctx context.Context, smARN string, revisionID *string, desc string) (events.VersionRef, error) {
	var (
		ref     events.VersionRef
		snap    *events.StateMachineRecord
		current events.StateMachineRecord
	)
	now := s.cfg.Now().UTC()
	_, seq, err := events.Mutate(ctx, s.store, smARN, func(cur *events.ResourceEvent) (events.Decision, error) {
		snap = nil
		if liveStateMachine(cur) == nil {
			return nil, stateMachineNotFound(smARN)
		}
		rec := *cur.StateMachine
		if rec.Status == "DELETING" {
			return nil, stateMachineDeleting(smARN)
		}
		if revisionID != nil && *revisionID != rec.RevisionID {
			return nil, fault.New(fault.ConflictException,
				"Failed to publish the State Machine version for revision %s. The current State Machine revision is %s.",
				*revisionID, rec.RevisionID)
		}
		current = rec
		var created bool
		ref, created = allocateVersion(&rec, now)
		if !created {
			return nil, nil
		}
		sn := versionSnapshot(rec, ref, desc)
		snap = &sn
		return &events.ResourceEvent{Kind: events.StateMachineVersionPublished, Time: now, ARN: smARN, StateMachine: &rec}, nil
	})
	if err != nil {
		return ref, err
	}
	if snap == nil {
		// Already published: make sure the version's own subject holds it (it may not,
		// after a crash between the two appends).
		sn := versionSnapshot(current, ref, desc)
		if last, _, lerr := s.store.LastResource(ctx, ref.ARN); lerr == nil && last.Version != nil &&
			last.Kind == events.StateMachineVersionPublished && last.Version.RevisionID == ref.RevisionID {
			sn = *last.Version
		}
		snap = &sn
	}
	vseq, err := s.writeVersion(ctx, *snap)
	if err != nil {
		return ref, err
	}
	if err := s.res.WaitFor(ctx, max(seq, vseq)); err != nil {
		return ref, err
	}
	if seq == 0 && vseq == 0 {
		if err := s.waitForResource(ctx, ref.ARN); err != nil {
			return ref, err
		}
	}
	return ref, nil
}

type versionListItem struct {
	StateMachineVersionArn string `json:"stateMachineVersionArn"`
	CreationDate           Time   `json:"creationDate"`
}

// pagedStateMachine decodes and checks a ListStateMachineVersions or
// ListStateMachineAliases request: it returns the state machine whose versions or
// aliases are listed, and the page asked for.
// unqualified refuses version and alias ARNs (InvalidArn): ListStateMachineVersions
// takes the state machine's own ARN.
func (s *Server) pagedStateMachine(ctx context.Context, r *request, unqualified bool) (events.StateMachineRecord, page, error) {
	var in struct {
		page
		StateMachineArn *string `json:"stateMachineArn"`
	}
	if err := r.Decode(&in); err != nil {
		return events.StateMachineRecord{}, page{}, err
	}
	var v violations
	v.RequiredString("stateMachineArn", in.StateMachineArn, 1, 256)
	in.page.check(&v)
	smARN, err := checkedARN(v, in.StateMachineArn, "stateMachine")
	if err != nil {
		return events.StateMachineRecord{}, in.page, err
	}
	if a, _ := parseARN(smARN, "stateMachine"); unqualified && a.qualifier != "" {
		return events.StateMachineRecord{}, in.page, fault.New(fault.InvalidArn, "Invalid Arn: '%s'", smARN)
	}
	rec, err := s.lookupStateMachine(ctx, smARN)
	if err != nil {
		rec.ARN = smARN // the ARN asked for, for the caller's message
	}
	return rec, in.page, err
}

func (s *Server) listStateMachineVersions(ctx context.Context, r *request) (any, error) {
	rec, p, err := s.pagedStateMachine(ctx, r, true)
	if fault.Is(err, fault.StateMachineDoesNotExist) {
		// AWS documents InvalidArn, InvalidToken and ValidationException for this
		// operation, not StateMachineDoesNotExist: a well-formed ARN naming no state
		// machine is an invalid ARN here.
		return nil, fault.New(fault.InvalidArn, "Invalid Arn: '%s'", rec.ARN)
	}
	if err != nil {
		return nil, err
	}
	var refs []events.VersionRef
	if rec.Versioning != nil {
		refs = slices.Clone(rec.Versioning.Versions)
	}
	// Newest first: the sort key inverts the version number.
	slices.SortFunc(refs, func(a, b events.VersionRef) int { return b.Number - a.Number })
	items, next, err := paginate("ListStateMachineVersions", refs, func(ref events.VersionRef) string {
		return fmt.Sprintf("%012d", 1<<39-ref.Number)
	}, p)
	if err != nil {
		return nil, err
	}
	out := struct {
		StateMachineVersions []versionListItem `json:"stateMachineVersions"`
		NextToken            *string           `json:"nextToken,omitempty"`
	}{StateMachineVersions: []versionListItem{}, NextToken: next}
	for _, ref := range items {
		out.StateMachineVersions = append(out.StateMachineVersions, versionListItem{
			StateMachineVersionArn: ref.ARN, CreationDate: Time(ref.CreationDate),
		})
	}
	return out, nil
}

func (s *Server) deleteStateMachineVersion(ctx context.Context, r *request) (any, error) {
	var in struct {
		StateMachineVersionArn *string `json:"stateMachineVersionArn"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var v violations
	v.RequiredString("stateMachineVersionArn", in.StateMachineVersionArn, 1, 2000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	verARN := *in.StateMachineVersionArn
	a, err := parseARN(verARN, "stateMachine")
	if err != nil {
		return nil, err
	}
	n := versionNumber(a)
	if n == 0 {
		return nil, fault.New(fault.ValidationException, "Invalid State Machine Version Arn: '%s'", verARN)
	}
	smARN := baseARN(a)
	now := s.cfg.Now().UTC()
	var gone []events.VersionRef
	_, seq, err := events.Mutate(ctx, s.store, smARN, func(cur *events.ResourceEvent) (events.Decision, error) {
		gone = nil
		if liveStateMachine(cur) == nil {
			return nil, nil // nothing to delete: success, as on AWS
		}
		rec := *cur.StateMachine
		ref := rec.Versioning.Version(n)
		if ref == nil {
			return nil, nil
		}
		var users []string
		for _, al := range rec.Versioning.Aliases {
			if slices.ContainsFunc(al.Routing, func(e events.RoutingEntry) bool { return e.StateMachineVersionARN == ref.ARN }) {
				users = append(users, al.Name)
			}
		}
		if len(users) > 0 {
			return nil, fault.New(fault.ConflictException,
				"Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [%s]",
				strings.Join(users, ", "))
		}
		gone = []events.VersionRef{*ref}
		vi := rec.Versioning.Clone()
		vi.Versions = slices.DeleteFunc(vi.Versions, func(x events.VersionRef) bool { return x.Number == n })
		rec.Versioning = vi
		return &events.ResourceEvent{Kind: events.StateMachineVersionDeleted, Time: now, ARN: smARN, StateMachine: &rec}, nil
	})
	if err != nil {
		return nil, err
	}
	vseq, err := s.deleteVersionSubjects(ctx, gone)
	if err != nil {
		return nil, err
	}
	if err := s.res.WaitFor(ctx, max(seq, vseq)); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
