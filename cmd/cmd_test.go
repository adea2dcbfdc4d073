package cmd

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/internal/browser"
	"github.com/agcurl/agcurl/internal/testop"
)

// memKeyring is an in-memory OS keyring for in-process tests.
type memKeyring struct {
	mu    sync.Mutex
	items map[string]string
}

func (m *memKeyring) Get(service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memKeyring) Set(service, user, secret string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.items == nil {
		m.items = map[string]string{}
	}
	m.items[service+"/"+user] = secret
	return nil
}

func (m *memKeyring) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items, service+"/"+user)
	return nil
}

type testEnv struct {
	f       *Factory
	in      *bytes.Buffer
	out     *bytes.Buffer
	errOut  *bytes.Buffer
	env     map[string]string
	keyring *memKeyring
	srv     *testop.Server
}

func newTestEnv(t *testing.T, opts testop.Options) *testEnv {
	t.Helper()
	srv, err := testop.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ios, in, out, errOut := TestIO()
	dir := filepath.Join(t.TempDir(), "config")
	te := &testEnv{in: in, out: out, errOut: errOut, env: map[string]string{}, keyring: &memKeyring{}, srv: srv}
	te.f = &Factory{
		IO:         ios,
		Getenv:     func(k string) string { return te.env[k] },
		ConfigDir:  func() (string, error) { return dir, nil },
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Browser:    browser.Async{},
		Keyring:    te.keyring,
		Now:        time.Now,
	}
	return te
}

func (te *testEnv) run(args ...string) int {
	te.out.Reset()
	te.errOut.Reset()
	return Run(context.Background(), te.f, args)
}

func (te *testEnv) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	if code := te.run(args...); code != 0 {
		t.Fatalf("agcurl %s: exit %d\n%s", strings.Join(args, " "), code, te.errOut.String())
	}
	return te.out.String()
}

func TestInProcessFlowWithKeyring(t *testing.T) {
	te := newTestEnv(t, testop.Options{})
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	te.mustRun(t, "login", "--browser", "--port", "0")
	if !strings.Contains(te.errOut.String(), "keyring storage") {
		t.Fatalf("login output: %s", te.errOut.String())
	}
	if len(te.keyring.items) == 0 {
		t.Fatal("the session is not in the keyring")
	}
	tok := strings.TrimSpace(te.mustRun(t, "token"))
	if out := te.mustRun(t, "fetch", te.srv.APIURL+"/v1/me"); !strings.Contains(out, `"sub":"alice"`) {
		t.Fatalf("fetch: %s", out)
	}
	te.mustRun(t, "fetch", "-v", "-o", filepath.Join(t.TempDir(), "x"), te.srv.APIURL+"/v1/me")
	if strings.Contains(te.errOut.String(), tok) || !strings.Contains(te.errOut.String(), "Bearer <redacted>") {
		t.Fatal("-v must redact the token")
	}
	te.mustRun(t, "logout")
	if len(te.keyring.items) != 0 {
		t.Fatal("logout left the session in the keyring")
	}
	if code := te.run("token"); code != ExitLoginRequired {
		t.Fatalf("token after logout: exit %d", code)
	}
}

func TestConfigurePromptsOnATerminal(t *testing.T) {
	te := newTestEnv(t, testop.Options{})
	te.f.IO.InTTY = true
	te.in.WriteString(te.srv.Issuer + "\n" + testop.CLIClientID + "\n")
	te.mustRun(t, "configure")
	if !strings.Contains(te.errOut.String(), "Endpoint (e.g. https://myapp.authgear.cloud): Client ID: ") {
		t.Fatalf("prompts: %q", te.errOut.String())
	}
	if out := te.mustRun(t, "config", "list"); !strings.Contains(out, testop.CLIClientID) {
		t.Fatalf("config list: %s", out)
	}
	// Not a terminal: no prompt, a usage error.
	te.f.IO.InTTY = false
	if code := te.run("configure", "--profile", "p2"); code != ExitUsage {
		t.Fatalf("exit %d, want 2", code)
	}
}

func TestLoginInterruptExits130(t *testing.T) {
	te := newTestEnv(t, testop.Options{})
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	ctx, cancel := context.WithCancel(context.Background())
	te.f.Browser = browserFunc(func(string) error { cancel(); return nil })
	code := Run(ctx, te.f, []string{"login", "--browser", "--port", "0"})
	if code != ExitInterrupted || !strings.Contains(te.errOut.String(), "agcurl: interrupted") {
		t.Fatalf("exit %d: %s", code, te.errOut.String())
	}
}

type browserFunc func(string) error

func (b browserFunc) Open(u string) error { return b(u) }

