package projections

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// GlueBucket holds the read models of Glue's resources and runs, one entry per
// resource keyed by GlueKey.
const GlueBucket = "glue_resources"

// GlueKey is the read-model key of a Glue resource: its type, its parent's token (runs)
// and its name's token, dot-separated, so one type (or one parent's runs) is a
// wildcard watch.
func GlueKey(typ, parent, name string) string {
	if parent != "" {
		return typ + "." + jsstore.Token(parent) + "." + jsstore.Token(name)
	}
	return typ + "." + jsstore.Token(name)
}

func createGlueBucket(ctx context.Context, st *jsstore.Store, replicas int) (jetstream.KeyValue, error) {
	kv, err := jsstore.EnsureKeyValue(ctx, st.JS, jetstream.KeyValueConfig{
		Bucket: GlueBucket, Storage: jetstream.FileStorage, Replicas: st.KeepReplicas(ctx, "KV_"+GlueBucket, replicas), History: 1,
	})
	return kv, errors.Wrap(err, "create glue bucket")
}

func (r *Resources) applyGlue(ctx context.Context, ev events.ResourceEvent, seq uint64) error {
	g := ev.Glue
	key := GlueKey(g.Type, g.Parent, g.Name)
	if ev.Kind == events.GlueDeleted {
		return ignoreNotFound(r.glue.Delete(ctx, key))
	}
	rec := *g
	rec.Seq = seq
	return put(ctx, r.glue, key, rec)
}

// Glue returns one Glue resource, or an error marked events.ErrNotFound.
func (r *Resources) Glue(ctx context.Context, typ, parent, name string) (events.GlueResource, error) {
	var rec events.GlueResource
	return rec, get(ctx, r.glue, GlueKey(typ, parent, name), &rec)
}

// GlueList lists the Glue resources of a type (of one parent, for runs), by name.
func (r *Resources) GlueList(ctx context.Context, typ, parent string) ([]events.GlueResource, error) {
	pattern := typ + ".>"
	if parent != "" {
		pattern = typ + "." + jsstore.Token(parent) + ".*"
	}
	w, err := r.glue.Watch(ctx, pattern, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, errors.Wrap(err, "watch glue bucket")
	}
	defer func() { _ = w.Stop() }()
	var out []events.GlueResource
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("bucket watcher closed")
			}
			if e == nil {
				sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
				return out, nil
			}
			var v events.GlueResource
			if err := json.Unmarshal(e.Value(), &v); err != nil {
				return nil, errors.Wrapf(err, "decode read model %s", e.Key())
			}
			out = append(out, v)
		case <-ctx.Done():
			return nil, errors.Wrap(ctx.Err(), "list glue bucket")
		}
	}
}
