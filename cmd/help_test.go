package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Typos get a suggestion, and help on a topic that does not exist is a
// usage error (exit 2), not the root help with exit 0.
func TestUnknownCommandsAndHelpTopics(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"fecth", "https://x"}, ExitUsage, `unknown command "fecth"; did you mean fetch?`},
		{[]string{"nosuch"}, ExitUsage, `unknown command "nosuch"`},
		{[]string{"help", "nosuch"}, ExitUsage, `no help topic "nosuch"`},
		{[]string{"help", "whomai"}, ExitUsage, `no help topic "whomai"; did you mean whoami?`},
		{[]string{"help", "fetch"}, ExitOK, "Send HTTP requests, curl style"},
		{[]string{"help", "config", "list"}, ExitOK, "List the configured profiles"},
		{[]string{"help", "exit-codes"}, ExitOK, "agcurl exits with one of these codes"},
		{[]string{"help"}, ExitOK, "Available Commands"},
	} {
		f := shapeFactory(t, nil)
		code := Run(context.Background(), f, c.args)
		out := f.IO.Out.(*bytes.Buffer).String() + f.IO.ErrOut.(*bytes.Buffer).String()
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("agcurl %s: exit %d, want %d; output lacks %q:\n%s", strings.Join(c.args, " "), code, c.code, c.want, out)
		}
	}
}
