package hostile

import "time"

// CPULimit is what handling one worst-case payload may cost in CPU time in the smoke
// tests: about twenty times its cost on an idle machine, far below what any
// super-linear step costs on these sizes (seconds to hours). CPU time, unlike the time
// on the clock, does not grow when other processes load the machine, so the check
// cannot flake on a busy 2-core CI machine.
const CPULimit = 2 * time.Second

// WallLimit is the time on the clock one worst-case request may take in the smoke
// tests: a guard against hangs, generous enough for a loaded machine.
const WallLimit = 30 * time.Second

// Cost runs f and returns the time it took on the clock and the CPU time the whole
// process used meanwhile (every goroutine's, so background work f causes counts too).
func Cost(f func()) (wall, cpu time.Duration) {
	start, cpu0 := time.Now(), CPUTime()
	f()
	return time.Since(start), CPUTime() - cpu0
}

// TooCostly says what is wrong when wall or cpu is over its limit, or returns "".
func TooCostly(wall, cpu time.Duration) string {
	switch {
	case cpu > CPULimit:
		return "used " + cpu.String() + " of CPU (limit " + CPULimit.String() + ")"
	case wall > WallLimit:
		return "took " + wall.String() + " (limit " + WallLimit.String() + ")"
	}
	return ""
}
