//go:build !unix

package hostile

import "time"

var processStart = time.Now()

// CPUTime falls back to the time on the clock where the process's CPU time is not
// available.
func CPUTime() time.Duration { return time.Since(processStart) }
