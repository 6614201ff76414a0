package projections

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/sfnd/sfnd/events"
	"github.com/sfnd/sfnd/events/jsstore"
)

// TestResourceCacheFollowsTheBucket: a state machine read twice is read from the
// bucket once; a change of the bucket made behind this node's back (another node's
// projection) is seen through the watcher, not the cache's time bound (set to an hour
// here); a deletion too; and a write applied through this node (WaitFor) empties the
// cache.
func TestResourceCacheFollowsTheBucket(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	r, err := StartResources(ctx, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	r.smCache.ttl = time.Hour
	arn := "arn:aws:states:us-east-1:123456789012:stateMachine:cached"
	key := jsstore.Token(arn)
	putDef := func(def string) {
		t.Helper()
		b, _ := json.Marshal(events.StateMachineRecord{ARN: arn, Definition: def})
		if _, err := r.sms.Put(ctx, key, b); err != nil {
			t.Fatal(err)
		}
	}
	read := func() (string, error) {
		rec, err := r.StateMachine(ctx, arn)
		return rec.Definition, err
	}
	// until waits for read to give want (the watcher's delivery is asynchronous).
	until := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := read()
			if err == nil && got == want || want == "" && errors.Is(err, events.ErrNotFound) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("read %q (%v), want %q", got, err, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	reads := func() int {
		r.smCache.mu.Lock()
		defer r.smCache.mu.Unlock()
		return r.smCache.reads
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		r.smCache.mu.Lock()
		on := r.smCache.on
		r.smCache.mu.Unlock()
		if on {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cache's watcher did not start")
		}
	}

	// The watcher has seen the put (its drop counts as a change) before the reads, so
	// that its late arrival cannot drop what they cache.
	r.smCache.mu.Lock()
	gen := r.smCache.gen
	r.smCache.mu.Unlock()
	putDef("v1")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		r.smCache.mu.Lock()
		seen := r.smCache.gen > gen
		r.smCache.mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not see the put")
		}
	}
	until("v1")
	before := reads()
	if got, err := read(); err != nil || got != "v1" {
		t.Fatalf("read %q %v", got, err)
	}
	if n := reads() - before; n != 0 {
		t.Fatalf("a cached record was read from the bucket %d times", n)
	}

	putDef("v2") // as another node's projection would
	until("v2")
	if err := r.sms.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	until("")

	putDef("v3")
	until("v3")
	if err := r.WaitFor(ctx, 0); err != nil {
		t.Fatal(err)
	}
	before = reads()
	if _, err := read(); err != nil {
		t.Fatal(err)
	}
	if reads() == before {
		t.Fatal("a read after WaitFor was answered from the cache")
	}
}