func TestBrowserFailureStillPrintsURL(t *testing.T) {
	te := newTestEnv(t, testop.Options{})
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	te.f.Browser = browserFunc(func(u string) error {
		go browser.Follow(context.Background(), u) // the user opens it by hand
		return context.DeadlineExceeded
	})
	te.mustRun(t, "login", "--browser", "--port", "0")
	if !strings.Contains(te.errOut.String(), "Could not open a browser") || !strings.Contains(te.errOut.String(), "/oauth2/authorize?") {
		t.Fatalf("output: %s", te.errOut.String())
	}
}

func TestColourOnlyWhenAsked(t *testing.T) {
	te := newTestEnv(t, testop.Options{})
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	te.mustRun(t, "login", "--browser", "--port", "0")
	if out := te.mustRun(t, "whoami"); strings.Contains(out, "\x1b[") {
		t.Fatal("colour on a non-terminal")
	}
	te.f.IO.ColorOut = true
	if out := te.mustRun(t, "whoami"); !strings.Contains(out, "\x1b[1mAlice Example") {
		t.Fatalf("no colour on a colour terminal: %q", out)
	}
}

func TestColorDecision(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		terminal bool
		getenv   func(string) string
		want     bool
	}{
		{true, env(), true},
		{true, env("NO_COLOR", "1"), false},
		{true, env("NO_COLOR", "0"), false}, // any value, as no-color.org says
		{true, env("TERM", "dumb"), false},
		{false, env(), false},
	} {
		if got := colorFor(c.terminal, c.getenv); got != c.want {
			t.Errorf("colorFor(terminal=%v, NO_COLOR=%q TERM=%q) = %v, want %v",
				c.terminal, c.getenv("NO_COLOR"), c.getenv("TERM"), got, c.want)
		}
	}
	// SystemIO uses it (stdout is not a terminal under go test, so colour
	// is off either way; colorFor is what decides on a terminal).
	if io := SystemIO(env("NO_COLOR", "1")); io.ColorOut || io.ColorErr {
		t.Fatal("NO_COLOR must turn colour off")
	}
}

// --color always wins over NO_COLOR, and never over a colour terminal.
func TestColorFlagWinsOverTheEnvironment(t *testing.T) {
	for flag, want := range map[string]bool{"always": true, "never": false} {
		f := shapeFactory(t, map[string]string{"NO_COLOR": "1"})
		f.IO.OutTTY, f.IO.ColorOut = true, flag == "never" // the opposite of what the flag must give
		capture := func(f *Factory) *cobra.Command {
			return NewCmdToken(f, func(o *TokenOptions) error {
				if o.IO.ColorOut != want || o.IO.ColorErr != want {
					t.Errorf("--color %s: ColorOut=%v ColorErr=%v, want %v", flag, o.IO.ColorOut, o.IO.ColorErr, want)
				}
				return nil
			})
		}
		if err := parseArgs(t, f, capture, "token", "--color", flag); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExitCodesHelpListsEveryCode: 'agcurl help exit-codes' lists every
// exit code agcurl has, and no other: the Exit constants, all of which the
// test names (it reads the source to be sure), and the codes of
// httpcall.TransportError, httpcall.CurlCodes.
func TestExitCodesHelpListsEveryCode(t *testing.T) {
	constants := map[string]int{
		"ExitOK": ExitOK, "ExitError": ExitError, "ExitUsage": ExitUsage,
		"ExitLoginRequired": ExitLoginRequired, "ExitProxy": ExitProxy,
		"ExitResolve": ExitResolve, "ExitConnect": ExitConnect,
		"ExitHTTPError": ExitHTTPError, "ExitWriteError": ExitWriteError,
		"ExitReadError": ExitReadError, "ExitTimeout": ExitTimeout, "ExitTLS": ExitTLS,
		"ExitTooManyRedirs": ExitTooManyRedirs, "ExitRecv": ExitRecv,
		"ExitClientCert": ExitClientCert, "ExitPeerCert": ExitPeerCert, "ExitDecoding": ExitDecoding,
		"ExitCACert": ExitCACert, "ExitInterrupted": ExitInterrupted,
		"ExitCannotRun": ExitCannotRun, "ExitNotFound": ExitNotFound,
	}
	for name := range constSpecs(t, ".", func(name string, typ ast.Expr) bool {
		return strings.HasPrefix(name, "Exit")
	}) {
		if _, ok := constants[name]; !ok {
			t.Errorf("the constant %s is new: add it to this test", name)
		}
	}
	codes := map[int]string{}
	for name, code := range constants {
		codes[code] = name
	}
	for _, c := range httpcall.CurlCodes {
		codes[int(c)] = fmt.Sprintf("httpcall.TransportError code %d", c)
	}
	// A CurlCode left out of httpcall.CurlCodes would go unchecked.
	for name, value := range constSpecs(t, "../httpcall", func(name string, typ ast.Expr) bool {
		id, ok := typ.(*ast.Ident)
		return ok && id.Name == "CurlCode"
	}) {
		lit, ok := value.(*ast.BasicLit)
		if !ok || lit.Kind != token.INT {
			t.Errorf("httpcall.%s is not an integer literal: teach this test to read it", name)
			continue
		}
		if n, err := strconv.Atoi(lit.Value); err != nil {
			t.Errorf("httpcall.%s is not an integer literal: teach this test to read it", name)
		} else if !slices.Contains(httpcall.CurlCodes, httpcall.CurlCode(n)) {
			t.Errorf("httpcall.%s (%d) is not in httpcall.CurlCodes", name, n)
		}
	}

	te := newTestEnv(t, testop.Options{})
	help := te.mustRun(t, "help", "exit-codes")
	documented := map[int]bool{}
	for _, m := range regexp.MustCompile(`(?m)^    ([0-9]+) +\S`).FindAllStringSubmatch(help, -1) {
		n, _ := strconv.Atoi(m[1])
		documented[n] = true
	}
	for _, code := range slices.Sorted(maps.Keys(codes)) {
		if !documented[code] {
			t.Errorf("exit code %d (%s) is not in 'agcurl help exit-codes'", code, codes[code])
		}
	}
	for _, code := range slices.Sorted(maps.Keys(documented)) {
		if codes[code] == "" {
			t.Errorf("'agcurl help exit-codes' lists %d, which agcurl never exits with", code)
		}
	}
}

// constSpecs returns the constants declared in the Go files of dir (tests
// aside) that keep accepts given their name and declared type (nil if
// none), with their values.
func constSpecs(t *testing.T, dir string, keep func(name string, typ ast.Expr) bool) map[string]ast.Expr {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	consts := map[string]ast.Expr{}
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if keep(name.Name, vs.Type) {
						var v ast.Expr
						if i < len(vs.Values) {
							v = vs.Values[i]
						}
						consts[name.Name] = v
					}
				}
			}
		}
	}
	if len(consts) == 0 {
		t.Fatalf("no such constants in %s", dir)
	}
	return consts
}

