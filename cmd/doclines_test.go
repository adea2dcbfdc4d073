package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/browser"
	"github.com/agcurl/agcurl/internal/testop"
	"github.com/agcurl/agcurl/keychain"
)

// TestDocCommandLines runs the command lines of README.md and docs/*.md
// against the bundled provider and API, and fails, naming the file and
// line, when one no longer works as the docs say.
//
// A command line is a line of a fenced code block that runs agcurl: a
// shell line ("agcurl ...", "$ agcurl ...", "VAR=x agcurl ...", with
// pipes, redirections and quotes), or a command of a CI recipe in YAML
// ("- run: agcurl ...", "- agcurl ..."). Each must exit 0 (or the code
// docExitCodes gives it) unless docSkips says why it cannot run here: a
// new line in the docs is run by default, and skipping it is a decision
// written down.
//
// The lines of a file run in order, as a reader would type them, on one
// workstation: a terminal, an OS keyring (in memory) and a browser (the
// stand-in that approves the sign-in); docSetups says what a file's
// reader has done before, when it starts where another file ends. Each
// CI recipe (a YAML block) runs on a fresh runner instead: no terminal,
// no keyring, no browser, CI=true, the recipe's env: (GitHub) or
// variables: (GitLab), and the CI variables and secrets ciValue gives.
// Lines that do not run agcurl (make, go install, ssh) are not run.
//
// What is replaced to run against the bundled provider: the example
// endpoints (https://myapp.authgear.cloud, https://staging.authgear.cloud)
// by the provider, https://api.example.com by its API, the placeholder
// client ids by its client's, relative file names by files in a
// temporary directory, and a browser sign-in gets --port 0 (the provider
// accepts any loopback port; the registered 53682 may be in use).
func TestDocCommandLines(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join("..", "README.md")}, files...)
	cwd := listDir(t, ".")

	var (
		mu      sync.Mutex
		skipped = map[string]bool{}
		coded   = map[string]bool{}
		lines   int
	)
	t.Run("files", func(t *testing.T) {
		for _, file := range files {
			name := filepath.ToSlash(strings.TrimPrefix(file, ".."+string(filepath.Separator)))
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				src, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				r := runDocFile(t, name, string(src))
				mu.Lock()
				defer mu.Unlock()
				for k := range r.skipped {
					skipped[k] = true
				}
				for k := range r.coded {
					coded[k] = true
				}
				lines += r.ran
			})
		}
	})
	for line := range docSkips {
		if !skipped[line] {
			t.Errorf("docSkips lists %q, which is no longer in the docs", line)
		}
	}
	for line := range docExitCodes {
		if !coded[line] {
			t.Errorf("docExitCodes lists %q, which is no longer in the docs", line)
		}
	}
	if lines < 40 {
		t.Errorf("only %d command lines ran; is the extraction broken?", lines)
	}
	if after := listDir(t, "."); !slices.Equal(cwd, after) {
		t.Errorf("a command line wrote into %s (now %q): teach docArgs about its file argument", must(os.Getwd()), after)
	}
}

