//go:build !linux

package main

// exitWithParent: a parent-death signal exists on Linux only.
func exitWithParent() {}
