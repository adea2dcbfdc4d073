package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/agcurl/agcurl/internal/browser"
	"github.com/agcurl/agcurl/internal/testop"
)

// TestMain lets the test binary act as the agcurl binary (and as the
// stand-in browser) for end-to-end tests: testscript runs it under those
// names, and the parallel tests run it with AGCURL_TEST_MAIN=1.
func TestMain(m *testing.M) {
	if os.Getenv("AGCURL_TEST_BROWSER") == "1" {
		os.Exit(browser.Main(context.Background(), os.Args[1:]))
	}
	if os.Getenv("AGCURL_TEST_MAIN") == "1" {
		os.Exit(Main())
	}
	testscript.Main(testingM{m}, map[string]func(){
		"agcurl":      func() { os.Exit(Main()) },
		"testbrowser": func() { os.Exit(browser.Main(context.Background(), os.Args[1:])) },
	})
}

// testingM runs the package's tests, by default more of them at once than
// go test would: unless -parallel is given, twice as many as there are
// CPUs. The tests that run in parallel mostly wait, on the agcurl processes
// they start, on loopback servers and on the pauses a script needs.
type testingM struct{ m *testing.M }

func (m testingM) Run() int {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", strconv.Itoa(2*runtime.GOMAXPROCS(0))); err != nil {
			panic(err)
		}
	}
	return m.m.Run()
}

type opKey struct{}
type op2Key struct{}

// opConfig is read from a script's op.json, if it has one.
type opConfig struct {
	AccessTokenTTL string `json:"access_token_ttl"`
	Rotate         bool   `json:"rotate"`
	JWT            bool   `json:"jwt"`
	Deny           bool   `json:"deny"`
	Device         bool   `json:"device"`
	StrictOffline  bool   `json:"strict_offline"`
	// Second starts another provider, at $ISSUER2 (opcount2 counts there).
	Second bool `json:"second"`
	// NoAuthgear plays a provider that is not Authgear: no app session
	// token endpoint, no settings pages, no resolver.
	NoAuthgear bool `json:"no_authgear"`
	Iss        bool `json:"iss"`
	// TokenAuthMethods and RevocationAuthMethods replace what discovery
	// lists ([] leaves the field out); TrailingSlash makes the issuer end
	// with "/", as Auth0's does.
	TokenAuthMethods      []string `json:"token_auth_methods"`
	RevocationAuthMethods []string `json:"revocation_auth_methods"`
	TrailingSlash         bool     `json:"trailing_slash"`
	NoRevocation          bool     `json:"no_revocation"`
}

// TestScripts runs testdata/script/*.txtar: each against its own provider
// and API on loopback, with $ISSUER, $API and $CLIENT_ID set, a fresh
// config dir, file storage unless the script says otherwise, and
// BROWSER=testbrowser.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, scriptParams("testdata/script", scriptSetup))
}

// scriptParams returns the testscript parameters for the scripts in dir,
// set up by setup.
func scriptParams(dir string, setup func(*testscript.Env) error) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		// [keyring]: a real OS keyring is there to test against (CI runs
		// gnome-keyring in a D-Bus session and sets AGCURL_TEST_KEYRING=1).
		Condition: func(cond string) (bool, error) {
			if cond == "keyring" {
				return os.Getenv("AGCURL_TEST_KEYRING") == "1", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: setup,
		Cmds:  scriptCmds,
	}
}

