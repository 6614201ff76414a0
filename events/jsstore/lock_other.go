//go:build !unix

package jsstore

import "os"

// lockFile creates path; elsewhere than on Unix no lock is taken (stop a server
// before opening its data directory with another process).
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}