// docSkips are the command lines that cannot run against the bundled
// provider, each with the reason: a line, keyed by its text, or the
// blocks under a heading, keyed "file § heading".
var docSkips = map[string]string{
	"cat ids.txt | xargs -P 16 -I{} agcurl fetch -fsS https://api.example.com/v1/items/{}": "reads the reader's ids.txt and runs agcurl through xargs; " +
		"TestParallelProcessesRefreshOnce runs agcurl processes in parallel on one session",
	"agcurl proxy": "serves until Ctrl-C; cmd.TestProxyForwardsWithTheToken and the other TestProxy tests run it " +
		"against the bundled API",
	"agcurl proxy --quiet --listen 127.0.0.1:0 > proxy-url.txt &": "starts a proxy in the background for k6 or pytest, " +
		"which are not here; TestProxyForwardsWithTheToken runs a proxy on a free port and reads its URL from stdout",
	"agcurl exec -- CMD [ARGS...]": "the synopsis, not a command",
	"agcurl exec --env API_TOKEN -- npm test": "needs the reader's Node project; exec.txtar and cmd.TestExecEnvironment " +
		"run a command with the token in the variable --env names",
	"agcurl exec --profile staging -- ./smoke-test.sh": "needs the reader's script and staging profile; exec.txtar runs a " +
		"script with the token",
	"docs/providers.md § Google": "needs Google and a Desktop app client registered there (and pass); " +
		"confidential.txtar and auth_params.txtar run a confidential client and access_type=offline here",
	"docs/providers.md § Auth0":              "needs an Auth0 tenant; auth_params.txtar and trailing_slash.txtar run an audience and an issuer ending in / here",
	"docs/providers.md § Microsoft Entra ID": "needs an Entra ID tenant; no_revocation.txtar runs a provider without revocation here",
	"docs/providers.md § Keycloak":           "needs a Keycloak realm (and pass); confidential.txtar runs a confidential client here",
	"docs/providers.md § Ory Hydra": "needs a Hydra server; confidential_post.txtar and auth_params.txtar run client_secret_post " +
		"and an audience here",
}

// docExitCodes are the exit codes of the command lines the docs show
// failing; every other line must exit 0.
var docExitCodes = map[string]int{}

// docSetups is what the reader has done before reading a file (keyed by
// its name) or a block (keyed "file: its first command line"), where that
// is not what the lines before it did.
var docSetups = map[string]struct {
	why   string
	setup func(d *docRun, t *testing.T) *docMachine
}{
	"docs/troubleshooting.md": {"the reader has configured agcurl, as README.md says", (*docRun).configured},
	"docs/ci.md":              {"section 2 signs in on a workstation configured as in getting-started.md", (*docRun).configured},
	"docs/proxy.md":           {"the reader has configured agcurl and logged in, as README.md says", (*docRun).signedIn},
}

// docRun is one file's run: its provider and its workstation.
type docRun struct {
	file        string
	srv         *testop.Server
	workstation *docMachine
	placeholder *strings.Replacer

	tokens    sync.Once
	refresh   string
	access    string
	tokensErr error

	skipped, coded map[string]bool
	ran            int
}

// docMachine is where command lines run: a directory, an environment, a
// keyring, a browser, and whether a person is at a terminal.
type docMachine struct {
	dir      string
	env      map[string]string
	keyring  keychain.KeyringAPI
	browser  auth.Browser
	terminal bool
}