func TestFetchOnATerminal(t *testing.T) {
	t.Parallel()
	te := newTestEnv(t, testop.Options{})
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	te.mustRun(t, "login", "--browser", "--port", "0")
	te.f.IO.OutTTY, te.f.IO.ErrTTY = true, true

	// JSON is pretty-printed, and coloured when colour is on.
	out := te.mustRun(t, "fetch", te.srv.APIURL+"/v1/me")
	if !strings.HasPrefix(out, "{\n  \"client_id\": \"agcurl-cli\",") || strings.Contains(out, "\x1b[") {
		t.Fatalf("want plain pretty JSON, got %q", out)
	}
	out = te.mustRun(t, "--color", "always", "fetch", te.srv.APIURL+"/v1/me")
	if !strings.Contains(out, "\x1b[34;1m\"sub\"\x1b[0;22m") || !strings.Contains(out, "\x1b[32m\"alice\"\x1b[0m") {
		t.Fatalf("want coloured JSON, got %q", out)
	}
	te.f.IO.ColorOut, te.f.IO.ColorErr = false, false
	if out := te.mustRun(t, "fetch", "--raw", te.srv.APIURL+"/v1/me"); !strings.HasPrefix(out, `{"client_id"`) {
		t.Fatalf("--raw: %q", out)
	}

	// A binary body is not dumped on a terminal; -o - forces it.
	if code := te.run("fetch", te.srv.APIURL+"/v1/binary"); code != ExitWriteError || te.out.Len() != 0 ||
		!strings.Contains(te.errOut.String(), `binary output can mess up your terminal; use "--output -"`) {
		t.Fatalf("binary guard: exit %d, out %q, err %q", code, te.out.String(), te.errOut.String())
	}
	if out := te.mustRun(t, "fetch", "-o", "-", te.srv.APIURL+"/v1/binary"); !strings.Contains(out, "PNG") {
		t.Fatalf("-o - should write the bytes: %q", out)
	}

	// A long download to a file shows progress on stderr; -s hides it.
	path := filepath.Join(t.TempDir(), "big")
	te.mustRun(t, "fetch", "-o", path, te.srv.APIURL+"/v1/bytes?n=262144&pace_ms=400")
	if !strings.Contains(te.errOut.String(), "100.0%  256.0 KiB / 256.0 KiB") {
		t.Fatalf("no progress bar: %q", te.errOut.String())
	}
	te.mustRun(t, "fetch", "-s", "-o", path, te.srv.APIURL+"/v1/bytes?n=262144&pace_ms=400")
	if te.errOut.Len() != 0 {
		t.Fatalf("-s should hide progress: %q", te.errOut.String())
	}
	te.f.IO.ErrTTY = false
	te.mustRun(t, "fetch", "-o", path, te.srv.APIURL+"/v1/bytes?n=262144&pace_ms=400")
	if te.errOut.Len() != 0 {
		t.Fatalf("no progress when stderr is not a terminal: %q", te.errOut.String())
	}
}

