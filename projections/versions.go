package projections

import (
	"context"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// VersionBucket holds one record per live state machine version, keyed by
// jsstore.Token(versionArn). Which versions a state machine has is in its own record's
// Versioning index; this bucket holds their snapshots (definition and configuration).
const VersionBucket = "sfn_state_machine_versions"

func createVersionBucket(ctx context.Context, st *jsstore.Store, replicas int) (jetstream.KeyValue, error) {
	kv, err := jsstore.EnsureKeyValue(ctx, st.JS, jetstream.KeyValueConfig{
		Bucket: VersionBucket, Storage: jetstream.FileStorage, Replicas: st.KeepReplicas(ctx, "KV_"+VersionBucket, replicas), History: 1,
	})
	return kv, errors.Wrap(err, "create version bucket")
}

// applyVersion projects the newest event of a version's subject.
func (r *Resources) applyVersion(ctx context.Context, key string, ev events.ResourceEvent, seq uint64) error {
	if ev.Kind == events.StateMachineVersionDeleted {
		return ignoreNotFound(r.vers.Delete(ctx, key))
	}
	rec := *ev.Version
	rec.Seq = seq
	return put(ctx, r.vers, key, rec)
}

// Version returns one state machine version's snapshot, or an error marked
// events.ErrNotFound.
func (r *Resources) Version(ctx context.Context, arn string) (events.StateMachineRecord, error) {
	var rec events.StateMachineRecord
	return rec, get(ctx, r.vers, jsstore.Token(arn), &rec)
}
