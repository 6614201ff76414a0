package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
)

// defaultHeapFloorMB is the heap size below which the collector does not run by
// default (SFND_GC_FLOOR_MB).
const defaultHeapFloorMB = 192

// heapFloor keeps the collector from running before the heap has grown to floor
// bytes: after each collection the GOGC percentage is set so that the next one comes
// at max(2 x the live heap, floor) — Go's default once the live heap is past half the
// floor. A node's live heap is small (tens of MiB) while it allocates fast (about
// 100 KB per StartExecution, client and server together), so with GOGC=100 alone it
// collected about twice a second under load, and each collection's mark phase, which
// takes a P of a 2-CPU node for 10-20 ms, showed in StartExecution's p99 (README,
// round five). The floor costs resident memory up to about floor bytes on an idle or
// lightly loaded node. A GOGC in the environment turns this off, as does floor 0.
func heapFloor(floor uint64) {
	if floor == 0 || os.Getenv("GOGC") != "" {
		return
	}
	t := &heapTuner{floor: floor, percent: 100, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.arm()
}

// heapTuner sets the GOGC percentage after every collection (a cleanup attached to
// an object dropped at once runs after the next collection that finds it unreachable).
type heapTuner struct {
	floor   uint64
	percent int
	live    []metrics.Sample
}

func (t *heapTuner) arm() {
	runtime.AddCleanup(&gcSentinel{}, func(t *heapTuner) { t.tune(); t.arm() }, t)
}

// gcSentinel is an object of its own allocation (not the tiny allocator's, whose
// blocks are shared), so its cleanup runs once a collection finds it unreachable.
type gcSentinel struct{ _ [16]byte }

func (t *heapTuner) tune() {
	metrics.Read(t.live)
	var live uint64
	if t.live[0].Value.Kind() == metrics.KindUint64 {
		live = t.live[0].Value.Uint64()
	}
	percent := gcPercent(t.floor, live)
	// Small moves of the live heap do not reset the pacer.
	if percent != t.percent && (percent > t.percent*11/10 || percent < t.percent*9/10 || percent == 100) {
		debug.SetGCPercent(percent)
		t.percent = percent
	}
}

// gcPercent is the GOGC percentage that puts the next collection at max(2 x live,
// floor) (at most 10,000: a live heap of a few KiB does not make it unbounded).
func gcPercent(floor, live uint64) int {
	live = max(live, 1)
	if floor <= 2*live {
		return 100
	}
	return int(min(floor*100/live-100, 10_000))
}

// heapFloorFromEnv is SFND_GC_FLOOR_MB in bytes (default defaultHeapFloorMB).
func heapFloorFromEnv() uint64 {
	mb := uint64(defaultHeapFloorMB)
	if v := os.Getenv("SFND_GC_FLOOR_MB"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return mb
		}
		mb = n
	}
	return mb << 20
}
