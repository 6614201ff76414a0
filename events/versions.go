package events

import "time"

// Versions and aliases in the control plane.
//
// A state machine's own subject is the one place where its versions and aliases are
// decided: its record carries a small index (Versioning) with the highest version number
// ever published, the live versions (number, revision, date) and every alias with its
// routing. Publishing, deleting a version and creating, updating or deleting an alias each
// append one event to the state machine's subject, with optimistic concurrency, so the
// rules that tie them together hold atomically: version numbers never repeat (LastVersion
// only grows), a version routed to by an alias cannot be deleted, an alias routes only to
// live versions, publishing the same revision twice returns the same version.
//
// A version's full snapshot (definition, role, logging, tracing, description) can be as
// large as a definition, so it lives on the version's own subject (its ARN,
// "<stateMachineArn>:<N>"), appended right after the index event with kind
// StateMachineVersionPublished and the record in ResourceEvent.Version; deleting it
// appends StateMachineVersionDeleted there. The index is the truth about which versions
// exist; a version subject written late (a crash between the two appends) is repaired by
// the next PublishStateMachineVersion of the same revision. Aliases are small and live
// only in the index.

// Kinds of the version and alias events. The version kinds are appended to both the
// state machine's subject (carrying StateMachine with its updated index) and the
// version's subject (carrying Version); the alias kinds only to the state machine's.
const (
	StateMachineVersionPublished ResourceKind = "StateMachineVersionPublished"
	StateMachineVersionDeleted   ResourceKind = "StateMachineVersionDeleted"
	StateMachineAliasCreated     ResourceKind = "StateMachineAliasCreated"
	StateMachineAliasUpdated     ResourceKind = "StateMachineAliasUpdated"
	StateMachineAliasDeleted     ResourceKind = "StateMachineAliasDeleted"
)

// Versioning is the index of a state machine's versions and aliases, kept in its record.
type Versioning struct {
	// LastVersion is the highest version number ever published: the next is one more,
	// whatever was deleted since.
	LastVersion int `json:"lastVersion"`
	// Versions are the live versions, oldest first.
	Versions []VersionRef `json:"versions,omitempty"`
	// Aliases are the state machine's aliases, oldest first.
	Aliases []AliasRecord `json:"aliases,omitempty"`
}

// VersionRef is one live version in the index.
type VersionRef struct {
	Number       int       `json:"number"`
	ARN          string    `json:"arn"`
	RevisionID   string    `json:"revisionId,omitempty"`
	CreationDate time.Time `json:"creationDate"`
}

// AliasRecord is the stored state of one alias.
type AliasRecord struct {
	ARN          string         `json:"arn"`
	Name         string         `json:"name"`
	Description  string         `json:"description,omitempty"`
	Routing      []RoutingEntry `json:"routingConfiguration"`
	CreationDate time.Time      `json:"creationDate"`
	UpdateDate   time.Time      `json:"updateDate"`
}

// RoutingEntry is one version an alias routes to, with its weight (percent).
type RoutingEntry struct {
	StateMachineVersionARN string `json:"stateMachineVersionArn"`
	Weight                 int    `json:"weight"`
}

// Version returns the index entry of version n, or nil.
func (v *Versioning) Version(n int) *VersionRef {
	if v == nil {
		return nil
	}
	for i := range v.Versions {
		if v.Versions[i].Number == n {
			return &v.Versions[i]
		}
	}
	return nil
}

// Alias returns the alias whose ARN is arn, or nil.
func (v *Versioning) Alias(arn string) *AliasRecord {
	if v == nil {
		return nil
	}
	for i := range v.Aliases {
		if v.Aliases[i].ARN == arn {
			return &v.Aliases[i]
		}
	}
	return nil
}

// Clone returns a deep copy (records are copied by value before a change).
func (v *Versioning) Clone() *Versioning {
	if v == nil {
		return &Versioning{}
	}
	c := &Versioning{LastVersion: v.LastVersion}
	c.Versions = append([]VersionRef(nil), v.Versions...)
	for _, a := range v.Aliases {
		a.Routing = append([]RoutingEntry(nil), a.Routing...)
		c.Aliases = append(c.Aliases, a)
	}
	return c
}
