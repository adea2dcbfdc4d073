//go:build !windows

package cmd

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwardedSignals are the signals agcurl exec passes on to its command.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// forwardSignal reports whether sig is to be passed on to the command.
// A terminal sends Ctrl-C's SIGINT and Ctrl-\'s SIGQUIT to its whole
// foreground process group, the command (which stays in agcurl's group)
// included: when agcurl is in that group, the command already has it, and
// a second copy would read as "interrupted twice" (which makes many
// programs give up their clean shutdown).
func forwardSignal(sig os.Signal) bool {
	if sig != syscall.SIGINT && sig != syscall.SIGQUIT {
		return true
	}
	return !inTerminalForeground()
}

// inTerminalForeground reports whether this process's group is the
// foreground process group of its controlling terminal.
func inTerminalForeground() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false // no controlling terminal
	}
	defer tty.Close()
	fg, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && fg == unix.Getpgrp()
}

// exitStatus is the command's exit status as a shell gives it: its exit
// code, or 128+N when signal N ended it.
func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return ExitError
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// envKeyEqual reports whether two environment variable names are the same
// variable: case matters.
func envKeyEqual(a, b string) bool { return a == b }
