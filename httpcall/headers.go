package httpcall

import (
	"fmt"
	"io"
	"strings"
)

// maxHeaderFile caps what one -H @file reads.
const maxHeaderFile = 1 << 20

// ExpandHeaders returns args with each "@file" argument replaced by the
// lines of that file ("@-": standard input), as curl's -H @file: every
// line is a header argument, CR and LF end lines, and empty lines are
// skipped. It reads each file once; call it once, before Build, whose
// Headers it gives. An unreadable file is a *ReadError (curl's exit 26).
func ExpandHeaders(args []string, open Opener) ([]string, error) {
	expand := false
	for _, a := range args {
		expand = expand || strings.HasPrefix(a, "@")
	}
	if !expand {
		return args, nil
	}
	out := make([]string, 0, len(args))
	for _, a := range args {
		name, ok := strings.CutPrefix(a, "@")
		if !ok {
			out = append(out, a)
			continue
		}
		if name == "" {
			return nil, usagef("-H \"@\" names no file")
		}
		f, err := open.Open(name)
		if err != nil {
			return nil, &ReadError{err}
		}
		b, err := io.ReadAll(io.LimitReader(f, maxHeaderFile+1))
		f.Close()
		if err != nil {
			return nil, &ReadError{err}
		}
		if len(b) > maxHeaderFile {
			return nil, &ReadError{fmt.Errorf("header file %s is larger than %d MiB", name, maxHeaderFile>>20)}
		}
		lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
		for n, l := range lines {
			for _, line := range strings.Split(l, "\r") {
				if line == "" {
					continue
				}
				// A line that is not a header is named by its number, not
				// quoted: a header file is where secrets are kept out of argv.
				if _, err := parseHeader(line); err != nil {
					return nil, usagef("-H @%s: line %d is not a header (want \"Name: value\" or \"Name;\")", name, n+1)
				}
				out = append(out, line)
			}
		}
	}
	return out, nil
}
