package cmd

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/internal/testop"
)

// shellWords splits a command line as a POSIX shell would for the simple
// quoting the examples use, dropping a trailing comment and redirections.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord, quote := false, byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '#' && !inWord:
			i = len(line)
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	// Drop redirections ("> file", "2>file") and what follows a pipe.
	var out []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "|":
			return out
		case w == ">" || w == "2>":
			i++
		case strings.HasPrefix(w, ">") || strings.HasPrefix(w, "2>"):
		default:
			out = append(out, w)
		}
	}
	return out
}

// TestExamplesRunAgainstTheDemoProvider runs every "agcurl ..." line of every
// command's Example against the bundled provider and API, with the
// placeholder hosts replaced by theirs. Examples must stay valid command
// lines: none may end in a usage error (exit 2) or an internal error.
func TestExamplesRunAgainstTheDemoProvider(t *testing.T) {
	te := newTestEnv(t, testop.Options{})
	tmp := t.TempDir()
	te.env["AGCURL_STORAGE"] = "file"
	replacer := strings.NewReplacer(
		"https://myapp.authgear.cloud", te.srv.Issuer,
		"https://staging.authgear.cloud", te.srv.Issuer,
		"https://api.example.com", te.srv.APIURL,
		"4f2a...", testop.CLIClientID,
		"77b1...", testop.CLIClientID,
	)
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID, "--api-base", te.srv.APIURL)
	te.mustRun(t, "login", "--browser", "--port", "0")

	type example struct {
		env  map[string]string
		args []string
	}
	var examples []example
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, raw := range strings.Split(c.Example, "\n") {
			words := shellWords(replacer.Replace(strings.TrimSpace(raw)))
			env := map[string]string{}
			for len(words) > 0 && strings.Contains(words[0], "=") && words[0] != "agcurl" {
				k, v, _ := strings.Cut(words[0], "=")
				env[k] = v
				words = words[1:]
			}
			if len(words) == 0 || words[0] != "agcurl" {
				continue // not an agcurl command line (a pipe into it, source, curl ...)
			}
			if env["AGCURL_CLIENT_SECRET"] == "..." {
				env["AGCURL_CLIENT_SECRET"] = testop.MachineClientSecret
			}
			for i := 0; i < len(words); i++ {
				switch {
				case words[i] == "-O":
					words = append(words[:i], append([]string{"-o", filepath.Join(tmp, "remote")}, words[i+1:]...)...)
				case (words[i] == "-o" || words[i] == "--output") && i+1 < len(words) && words[i+1] != "/dev/null" && words[i+1] != "-":
					words[i+1] = filepath.Join(tmp, filepath.Base(words[i+1]))
				}
			}
			examples = append(examples, example{env, words[1:]})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCmd(te.f))
	if len(examples) < 30 {
		t.Fatalf("only %d example lines found", len(examples))
	}
	for _, ex := range examples {
		args := ex.args
		for k, v := range ex.env {
			te.env[k] = v
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		te.out.Reset()
		te.errOut.Reset()
		code := Run(ctx, te.f, args)
		cancel()
		for k := range ex.env {
			delete(te.env, k)
		}
		if code == ExitUsage || strings.Contains(te.errOut.String(), "internal error") {
			t.Errorf("agcurl %s: exit %d: %s", strings.Join(args, " "), code, te.errOut.String())
		}
	}
}
