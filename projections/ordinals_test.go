package projections

import (
	"sync"
	"testing"
	"time"
)

// counter is a list's counter: incr adds n and returns the new value.
type counter struct {
	mu    sync.Mutex
	val   int64
	calls int
}

func (c *counter) incr(n int64) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.val += n
	c.calls++
	return c.val, nil
}

// TestOrdinalLeases: fast starts take their ordinals in growing blocks (far fewer
// increments than starts), every ordinal handed out once and in increasing order;
// slow starts take one increment each (no gaps, as without leases); a block is not
// used past its lease.
func TestOrdinalLeases(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)

	var fast counter
	var o ordinalLeases
	last := int64(0)
	for i := range 1000 {
		ord, err := o.take("sm", t0.Add(time.Duration(i)*time.Millisecond), fast.incr)
		if err != nil {
			t.Fatal(err)
		}
		if ord <= last {
			t.Fatalf("start %d: ordinal %d after %d", i, ord, last)
		}
		last = ord
	}
	if last != 1000 || fast.calls > 1000/maxOrdinalBlock+8 {
		t.Fatalf("1,000 starts at 1,000/s: last ordinal %d, %d increments", last, fast.calls)
	}

	var slow counter
	o = ordinalLeases{}
	for i := range 20 {
		ord, err := o.take("sm", t0.Add(time.Duration(i)*time.Second), slow.incr)
		if err != nil || ord != int64(i+1) {
			t.Fatalf("slow start %d: ordinal %d %v", i, ord, err)
		}
	}
	if slow.calls != 20 {
		t.Fatalf("20 slow starts took %d increments", slow.calls)
	}

	// A block in use is dropped once its lease is over.
	var c counter
	o = ordinalLeases{}
	var at time.Time
	for i := range 40 {
		at = t0.Add(time.Duration(i) * time.Millisecond)
		if _, err := o.take("sm", at, c.incr); err != nil {
			t.Fatal(err)
		}
	}
	before := c.calls
	ord, err := o.take("sm", at.Add(ordinalLeaseTTL), c.incr)
	if err != nil || c.calls != before+1 || ord != c.val {
		t.Fatalf("after the lease: ordinal %d (counter %d), increments %d -> %d", ord, c.val, before, c.calls)
	}
}

// TestOrdinalLeasesConcurrent: concurrent starts of one list never share an ordinal.
func TestOrdinalLeasesConcurrent(t *testing.T) {
	var c counter
	var o ordinalLeases
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				ord, err := o.take("sm", time.Now(), c.incr)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[ord] {
					t.Errorf("ordinal %d handed out twice", ord)
				}
				seen[ord] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 4000 {
		t.Fatalf("%d distinct ordinals for 4,000 starts", len(seen))
	}
}
