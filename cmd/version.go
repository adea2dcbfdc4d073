package cmd

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/spf13/cobra"
)

// Set at release time with -ldflags "-X github.com/agcurl/agcurl/cmd.version=1.2.3 ...".
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildInfo is what `agcurl version` reports.
type buildInfo struct {
	Version, Commit, Date, GoVersion, Platform string
}

// currentBuild returns the ldflags values, falling back to what the Go
// toolchain recorded (a `go install ...@v1.2.3` build knows its module
// version and, from a checkout, its VCS revision and time).
var currentBuild = sync.OnceValue(readBuild)

func readBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if len(b.Commit) > 12 {
		b.Commit = b.Commit[:12]
	}
	return b
}

func (b buildInfo) String() string {
	s := "agcurl version " + b.Version
	if b.Commit != "" {
		s += " (commit " + b.Commit
		if b.Date != "" {
			s += ", built " + b.Date
		}
		s += ")"
	}
	return s + "\n" + b.GoVersion + " " + b.Platform + "\n"
}

// VersionOptions are what `agcurl version` runs with: its output.
type VersionOptions struct {
	IO *IOStreams
}

// NewCmdVersion builds `agcurl version`. When runF is not nil it is called
// with the parsed options instead of versionRun.
func NewCmdVersion(f *Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f.IO}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print agcurl's version, commit, build date and Go version",
		Long:    "Print agcurl's version, the commit and date it was built from, and the Go version and platform. Same as agcurl --version.",
		Example: "  agcurl version\n  agcurl --version",
		Args:    exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return versionRun(c.Context(), opts)
		},
	}
}

// versionRun prints what currentBuild reports, as `agcurl --version` does.
func versionRun(_ context.Context, opts *VersionOptions) error {
	_, err := fmt.Fprint(opts.IO.Out, currentBuild().String())
	return err
}
