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

// exampleExits are the examples that do not exit 0 against the demo
// provider, with the exit code they must give and why; every other example
// must exit 0.
var exampleExits = map[string]int{
	// Waits for a browser elsewhere; the test's deadline ends it.
	"agcurl login --no-browser              # on an SSH box: open the URL elsewhere, paste the result": ExitError,
	// cat.jpg is not there.
	"agcurl fetch https://api.example.com/v1/photos -F 'photo=@cat.jpg;type=image/jpeg' -F caption=cat": ExitReadError,
	// The demo's CLI client is not a machine client.
	"AGCURL_CLIENT_SECRET=... agcurl login --client-credentials --resource https://api.example.com": ExitError,
}

// TestExamplesRunAgainstTheDemoProvider runs every "agcurl ..." line of every
// command's Example against the bundled provider and API, with the
// placeholder hosts replaced by theirs, each from a signed-in session (an
// example may log out) at a terminal. Each must exit as exampleExits says:
// 0 unless listed there.
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

	te.mustRun(t, "configure", "--profile", "staging", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID, "--api-base", te.srv.APIURL)
	te.mustRun(t, "login", "--profile", "staging", "--browser", "--port", "0")

	type example struct {
		raw  string
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
			examples = append(examples, example{strings.TrimSpace(raw), env, words[1:]})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCmd(te.f))
	if len(examples) < 30 {
		t.Fatalf("only %d example lines found", len(examples))
	}
	seen := map[string]bool{}
	for _, ex := range examples {
		seen[ex.raw] = true
		args := ex.args
		// Each example starts signed in, whatever the one before did.
		for _, profile := range []string{"default", "staging"} {
			if te.run("token", "--profile", profile) != 0 {
				te.mustRun(t, "configure", "--profile", profile, "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID, "--api-base", te.srv.APIURL)
				te.mustRun(t, "login", "--profile", profile, "--browser", "--port", "0")
			}
		}
		for k, v := range ex.env {
			te.env[k] = v
		}
		// A person at a terminal, unless the example sends stdout elsewhere.
		te.f.IO.InTTY, te.f.IO.OutTTY = true, !strings.Contains(ex.raw, ">") && !strings.Contains(ex.raw, "|")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		te.out.Reset()
		te.errOut.Reset()
		code := Run(ctx, te.f, args)
		cancel()
		te.f.IO.InTTY, te.f.IO.OutTTY = false, false
		for k := range ex.env {
			delete(te.env, k)
		}
		if want := exampleExits[ex.raw]; code != want || strings.Contains(te.errOut.String(), "internal error") {
			t.Errorf("%s: exit %d, want %d: %s", ex.raw, code, want, te.errOut.String())
		}
	}
	for raw := range exampleExits {
		if !seen[raw] {
			t.Errorf("exampleExits lists %q, which is no longer an example", raw)
		}
	}
}
