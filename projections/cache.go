package projections

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/nats-io/nats.go/jetstream"
)

// Record caches: every StartExecution reads its state machine, and every activity
// task its activity (when it is scheduled and when a worker polls), each a KV read
// on the request's path. The records change rarely, so each node keeps the ones it
// read, and forgets one:
//   - when the bucket changes it (a KV watcher on every node, however the change came:
//     this node's projection, another node's, a rebuild);
//   - when a write made through this node's API has been applied (Resources.WaitFor
//     clears the caches): a client that changed a resource then reads it through the
//     same node sees its own write, as without the cache;
//   - after cacheTTL in any case, a bound on how long a change another node made may
//     go unseen here if its watcher lags. AWS documents the same for
//     UpdateStateMachine: executions started right after it may use the previous
//     definition.
//
// Only records that exist are cached: a resource just created is read from the
// bucket until it is.

// cacheTTL is the longest a cached record is used.
const cacheTTL = time.Second

// maxCached bounds the records one cache holds (a state machine's record holds its
// definition, up to 1 MiB): past it, an arbitrary entry goes.
const maxCached = 1024

// recordCache holds recently read records of one bucket, by key: their stored bytes,
// decoded on every read (a caller may change what it is given).
type recordCache struct {
	mu sync.Mutex
	// gen counts changes seen: a record read before a change is not cached after it.
	gen     uint64
	entries map[string]cachedRecord
	on      bool          // a watcher keeps the cache true; off: every read goes to the bucket
	ttl     time.Duration // 0: cacheTTL
	reads   int           // reads that went to the bucket
}

type cachedRecord struct {
	value []byte
	at    time.Time
}

// lookup returns the cached bytes of key, if fresh, and the generation a read of the
// bucket made now must present to cache its result (a miss counts as such a read).
func (c *recordCache) lookup(key string) ([]byte, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	ttl := c.ttl
	if ttl == 0 {
		ttl = cacheTTL
	}
	if ok && c.on && time.Since(e.at) < ttl {
		return e.value, true, c.gen
	}
	c.reads++
	return nil, false, c.gen
}

// store caches value under key unless the bucket changed since gen was taken.
func (c *recordCache) store(key string, value []byte, gen uint64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || gen != c.gen {
		return
	}
	if c.entries == nil {
		c.entries = map[string]cachedRecord{}
	}
	if len(c.entries) >= maxCached {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = cachedRecord{value: value, at: at}
}

// drop forgets key.
func (c *recordCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, key)
}

// clear forgets every key.
func (c *recordCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries = nil
}

// turn forgets every key and turns the cache on or off.
func (c *recordCache) turn(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries, c.on = nil, on
}

// cached reads key from kv through c into v (an error marked events.ErrNotFound when
// the key has no record).
func cached(ctx context.Context, c *recordCache, kv jetstream.KeyValue, key string, v any) error {
	value, ok, gen := c.lookup(key)
	if !ok {
		at := time.Now()
		var err error
		if value, err = getValue(ctx, kv, key); err != nil {
			return err
		}
		c.store(key, value, gen, at)
	}
	return errors.Wrap(json.Unmarshal(value, v), "decode read model")
}

// watch keeps c true to kv until done closes: every change drops its key. The cache
// is on only while the watcher runs; a watcher that fails is started again.
func watch(kv jetstream.KeyValue, c *recordCache, done <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-done
		cancel()
	}()
	for ctx.Err() == nil {
		w, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		c.turn(true)
		for e := range w.Updates() {
			if e != nil {
				c.drop(e.Key())
			}
		}
		c.turn(false) // the watcher stopped: read the bucket until it is back
		_ = w.Stop()
	}
}