// waitForLine waits until a line of out contains s, and returns that line
// trimmed; it gives up when done is closed or after 20 seconds.
func waitForLine(done <-chan struct{}, out *syncBuffer, s string) (string, error) {
	deadline := time.After(20 * time.Second)
	for {
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Contains(line, s) {
				return strings.TrimSpace(line), nil
			}
		}
		select {
		case <-done:
			return "", fmt.Errorf("no line with %q in the output: %q", s, out.String())
		case <-deadline:
			return "", fmt.Errorf("no line with %q after 20s: %q", s, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestNoBrowserPaste: on a machine whose browser cannot reach the loopback
// listener, the user pastes the address the sign-in ended on.
func TestNoBrowserPaste(t *testing.T) {
	te := newTestEnv(t, testop.Options{})
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	pr, pw := io.Pipe()
	errOut := &syncBuffer{}
	te.f.IO.In, te.f.IO.ErrOut, te.f.IO.InTTY, te.f.IO.OutTTY = pr, errOut, true, true
	te.f.Browser = browserFunc(func(string) error { t.Error("--no-browser opened a browser"); return nil })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, user := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(user)
		authURL, err := waitForLine(done, errOut, "/oauth2/authorize?")
		if err == nil {
			// A browser elsewhere: it follows the sign-in but stops short
			// of the loopback redirect, whose address the user copies.
			var final string
			if final, err = browser.FinalRedirect(context.Background(), authURL); err == nil {
				forged := strings.Replace(final, "state=", "state=x", 1)
				io.WriteString(pw, "not a url at all?code=\n"+forged+"\n"+final+"\n")
				return
			}
		}
		t.Error(err)
		cancel() // login fails rather than wait
	}()
	code := Run(ctx, te.f, []string{"login", "--no-browser", "--port", "0", "--timeout", "30s"})
	close(done)
	<-user
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "state mismatch") || !strings.Contains(errOut.String(), "Logged in to") {
		t.Fatalf("output: %s", errOut.String())
	}
	te.f.IO.ErrOut = te.errOut
	if out := te.mustRun(t, "whoami", "--json"); !strings.Contains(out, `"sub": "alice"`) {
		t.Fatalf("whoami: %s", out)
	}
}

// TestNoBrowserWaitsForTheRedirect: without a terminal, --no-browser prints
// the URL and completes when the redirect arrives (a forwarded port).
func TestNoBrowserWaitsForTheRedirect(t *testing.T) {
	te := newTestEnv(t, testop.Options{})
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	errOut := &syncBuffer{}
	te.f.IO.ErrOut = errOut
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, user := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(user)
		authURL, err := waitForLine(done, errOut, "/oauth2/authorize?")
		if err == nil {
			err = browser.Follow(context.Background(), authURL)
		}
		if err != nil {
			t.Error(err)
			cancel() // login fails rather than wait
		}
	}()
	code := Run(ctx, te.f, []string{"login", "--no-browser", "--port", "0", "--timeout", "30s"})
	close(done)
	<-user
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if strings.Contains(errOut.String(), "paste") {
		t.Fatal("without a terminal there is nothing to paste into")
	}
}

func TestCompletion(t *testing.T) {
	te := newTestEnv(t, testop.Options{})
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	te.mustRun(t, "configure", "--profile", "staging", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	for args, want := range map[string][]string{
		"__complete fetch --profile st":  {"staging"},
		"__complete whoami --profile ":   {"default", "staging"},
		"__complete configure --delete ": {"default", "staging"},
		"__complete --color ":            {"auto", "always", "never"},
		"__complete fetch -X P":          {"POST", "PUT", "PATCH"},
		"__complete login --prompt ":     {"login", "none", "consent", "select_account"},
	} {
		words := strings.Split(args, " ")
		out := te.mustRun(t, words...)
		for _, w := range want {
			if !strings.Contains(out, w+"\n") {
				t.Errorf("%s: %q lacks %s", args, out, w)
			}
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if out := te.mustRun(t, "completion", shell); !strings.Contains(out, "agcurl") {
			t.Errorf("completion %s printed nothing useful", shell)
		}
	}
}

func TestVersion(t *testing.T) {
	te := newTestEnv(t, testop.Options{})
	out := te.mustRun(t, "version")
	if !strings.HasPrefix(out, "agcurl version ") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("version: %q", out)
	}
	if again := te.mustRun(t, "--version"); again != out {
		t.Fatalf("--version %q differs from version %q", again, out)
	}
}