// scriptSetup starts a script's provider and API (and a second provider if
// its op.json asks for one) and sets the environment the scripts expect.
func scriptSetup(env *testscript.Env) error {
	var oc opConfig
	if b, err := os.ReadFile(filepath.Join(env.WorkDir, "op.json")); err == nil {
		if err := json.Unmarshal(b, &oc); err != nil {
			return fmt.Errorf("op.json: %w", err)
		}
	}
	opts := testop.Options{RotateRefreshTokens: oc.Rotate, JWTAccessTokens: oc.JWT, DenyLogin: oc.Deny, Device: oc.Device,
		StrictOfflineAccess: oc.StrictOffline, IssParameter: oc.Iss, NoAuthgearExtras: oc.NoAuthgear,
		TokenAuthMethods: oc.TokenAuthMethods, RevocationAuthMethods: oc.RevocationAuthMethods, IssuerTrailingSlash: oc.TrailingSlash,
		NoRevocation: oc.NoRevocation}
	if oc.AccessTokenTTL != "" {
		d, err := time.ParseDuration(oc.AccessTokenTTL)
		if err != nil {
			return err
		}
		opts.AccessTokenTTL = d
	}
	srv, err := testop.Start(opts)
	if err != nil {
		return err
	}
	env.Defer(srv.Close)
	env.Values[opKey{}] = srv
	if oc.Second {
		srv2, err := testop.Start(testop.Options{})
		if err != nil {
			return err
		}
		env.Defer(srv2.Close)
		env.Values[op2Key{}] = srv2
		env.Setenv("ISSUER2", srv2.Issuer)
	}
	env.Setenv("ISSUER", srv.Issuer)
	env.Setenv("API", srv.APIURL)
	env.Setenv("ISSUER_LOCALHOST", strings.Replace(srv.Issuer, "127.0.0.1", "localhost", 1))
	env.Setenv("API_LOCALHOST", strings.Replace(srv.APIURL, "127.0.0.1", "localhost", 1))
	env.Setenv("API_TLS", srv.APITLSURL)
	env.Setenv("API_PORT", srv.APIURL[strings.LastIndex(srv.APIURL, ":")+1:])
	env.Setenv("API_TLS_PORT", srv.APITLSURL[strings.LastIndex(srv.APITLSURL, ":")+1:])
	env.Setenv("PROXY", srv.ProxyURL)
	if err := os.WriteFile(filepath.Join(env.WorkDir, "ca.pem"), srv.CACertPEM, 0o600); err != nil {
		return err
	}
	env.Setenv("CLIENT_ID", testop.CLIClientID)
	env.Setenv("MACHINE_CLIENT_ID", testop.MachineClientID)
	env.Setenv("MACHINE_CLIENT_SECRET", testop.MachineClientSecret)
	env.Setenv("CONF_CLIENT_ID", testop.ConfidentialClientID)
	env.Setenv("CONF_CLIENT_SECRET", testop.ConfidentialClientSecret)
	env.Setenv("POST_CLIENT_ID", testop.PostClientID)
	env.Setenv("POST_CLIENT_SECRET", testop.PostClientSecret)
	env.Setenv("ISSUER_ORIGIN", strings.TrimSuffix(srv.Issuer, "/"))
	env.Setenv("AGCURL_CONFIG_DIR", filepath.Join(env.WorkDir, "config"))
	env.Setenv("AGCURL_STORAGE", "file")
	env.Setenv("BROWSER", "testbrowser")
	env.Setenv("NO_COLOR", "1")
	env.Setenv("GORACE", childGORACE())
	if bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); bus != "" {
		env.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)
	}
	return nil
}

// childGORACE is $GORACE for the agcurl processes the tests start: the
// race detector's options of this process, plus atexit_sleep_ms=0 unless
// they set it. Otherwise each process under -race sleeps a second as it
// exits, which with hundreds of them is most of the tests' running time.
// Races are still reported, and make the process exit 66.
func childGORACE() string {
	v := os.Getenv("GORACE")
	if strings.Contains(v, "atexit_sleep_ms=") {
		return v
	}
	return strings.TrimSpace(v + " atexit_sleep_ms=0")
}