func runDocFile(t *testing.T, file, src string) *docRun {
	blocks := docBlocks(src)
	if !slices.ContainsFunc(blocks, func(b docBlock) bool { return len(b.commands) > 0 }) {
		return &docRun{}
	}
	srv, err := testop.Start(testop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	d := &docRun{file: file, srv: srv, skipped: map[string]bool{}, coded: map[string]bool{},
		placeholder: strings.NewReplacer(
			"https://myapp.authgear.cloud", srv.Issuer,
			"https://staging.authgear.cloud", srv.Issuer,
			"https://api.example.com", srv.APIURL,
			"<client id>", testop.CLIClientID,
			"<id>", testop.CLIClientID,
			"4f2a...", testop.CLIClientID,
		)}
	d.workstation = d.machine(t, true, &memKeyring{}, browser.Async{})
	if s, ok := docSetups[file]; ok {
		t.Logf("%s: %s", file, s.why)
		d.workstation = s.setup(d, t)
	}
	for _, b := range blocks {
		if len(b.commands) == 0 {
			continue
		}
		if key := file + " § " + b.heading; docSkips[key] != "" {
			d.skipped[key] = true
			t.Logf("%s:%d: skipped, with the other blocks under %q: %s", file, b.commands[0].line, b.heading, docSkips[key])
			continue
		}
		m := d.workstation
		if b.yaml {
			m = d.runner(t, d.recipeEnv(t, b))
		}
		if s, ok := docSetups[file+": "+b.commands[0].text]; ok {
			t.Logf("%s:%d: %s", file, b.commands[0].line, s.why)
			m = s.setup(d, t)
		}
		for _, c := range b.commands {
			env := map[string]string{}
			for k, v := range b.stepEnv(c) {
				env[k] = d.expand(t, v)
			}
			d.runLine(t, m, c, env)
		}
	}
	return d
}

// runLine runs one command line on m, with env added for it, and checks
// its exit code.
func (d *docRun) runLine(t *testing.T, m *docMachine, c docCommand, env map[string]string) {
	t.Helper()
	where := fmt.Sprintf("%s:%d: %s", d.file, c.line, c.text)
	if why, ok := docSkips[c.text]; ok {
		d.skipped[c.text] = true
		t.Logf("%s: skipped: %s", where, why)
		return
	}
	lookup := func(name string) (string, bool) {
		if v, ok := env[name]; ok {
			return v, true
		}
		if v, ok := m.env[name]; ok {
			return v, true
		}
		return "", false
	}
	segs, err := parseShell(d.expand(t, c.text), lookup)
	if err != nil {
		t.Errorf("%s: cannot run this line (%v): make it runnable, or add it to docSkips with the reason", where, err)
		return
	}
	stdin := ""
	if len(segs) > 1 && len(segs[0].words) == 3 && segs[0].words[0] == "printf" && segs[0].words[1] == "%s" {
		stdin, segs = segs[0].words[2], segs[1:]
	}
	s := segs[0]
	if len(s.words) == 0 || s.words[0] != "agcurl" {
		t.Errorf("%s: cannot run this line (it does not start with agcurl, or printf %%s VALUE | agcurl): "+
			"make it runnable, or add it to docSkips with the reason", where)
		return
	}
	lineEnv := map[string]string{}
	for k, v := range env {
		lineEnv[k] = v
	}
	for _, a := range s.assign {
		lineEnv[a[0]] = a[1]
	}
	args := d.docArgs(m, s.words[1:])
	outTTY := s.stdout == "" && len(segs) == 1
	code, stdout, stderr := m.run(args, lineEnv, stdin, outTTY)
	d.ran++
	t.Logf("%s: exit %d", where, code)
	want, ok := docExitCodes[c.text]
	if ok {
		d.coded[c.text] = true
	}
	if code != want || strings.Contains(stderr, "internal error") {
		t.Errorf("%s\n(run as agcurl %s): exit %d, want %d; stderr:\n%s", where, strings.Join(args, " "), code, want, stderr)
	}
	if s.stdout != "" && s.stdout != "/dev/null" {
		file := s.stdout
		if !filepath.IsAbs(file) {
			file = filepath.Join(m.dir, file)
		}
		if err := os.WriteFile(file, []byte(stdout), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// docArgs are args as run here: files named relative to the reader's
// directory are in m's, and a browser sign-in listens on any free port.
func (d *docRun) docArgs(m *docMachine, args []string) []string {
	out := slices.Clone(args)
	local := func(p string) string {
		if p == "-" || p == "/dev/null" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(m.dir, p)
	}
	remoteName := func() string {
		for _, a := range out {
			if u, err := url.Parse(a); err == nil && u.Host != "" {
				return path.Base(u.Path)
			}
		}
		return "index.html"
	}
	for i := 0; i < len(out); i++ {
		switch a := out[i]; {
		case (a == "-o" || a == "--output" || a == "-T" || a == "--upload-file" || a == "--cacert") && i+1 < len(out):
			out[i+1] = local(out[i+1])
			i++
		case a == "-O" || a == "--remote-name":
			out = slices.Replace(out, i, i+1, "-o", local(remoteName()))
			i++
		case (a == "-d" || strings.HasPrefix(a, "--data") || a == "--json" || a == "-F" || a == "--form") && i+1 < len(out):
			v := out[i+1]
			if at := strings.IndexAny(v, "@<"); at >= 0 && !strings.HasPrefix(v[at+1:], "-") {
				file, rest, _ := strings.Cut(v[at+1:], ";")
				if rest != "" {
					rest = ";" + rest
				}
				out[i+1] = v[:at+1] + local(file) + rest
			}
			i++
		}
	}
	if len(out) > 0 && out[0] == "login" && !slices.ContainsFunc(out, func(a string) bool {
		return a == "--port" || a == "--device" || a == "--with-refresh-token" || a == "--client-credentials"
	}) {
		out = append(out, "--port", "0")
	}
	return out
}

var ciExpr = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// expand replaces the example hosts and client ids by the bundled ones,
// and the CI expressions ${{ ... }} by their values.
func (d *docRun) expand(t *testing.T, s string) string {
	s = d.placeholder.Replace(s)
	return ciExpr.ReplaceAllStringFunc(s, func(e string) string {
		return d.ciValue(t, ciExpr.FindStringSubmatch(e)[1])
	})
}

// ciValue is what the CI system gives for name: a variable or secret set
// in its settings (vars.NAME, secrets.NAME, or NAME for GitLab), a
// runner's directory, or a token an earlier step minted.
func (d *docRun) ciValue(t *testing.T, name string) string {
	t.Helper()
	switch name {
	case "vars.AGCURL_MACHINE_CLIENT_ID", "AGCURL_MACHINE_CLIENT_ID":
		return testop.MachineClientID
	case "vars.AGCURL_CLIENT_ID", "AGCURL_CLIENT_ID":
		return testop.CLIClientID
	case "secrets.AGCURL_CLIENT_SECRET", "AGCURL_CLIENT_SECRET":
		return testop.MachineClientSecret
	case "secrets.AGCURL_REFRESH_TOKEN", "AGCURL_REFRESH_TOKEN", "steps.mint.outputs.token":
		d.tokens.Do(func() { d.refresh, d.access, d.tokensErr = d.mintTokens(t) })
		if d.tokensErr != nil {
			t.Fatalf("a session for the CI values: %v", d.tokensErr)
		}
		if name == "steps.mint.outputs.token" {
			return d.access
		}
		return d.refresh
	case "runner.temp", "CI_PROJECT_DIR":
		return t.TempDir()
	}
	t.Fatalf("%s: the docs use the CI value %q: add it to ciValue", d.file, name)
	return ""
}

// mintTokens signs alice in on a machine of its own and returns the
// session's refresh token and access token.
func (d *docRun) mintTokens(t *testing.T) (refresh, access string, err error) {
	m := d.machine(t, false, &memKeyring{}, browser.Async{})
	for _, args := range [][]string{
		{"configure", "--endpoint", d.srv.Issuer, "--client-id", testop.CLIClientID},
		{"login", "--browser", "--port", "0"},
	} {
		if code, _, stderr := m.run(args, nil, "", false); code != 0 {
			return "", "", fmt.Errorf("agcurl %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
	}
	_, refresh, _ = m.run([]string{"token", "--refresh-token"}, nil, "", false)
	_, access, _ = m.run([]string{"token"}, nil, "", false)
	refresh, access = strings.TrimSpace(refresh), strings.TrimSpace(access)
	if refresh == "" || access == "" {
		return "", "", errors.New("no tokens")
	}
	return refresh, access, nil
}

// machine is a fresh machine with its own directory and configuration
// directory.
func (d *docRun) machine(t *testing.T, terminal bool, kr keychain.KeyringAPI, b auth.Browser) *docMachine {
	dir := t.TempDir()
	return &docMachine{dir: dir, env: map[string]string{"AGCURL_CONFIG_DIR": filepath.Join(dir, "config")},
		keyring: kr, browser: b, terminal: terminal}
}

// configured is the workstation with the default profile configured for
// the bundled provider.
func (d *docRun) configured(t *testing.T) *docMachine {
	m := d.workstation
	args := []string{"configure", "--endpoint", d.srv.Issuer, "--client-id", testop.CLIClientID}
	if code, _, stderr := m.run(args, nil, "", false); code != 0 {
		t.Fatalf("agcurl %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return m
}

// signedIn is the workstation configured, and logged in through the
// stand-in browser.
func (d *docRun) signedIn(t *testing.T) *docMachine {
	m := d.configured(t)
	args := []string{"login", "--browser", "--port", "0"}
	if code, _, stderr := m.run(args, nil, "", false); code != 0 {
		t.Fatalf("agcurl %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return m
}

// runner is a fresh CI runner with env: no terminal, no keyring, no
// browser.
func (d *docRun) runner(t *testing.T, env map[string]string) *docMachine {
	m := d.machine(t, false, unavailableKeyring{}, failingBrowser{t})
	m.env["CI"] = "true"
	for k, v := range env {
		m.env[k] = v
	}
	return m
}

// recipeEnv is the environment a CI recipe's job runs in: its env: or
// variables: above the steps, and for GitLab, whose CI/CD variables are
// environment variables, the ones the recipe names.
func (d *docRun) recipeEnv(t *testing.T, b docBlock) map[string]string {
	env := map[string]string{}
	for _, e := range b.env {
		if e.step < 0 {
			env[e.name] = d.expand(t, e.value)
		}
	}
	if b.gitlab {
		for _, name := range []string{"AGCURL_MACHINE_CLIENT_ID", "AGCURL_CLIENT_ID", "AGCURL_CLIENT_SECRET", "AGCURL_REFRESH_TOKEN"} {
			if regexp.MustCompile(`\b` + name + `\b`).MatchString(b.text) {
				env[name] = d.ciValue(t, name)
			}
		}
	}
	for k, v := range env {
		if segs, err := parseShell(v, func(n string) (string, bool) {
			if n == "CI_PROJECT_DIR" {
				return d.ciValue(t, n), true
			}
			x, ok := env[n]
			return x, ok
		}); err == nil && len(segs) == 1 && len(segs[0].words) == 1 {
			env[k] = segs[0].words[0]
		}
	}
	return env
}

// run runs agcurl with args on m, env added to m's, stdin as its input and
// stdout a terminal if outTTY (and m has one), and returns the exit code
// and what it wrote.
func (m *docMachine) run(args []string, env map[string]string, stdin string, outTTY bool) (code int, stdout, stderr string) {
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return m.env[k]
	}
	out, errOut := &syncBuffer{}, &syncBuffer{}
	f := &Factory{
		IO: &IOStreams{In: strings.NewReader(stdin), Out: out, ErrOut: errOut,
			InTTY: m.terminal, OutTTY: m.terminal && outTTY, ErrTTY: m.terminal},
		Getenv:     getenv,
		ConfigDir:  func() (string, error) { return configDir(getenv) },
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Browser:    m.browser,
		Keyring:    m.keyring,
		Now:        time.Now,
	}
	// The deadline only stops a line that hangs (it then fails).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = Run(ctx, f, args)
	return code, out.String(), errOut.String()
}

// unavailableKeyring is a machine without a Secret Service.
type unavailableKeyring struct{}

var errNoSecretService = errors.New("the name org.freedesktop.secrets was not provided by any .service files")

func (unavailableKeyring) Get(string, string) (string, error) { return "", errNoSecretService }
func (unavailableKeyring) Set(string, string, string) error   { return errNoSecretService }
func (unavailableKeyring) Delete(string, string) error        { return errNoSecretService }

// failingBrowser is a CI runner's: there is none.
type failingBrowser struct{ t *testing.T }

func (b failingBrowser) Open(u string) error {
	b.t.Errorf("a command line opened a browser on a CI runner: %s", u)
	return errors.New("no browser on a CI runner")
}

// docBlock is a fenced code block of a Markdown file.
type docBlock struct {
	heading  string // the heading it is under
	yaml     bool
	gitlab   bool // a GitLab CI job (script:)
	text     string
	commands []docCommand
	env      []docEnv // YAML: env: and variables: entries
}

// docCommand is one command line of a block: its line number in the file
// and its text as written (a prompt "$ " and YAML's "- run: " left out).
type docCommand struct {
	line int
	text string
	step int // YAML: the number of its step in the block
}

// docEnv is one entry of a YAML env: or variables: map; step is the
// number of the step it belongs to, or -1 for the whole job.
type docEnv struct {
	name, value string
	step        int
}

// stepEnv is what c's own step adds to the environment.
func (b docBlock) stepEnv(c docCommand) map[string]string {
	env := map[string]string{}
	for _, e := range b.env {
		if e.step >= 0 && e.step == c.step && e.name != "" && e.value != "" {
			env[e.name] = e.value
		}
	}
	return env
}

var (
	fenceRE    = regexp.MustCompile("^(\\s*)(```+|~~~+)\\s*([A-Za-z0-9_-]*)")
	agcurlWord = regexp.MustCompile(`(^|[\s|;&(])agcurl(\s|$)`)
	// shellComment is a comment, roughly: enough to tell whether a line
	// runs agcurl or only mentions it.
	shellComment = regexp.MustCompile(`(^|\s)#.*$`)
	yamlStep     = regexp.MustCompile(`^(\s*)- (?:run: )?(.*)$`)
	yamlMap      = regexp.MustCompile(`^(\s*)(?:env|variables):\s*$`)
	yamlEntry    = regexp.MustCompile(`^(\s*)([A-Z_][A-Z0-9_]*):\s*(.*?)\s*(?:\s#.*)?$`)
)

// docBlocks returns the fenced code blocks of a Markdown file with their
// command lines. Line numbers count from 1.
func docBlocks(src string) []docBlock {
	var (
		blocks  []docBlock
		cur     *docBlock
		heading string
		cont    *docCommand // a shell line continued with a backslash
		fence   string
		indent  int
		// YAML: the open env map's indentation, and the last step's
		// number and indentation.
		mapIndent, step, stepIndent = -1, -1, -1
	)
	sc := bufio.NewScanner(strings.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if cur == nil {
			if strings.HasPrefix(line, "#") {
				heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
			}
			if m := fenceRE.FindStringSubmatch(line); m != nil {
				cur = &docBlock{heading: heading, yaml: m[3] == "yaml" || m[3] == "yml"}
				cont = nil
				fence, indent, mapIndent, step, stepIndent = m[2], len(m[1]), -1, -1, -1
			}
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), fence) && strings.Trim(strings.TrimSpace(line), fence[:1]) == "" {
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		if len(line)-len(strings.TrimLeft(line, " ")) >= indent {
			line = line[indent:]
		}
		cur.text += line + "\n"
		if !cur.yaml {
			text := strings.TrimPrefix(strings.TrimSpace(line), "$ ")
			if cont != nil {
				cont.text += " " + text
			} else {
				cont = &docCommand{line: n, text: text, step: -1}
			}
			if strings.HasSuffix(cont.text, "\\") {
				cont.text = strings.TrimSpace(strings.TrimSuffix(cont.text, "\\"))
				continue
			}
			if agcurlWord.MatchString(shellComment.ReplaceAllString(cont.text, "")) {
				cur.commands = append(cur.commands, *cont)
			}
			cont = nil
			continue
		}
		lineIndent := len(line) - len(strings.TrimLeft(line, " "))
		if mapIndent >= 0 && lineIndent <= mapIndent && strings.TrimSpace(line) != "" {
			mapIndent = -1
		}
		switch {
		case strings.TrimSpace(line) == "script:":
			cur.gitlab = true
		case yamlMap.MatchString(line):
			mapIndent = lineIndent
		case mapIndent >= 0:
			if m := yamlEntry.FindStringSubmatch(line); m != nil {
				owner := -1
				if step >= 0 && stepIndent < mapIndent {
					owner = step
				}
				cur.env = append(cur.env, docEnv{name: m[2], value: m[3], step: owner})
			}
		default:
			if m := yamlStep.FindStringSubmatch(line); m != nil {
				step, stepIndent = step+1, len(m[1])
				text := strings.TrimSpace(m[2])
				if agcurlWord.MatchString(shellComment.ReplaceAllString(text, "")) {
					cur.commands = append(cur.commands, docCommand{line: n, text: text, step: step})
				}
			}
		}
	}
	return blocks
}

// shellSegment is one command of a pipeline: its VAR=value assignments,
// its words, and the file its stdout is redirected to.
type shellSegment struct {
	assign [][2]string
	words  []string
	stdout string
}

var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

// parseShell parses a command line as a POSIX shell would, for the forms
// the docs use: words with '...' and "..." quoting and backslashes,
// $NAME and ${NAME} (from lookup; an unknown name is an error), VAR=value
// before a command, "|" between commands, "> file" and "2> file", and a
// trailing comment. Anything else (;, &&, $(...), <, `) is an error.
func parseShell(line string, lookup func(string) (string, bool)) ([]shellSegment, error) {
	var (
		segs     []shellSegment
		cur      shellSegment
		word     strings.Builder
		raw      strings.Builder // the word as written, to tell assignments
		inWord   bool
		redirect string // "1" or "2" while the next word is a redirection target
	)
	endWord := func() {
		if !inWord {
			return
		}
		w, r := word.String(), raw.String()
		word.Reset()
		raw.Reset()
		inWord = false
		switch {
		case redirect == "1":
			cur.stdout, redirect = w, ""
		case redirect == "2":
			redirect = ""
		case len(cur.words) == 0 && shellName.MatchString(r) && strings.HasPrefix(r[len(shellName.FindString(r)):], "="):
			name, value, _ := strings.Cut(w, "=")
			cur.assign = append(cur.assign, [2]string{name, value})
		default:
			cur.words = append(cur.words, w)
		}
	}
	expand := func(i int) (int, error) {
		rest := line[i+1:]
		name := shellName.FindString(rest)
		end := i + 1 + len(name)
		if strings.HasPrefix(rest, "{") {
			name = shellName.FindString(rest[1:])
			if !strings.HasPrefix(rest[1+len(name):], "}") {
				return 0, fmt.Errorf("unsupported expansion at %q", line[i:])
			}
			end = i + 2 + len(name) + 1
		}
		if name == "" {
			return 0, fmt.Errorf("unsupported expansion at %q", line[i:])
		}
		v, ok := lookup(name)
		if !ok {
			return 0, fmt.Errorf("$%s is not set", name)
		}
		word.WriteString(v)
		raw.WriteString(line[i:end])
		return end - 1, nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated '")
			}
			word.WriteString(line[i+1 : i+1+end])
			raw.WriteString(line[i : i+2+end])
			i += 1 + end
			inWord = true
		case c == '"':
			raw.WriteByte(c)
			inWord = true
			for i++; i < len(line) && line[i] != '"'; i++ {
				switch {
				case line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0:
					word.WriteByte(line[i+1])
					raw.WriteString(line[i : i+2])
					i++
				case line[i] == '$':
					var err error
					if i, err = expand(i); err != nil {
						return nil, err
					}
				case line[i] == '`':
					return nil, errors.New("unsupported command substitution")
				default:
					word.WriteByte(line[i])
					raw.WriteByte(line[i])
				}
			}
			if i >= len(line) {
				return nil, errors.New(`unterminated "`)
			}
			raw.WriteByte('"')
		case c == '\\' && i+1 < len(line):
			word.WriteByte(line[i+1])
			raw.WriteString(line[i : i+2])
			i++
			inWord = true
		case c == '$':
			var err error
			if i, err = expand(i); err != nil {
				return nil, err
			}
			inWord = true
		case c == ' ' || c == '\t':
			endWord()
		case c == '#' && !inWord:
			i = len(line)
		case c == '|' && !strings.HasPrefix(line[i:], "||"):
			endWord()
			if len(cur.words) == 0 {
				return nil, errors.New("empty command before |")
			}
			segs = append(segs, cur)
			cur = shellSegment{}
		case c == '>' && !strings.HasPrefix(line[i:], ">>"):
			if inWord && raw.String() == "2" {
				word.Reset()
				raw.Reset()
				inWord = false
				redirect = "2"
			} else {
				endWord()
				redirect = "1"
			}
		case strings.IndexByte(";&<`()", c) >= 0 || c == '|' || c == '>':
			return nil, fmt.Errorf("unsupported shell syntax %q", line[i:])
		default:
			word.WriteByte(c)
			raw.WriteByte(c)
			inWord = true
		}
	}
	endWord()
	if redirect != "" {
		return nil, errors.New("redirection without a file")
	}
	if len(cur.words) == 0 && len(cur.assign) > 0 {
		return nil, errors.New("only assignments")
	}
	if len(cur.words) > 0 {
		segs = append(segs, cur)
	}
	if len(segs) == 0 {
		return nil, errors.New("no command")
	}
	return segs, nil
}

// listDir lists the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestREADMEExitCodes: README.md's table of exit codes says what
// `agcurl help exit-codes` says, code for code.
func TestREADMEExitCodes(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(src), "\n## Exit codes\n")
	if !ok {
		t.Fatal("README.md has no section ## Exit codes")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var have, want []string
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \| (.*) \|$`).FindAllStringSubmatch(section, -1) {
		have = append(have, m[1]+" "+m[2])
	}
	for _, e := range exitCodes {
		want = append(want, fmt.Sprint(e.Code)+" "+strings.ReplaceAll(e.Meaning, "\n", " "))
	}
	if !slices.Equal(have, want) {
		t.Errorf("README.md's exit codes:\n%s\nwant, as in cmd/errors.go:\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
}

// TestSecurityPromisesNameRealTests: every test docs/security.md names
// for a promise exists: a script of testdata/script, or a test function
// ("pkg.TestName", or "TestName" in the package named before it in the
// same cell).
func TestSecurityPromisesNameRealTests(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(src), "| promise | test |")
	if !ok {
		t.Fatal(`docs/security.md has no "| promise | test |" table`)
	}
	named := 0
	for _, row := range strings.Split(table, "\n") {
		cells := strings.Split(row, "|")
		if len(cells) < 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		pkg := ""
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cells[2], -1) {
			ref := m[1]
			named++
			if strings.HasSuffix(ref, ".txtar") {
				if _, err := os.Stat(filepath.Join("testdata", "script", ref)); err != nil {
					t.Errorf("docs/security.md names %s, which is not a script: %v", ref, err)
				}
				continue
			}
			name := ref
			if p, n, ok := strings.Cut(ref, "."); ok {
				pkg, name = p, n
			}
			dir := filepath.Join("..", pkg)
			if _, err := os.Stat(dir); err != nil {
				dir = filepath.Join("..", "internal", pkg)
			}
			if pkg == "" {
				dir = "."
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
			found := false
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				found = found || strings.Contains(string(b), "\nfunc "+name+"(t *testing.T)")
			}
			if !found {
				t.Errorf("docs/security.md names %s, which is not a test in %s", ref, dir)
			}
		}
	}
	if named < 20 {
		t.Errorf("only %d tests named in docs/security.md's table; is the parsing broken?", named)
	}
}

// TestDocLinks: every relative link of README.md and docs/*.md leads to a
// file of the repository, and to a heading of it when it names one.
func TestDocLinks(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	files = append(files, filepath.Join("..", "README.md"))
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(src), -1) {
			target, anchor, _ := strings.Cut(m[1], "#")
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path := file
			if target != "" {
				path = filepath.Join(filepath.Dir(file), target)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s links to %s: %v", file, m[1], err)
				continue
			}
			if anchor != "" && !slices.Contains(headingAnchors(string(b)), anchor) {
				t.Errorf("%s links to %s: %s has no such heading", file, m[1], target)
			}
		}
	}
}

// headingAnchors are the anchors GitHub gives the headings of a Markdown
// file: lower case, punctuation dropped, spaces as hyphens.
func headingAnchors(src string) []string {
	var out []string
	inFence := false
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}
