package main

import (
	"bytes"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// exitWithParent makes the server receive SIGTERM (a clean shutdown) when its parent
// process dies, when the parent is `go run` (which dies of SIGTERM without passing
// it on, and would leave the server holding its port and data directory) or when
// SFND_EXIT_WITH_PARENT=1 asks for it. A server started by a shell, systemd or a
// container runtime keeps running as before.
func exitWithParent() {
	ppid := os.Getppid()
	if os.Getenv("SFND_EXIT_WITH_PARENT") != "1" && !parentIsGoRun(ppid) {
		return
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0); err != nil {
		return
	}
	if os.Getppid() != ppid {
		// The parent died before the request took effect.
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
}

// parentIsGoRun tells whether process ppid runs `go run`.
func parentIsGoRun(ppid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/cmdline")
	if err != nil {
		return false
	}
	args := bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0})
	if len(args) < 2 || string(args[1]) != "run" {
		return false
	}
	name := args[0]
	if i := bytes.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return string(name) == "go"
}