// scriptCmds are the scripts' own commands. Each checks its arguments,
// failing the script with its usage when they are wrong, and either
// honours "!" or fails with "NAME does not take !".
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// opfail PATH N STATUS [BODY]: the next N requests to PATH fail.
	"opfail": func(ts *testscript.TestScript, neg bool, args []string) {
		const usage = "opfail PATH N STATUS [BODY]"
		noNeg(ts, neg, "opfail")
		if len(args) < 3 {
			ts.Fatalf("usage: %s", usage)
		}
		n := scriptInt(ts, args[1], 1, 1<<20, usage)
		status := scriptInt(ts, args[2], 100, 599, usage)
		op(ts).Fail(args[0], n, status, strings.Join(args[3:], " "), 0)
	},
	// code N CMD ARGS...: run CMD, which must exit with code N.
	"code": func(ts *testscript.TestScript, neg bool, args []string) {
		const usage = "code N CMD [ARGS...]"
		noNeg(ts, neg, "code")
		if len(args) < 2 {
			ts.Fatalf("usage: %s", usage)
		}
		want := scriptInt(ts, args[0], 0, 255, usage)
		err := ts.Exec(args[1], args[2:]...)
		got := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			got = ee.ExitCode()
		} else if err != nil {
			ts.Fatalf("%v", err)
		}
		if got != want {
			ts.Fatalf("exit code %d, want %d", got, want)
		}
	},
	// opheader PATH N STATUS NAME VALUE: the next N requests to PATH
	// are answered with STATUS and that header.
	"opheader": func(ts *testscript.TestScript, neg bool, args []string) {
		const usage = "opheader PATH N STATUS NAME VALUE"
		noNeg(ts, neg, "opheader")
		if len(args) != 5 {
			ts.Fatalf("usage: %s", usage)
		}
		n := scriptInt(ts, args[1], 1, 1<<20, usage)
		status := scriptInt(ts, args[2], 100, 599, usage)
		op(ts).FailWithHeader(args[0], n, status, args[3], args[4])
	},
	// opforge [token_type=T] [alg=none] [CLAIM=VALUE...]: the next
	// token response is forged: a new access and refresh token of
	// type T, and, when claims or alg are given, an ID token with
	// those claims over valid ones (VALUE is JSON, or a string; "-"
	// removes the claim), signed with the provider's key unless
	// alg=none.
	"opforge": func(ts *testscript.TestScript, neg bool, args []string) {
		noNeg(ts, neg, "opforge")
		tokenType, alg := "", ""
		var claims map[string]any
		for _, a := range args {
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				ts.Fatalf("opforge: %q is not KEY=VALUE; usage: opforge [token_type=T] [alg=none] [CLAIM=VALUE...]", a)
			}
			switch k {
			case "token_type":
				tokenType = v
			case "alg":
				alg = v
			default:
				if claims == nil {
					claims = map[string]any{}
				}
				var jv any
				switch {
				case v == "-":
					jv = nil
				case json.Unmarshal([]byte(v), &jv) != nil:
					jv = v
				}
				claims[k] = jv
			}
		}
		op(ts).Forge(tokenType, alg, claims)
	},
	// opiss VALUE: later authorization responses carry iss=VALUE
	// ("-" for none, "real" for the provider's issuer).
	"opiss": func(ts *testscript.TestScript, neg bool, args []string) {
		noNeg(ts, neg, "opiss")
		if len(args) != 1 {
			ts.Fatalf("usage: opiss VALUE")
		}
		v := args[0]
		if v == "real" {
			v = ""
		}
		op(ts).SetCallbackIss(v)
	},
	// sleep DURATION: wait, e.g. for a short-lived token to expire.
	"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
		noNeg(ts, neg, "sleep")
		if len(args) != 1 {
			ts.Fatalf("usage: sleep DURATION (at most 10s)")
		}
		d, err := time.ParseDuration(args[0])
		if err != nil || d < 0 || d > 10*time.Second {
			ts.Fatalf("usage: sleep DURATION (at most 10s)")
		}
		time.Sleep(d)
	},
	// oprevoke: the provider revokes every session.
	"oprevoke": func(ts *testscript.TestScript, neg bool, args []string) {
		noNeg(ts, neg, "oprevoke")
		if len(args) != 0 {
			ts.Fatalf("usage: oprevoke")
		}
		op(ts).RevokeAll()
	},
	// opdeny on|off: the sign-in page refuses (access_denied).
	"opdeny": func(ts *testscript.TestScript, neg bool, args []string) {
		noNeg(ts, neg, "opdeny")
		if len(args) != 1 || (args[0] != "on" && args[0] != "off") {
			ts.Fatalf("usage: opdeny on|off")
		}
		op(ts).SetDenyLogin(args[0] == "on")
	},
	// opcount KEY N: the provider answered KEY exactly N times; with !,
	// any other number of times.
	"opcount": func(ts *testscript.TestScript, neg bool, args []string) {
		const usage = "opcount KEY N"
		if len(args) != 2 {
			ts.Fatalf("usage: %s", usage)
		}
		want := int64(scriptInt(ts, args[1], 0, 1<<30, usage))
		if got := op(ts).Count(args[0]); (got == want) == neg {
			ts.Fatalf("%s: count %d, want %s%d", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
		}
	},
	// opcount2 KEY N: as opcount, at the second provider.
	"opcount2": func(ts *testscript.TestScript, neg bool, args []string) {
		const usage = "opcount2 KEY N"
		if len(args) != 2 {
			ts.Fatalf("usage: %s", usage)
		}
		want := int64(scriptInt(ts, args[1], 0, 1<<30, usage))
		srv, ok := ts.Value(op2Key{}).(*testop.Server)
		if !ok {
			ts.Fatalf("opcount2: there is no second provider (op.json: {\"second\": true})")
		}
		if got := srv.Count(args[0]); (got == want) == neg {
			ts.Fatalf("%s: count %d at the second provider, want %s%d", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
		}
	},
	// expire [PROFILE]: make the stored session's access token expired,
	// as if its lifetime had passed.
	"expire": func(ts *testscript.TestScript, neg bool, args []string) {
		noNeg(ts, neg, "expire")
		if len(args) > 1 {
			ts.Fatalf("usage: expire [PROFILE]")
		}
		profile := "default"
		if len(args) == 1 {
			profile = args[0]
		}
		path := filepath.Join(ts.Getenv("AGCURL_CONFIG_DIR"), "sessions", profile+".json")
		m := sessionFile(ts, profile)
		m["expiry"] = time.Now().Add(-time.Minute).Format(time.RFC3339Nano)
		m["obtained_at"] = time.Now().Add(-time.Hour).Format(time.RFC3339Nano)
		b, err := json.Marshal(m)
		ts.Check(err)
		ts.Check(os.WriteFile(path, b, 0o600))
	},
	// secret PROFILE FIELD FILE: write a stored session's field
	// (refresh_token, access_token) to FILE.
	"secret": func(ts *testscript.TestScript, neg bool, args []string) {
		noNeg(ts, neg, "secret")
		if len(args) != 3 {
			ts.Fatalf("usage: secret PROFILE FIELD FILE")
		}
		m := sessionFile(ts, args[0])
		v, _ := m[args[1]].(string)
		if v == "" {
			ts.Fatalf("session has no %s", args[1])
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(v+"\n"), 0o600))
	},
	// envfile NAME FILE: set NAME to FILE's content, trimmed.
	"envfile": func(ts *testscript.TestScript, neg bool, args []string) {
		noNeg(ts, neg, "envfile")
		if len(args) != 2 {
			ts.Fatalf("usage: envfile NAME FILE")
		}
		ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
	},
	// nosecret FILE...: none of the files contains the default
	// profile's stored tokens.
	"nosecret": func(ts *testscript.TestScript, neg bool, args []string) {
		noNeg(ts, neg, "nosecret")
		if len(args) == 0 {
			ts.Fatalf("usage: nosecret FILE...")
		}
		secrets := secretsOf(ts)
		if len(secrets) == 0 {
			ts.Fatalf("nosecret: the stored session holds no tokens to look for")
		}
		for _, tok := range secrets {
			for _, f := range args {
				if strings.Contains(ts.ReadFile(f), tok) {
					ts.Fatalf("%s contains a token", f)
				}
			}
		}
	},
}

