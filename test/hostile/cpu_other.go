//go:build !unix

package hostile

import "time"

var processStart = time.Now()

// cpuTime falls back to the time on the clock where the process's CPU time is not
// available.
func cpuTime() time.Duration { return time.Since(processStart) }
