package cmd

import (
	"os"
	"strings"
)

// forwardedSignals are the signals agcurl exec takes while its command
// runs: on Windows, Ctrl-C reaches every process of the console, the
// command included, and cannot be sent to one process; agcurl only keeps
// it from ending agcurl before the command.
var forwardedSignals = []os.Signal{os.Interrupt}

func forwardSignal(os.Signal) bool { return false }

// exitStatus is the command's exit code.
func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return ExitError
	}
	return ps.ExitCode()
}

// envKeyEqual reports whether two environment variable names are the same
// variable: on Windows, case does not matter.
func envKeyEqual(a, b string) bool { return strings.EqualFold(a, b) }
