package cmd

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/internal/browser"
	"github.com/agcurl/agcurl/internal/testop"
)

// shellWords splits a command line as a POSIX shell would for the simple
// quoting the examples use, dropping a trailing comment, redirections and
// what follows a pipe. redirected reports whether stdout goes to a file or
// a pipe.
func shellWords(line string) (words []string, redirected bool) {
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
	var out []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "|":
			return out, true
		case w == ">" || w == "2>":
			redirected = redirected || w == ">"
			i++
		case strings.HasPrefix(w, ">") || strings.HasPrefix(w, "2>"):
			redirected = redirected || strings.HasPrefix(w, ">")
		default:
			out = append(out, w)
		}
	}
	return out, redirected
}

// exampleExitCodes are the exit codes of the examples that are expected to
// fail against the demo provider and API, keyed by the example's command
// line as the help shows it (comment and all, without the indent), each
// with the reason why; every other example must exit 0. None fails today.
var exampleExitCodes = map[string]int{}

// TestExamplesRunAgainstTheDemoProvider runs every "agcurl ..." line of every
// command's Example against the bundled provider and API, with the
// placeholder hosts replaced by theirs, as a person at a terminal would.
// Each runs on its own copy of a configuration with two profiles, default
// and staging, both logged in, and must exit with the code
// exampleExitCodes gives it, or 0.
func TestExamplesRunAgainstTheDemoProvider(t *testing.T) {
	t.Parallel()
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
	base := filepath.Join(tmp, "base")
	te.f.ConfigDir = func() (string, error) { return base, nil }
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID, "--api-base", te.srv.APIURL)
	te.mustRun(t, "configure", "--profile", "staging", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID, "--api-base", te.srv.APIURL)
	// logIn gives both profiles in base a fresh session. It is called again
	// after each example that logs in or out or configures: logging out
	// and deleting a profile revoke the session at the provider, which
	// makes every copy of it useless.
	logIn := func() {
		t.Helper()
		te.f.ConfigDir = func() (string, error) { return base, nil }
		te.mustRun(t, "login", "--browser", "--port", "0")
		te.mustRun(t, "login", "--profile", "staging", "--browser", "--port", "0")
	}
	logIn()
	photo := filepath.Join(tmp, "cat.jpg")
	if err := os.WriteFile(photo, []byte("\xff\xd8\xff\xe0 not much of a cat"), 0o600); err != nil {
		t.Fatal(err)
	}

	type example struct {
		line       string // as in the help
		env        map[string]string
		args       []string
		redirected bool // stdout is not the terminal
	}
	var examples []example
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, raw := range strings.Split(c.Example, "\n") {
			line := strings.TrimSpace(raw)
			words, redirected := shellWords(replacer.Replace(line))
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
				// The reader's client is a confidential one.
				env["AGCURL_CLIENT_SECRET"] = testop.MachineClientSecret
				env["AGCURL_CLIENT_ID"] = testop.MachineClientID
			}
			for i := 0; i < len(words); i++ {
				switch {
				case words[i] == "-O":
					words = append(words[:i], append([]string{"-o", filepath.Join(tmp, "remote")}, words[i+1:]...)...)
				case (words[i] == "-o" || words[i] == "--output") && i+1 < len(words) && words[i+1] != "/dev/null" && words[i+1] != "-":
					words[i+1] = filepath.Join(tmp, filepath.Base(words[i+1]))
				case strings.Contains(words[i], "=@cat.jpg"):
					words[i] = strings.Replace(words[i], "=@cat.jpg", "=@"+photo, 1)
				case words[i] == "--listen" && i+1 < len(words):
					words[i+1] = "127.0.0.1:0" // a port of its own
				}
			}
			if len(words) > 1 && words[1] == "proxy" && !slices.Contains(words, "--listen") {
				words = append(words, "--listen", "127.0.0.1:0")
			}
			if len(words) > 1 && words[1] == "exec" && strings.Contains(line, "curl ") {
				if _, err := exec.LookPath("curl"); err != nil {
					t.Logf("not run, as there is no curl: %s", line)
					continue
				}
			}
			// A browser sign-in listens on any free port (the provider
			// accepts any loopback port): the registered 53682 may be
			// held by another test or program.
			if len(words) > 1 && words[1] == "login" && !slices.ContainsFunc(words, func(w string) bool {
				return w == "--port" || w == "--device" || w == "--with-refresh-token" || w == "--client-credentials"
			}) {
				words = append(words, "--port", "0")
			}
			examples = append(examples, example{line, env, words[1:], redirected})
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
	for i, ex := range examples {
		seen[ex.line] = true
		want := exampleExitCodes[ex.line]
		if ex.args[0] == "proxy" {
			want = ExitInterrupted // it serves until runExample interrupts it
		}
		code, stderr := runExample(t, te, filepath.Join(tmp, "config", strconv.Itoa(i)), base, ex.env, ex.args, !ex.redirected)
		if code != want || strings.Contains(stderr, "internal error") {
			t.Errorf("%s\n(run as agcurl %s): exit %d, want %d; stderr:\n%s", ex.line, strings.Join(ex.args, " "), code, want, stderr)
		}
		switch ex.args[0] {
		case "login", "logout", "configure":
			logIn()
		}
	}
	for line := range exampleExitCodes {
		if !seen[line] {
			t.Errorf("exampleExitCodes lists %q, which is no longer an example", line)
		}
	}
}

// runExample runs agcurl with args and env added to te's environment, on a
// terminal (stdout only if outTTY), in dir, a fresh copy of the
// configuration directory base, and returns the exit code and what it wrote
// to stderr. For --no-browser a browser elsewhere opens the URL agcurl
// prints.
func runExample(t *testing.T, te *testEnv, dir, base string, env map[string]string, args []string, outTTY bool) (code int, stderr string) {
	t.Helper()
	copyDir(t, dir, base)
	for k, v := range env {
		te.env[k] = v
	}
	defer func() {
		for k := range env {
			delete(te.env, k)
		}
	}()
	// Streams of its own: login --no-browser leaves a goroutine reading
	// stdin behind.
	errOut := &syncBuffer{}
	f := *te.f
	f.IO = &IOStreams{In: &bytes.Buffer{}, Out: &syncBuffer{}, ErrOut: errOut, InTTY: true, OutTTY: outTTY, ErrTTY: true}
	f.ConfigDir = func() (string, error) { return dir, nil }

	// The deadline only stops an example that hangs (it then fails).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	followed := make(chan struct{})
	if slices.Contains(args, "--no-browser") {
		go func() {
			defer close(followed)
			u, err := waitForLine(done, errOut, "/oauth2/authorize?")
			if err == nil {
				err = browser.Follow(ctx, u)
			}
			if err != nil {
				t.Errorf("agcurl %s: the browser elsewhere: %v", strings.Join(args, " "), err)
			}
		}()
	} else {
		close(followed)
	}
	if args[0] == "proxy" {
		// A proxy serves until interrupted: interrupt it once it listens.
		go func() {
			if _, err := waitForLine(done, f.IO.Out.(*syncBuffer), "http://"); err == nil {
				cancel()
			}
		}()
	}
	code = Run(ctx, &f, args)
	close(done)
	<-followed
	return code, errOut.String()
}

// copyDir copies the directory tree src to dst, keeping file modes.
func copyDir(t *testing.T, dst, src string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm())
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, info.Mode().Perm())
		}
		return nil // lock files are regular; nothing else is expected
	})
	if err != nil {
		t.Fatal(err)
	}
}
