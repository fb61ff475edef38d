//go:build !linux

package synctest

import "os/exec"

// setDeathSignal is Linux-only; elsewhere the Cleanup in Start and Proxy
// is what stops the child.
func setDeathSignal(*exec.Cmd) {}