// noNeg fails the script when a command that does not take "!" is given it.
func noNeg(ts *testscript.TestScript, neg bool, name string) {
	if neg {
		ts.Fatalf("%s does not take !", name)
	}
}

// scriptInt parses s as a decimal integer from min to max, or fails the
// script with usage.
func scriptInt(ts *testscript.TestScript, s string, min, max int, usage string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		ts.Fatalf("%q is not a number from %d to %d; usage: %s", s, min, max, usage)
	}
	return n
}

// op returns the script's provider.
func op(ts *testscript.TestScript) *testop.Server {
	srv, ok := ts.Value(opKey{}).(*testop.Server)
	if !ok {
		ts.Fatalf("this script has no provider")
	}
	return srv
}

func sessionFile(ts *testscript.TestScript, profile string) map[string]any {
	path := filepath.Join(ts.Getenv("AGCURL_CONFIG_DIR"), "sessions", profile+".json")
	b, err := os.ReadFile(path)
	ts.Check(err)
	var m map[string]any
	ts.Check(json.Unmarshal(b, &m))
	return m
}

func secretsOf(ts *testscript.TestScript) []string {
	path := filepath.Join(ts.Getenv("AGCURL_CONFIG_DIR"), "sessions", "default.json")
	b, err := os.ReadFile(path)
	if err != nil {
		ts.Fatalf("no session to take secrets from: %v", err)
	}
	var m map[string]any
	ts.Check(json.Unmarshal(b, &m))
	var out []string
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if s, _ := m[k].(string); s != "" {
			out = append(out, s)
		}
	}
	return out
}
