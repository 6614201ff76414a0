package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		floor, live uint64
		want        int
	}{
		{192 * mb, 32 * mb, 500},     // next collection at 192 MiB
		{192 * mb, 96 * mb, 100},     // 2 x live reaches the floor
		{192 * mb, 150 * mb, 100},    // past it: Go's default
		{192 * mb, 0, 10_000},        // nothing live yet: bounded
		{192 * mb, 4 * 1024, 10_000}, // a few KiB
	} {
		if got := gcPercent(c.floor, c.live); got != c.want {
			t.Errorf("gcPercent(%d MiB, %d) = %d, want %d", c.floor/mb, c.live, got, c.want)
		}
	}
}

// TestHeapFloorTunes: after a collection the tuner has raised GOGC for a small live
// heap (the test binary's is a few MiB).
func TestHeapFloorTunes(t *testing.T) {
	t.Setenv("GOGC", "")
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	heapFloor(192 << 20)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // cleanups run on their own goroutine
		p := debug.SetGCPercent(-1)       // reads the percentage; put back at once
		debug.SetGCPercent(p)
		if p > 100 {
			return
		}
	}
	t.Fatal("GOGC still 100 after collections with a small live heap")
}
