package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptT is a testscript.T that records what happens instead of failing
// the test, so that a test can run a script meant to fail.
type scriptT struct {
	mu      sync.Mutex
	log     strings.Builder
	failed  bool
	skipped bool
}

func (t *scriptT) Log(args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintln(&t.log, args...)
}

func (t *scriptT) FailNow() {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	runtime.Goexit()
}

func (t *scriptT) Fatal(args ...any) {
	t.Log(args...)
	t.FailNow()
}

func (t *scriptT) Skip(args ...any) {
	t.Log(args...)
	t.mu.Lock()
	t.skipped = true
	t.mu.Unlock()
	runtime.Goexit()
}

func (t *scriptT) Parallel()     {}
func (t *scriptT) Verbose() bool { return false }

// Run runs f in a goroutine of its own, as testing.T.Run does, so that
// FailNow ends f only; the outcome is t's.
func (t *scriptT) Run(name string, f func(testscript.T)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(t)
	}()
	<-done
}

// runScript runs the script text (a txtar archive) with the scripts'
// commands, set up by setup, and returns whether it failed and its log.
func runScript(t *testing.T, text string, setup func(*testscript.Env) error) (failed bool, log string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.txtar"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	st := &scriptT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testscript.RunT(st, scriptParams(dir, setup))
	}()
	<-done
	if st.skipped {
		t.Fatalf("script skipped:\n%s", st.log.String())
	}
	return st.failed, st.log.String()
}

// noProvider sets up a script without starting a provider, for scripts
// whose commands must fail before they would talk to one.
func noProvider(env *testscript.Env) error {
	env.Setenv("AGCURL_CONFIG_DIR", filepath.Join(env.WorkDir, "config"))
	return nil
}

// TestScriptCommandsRejectMisuse: each of the scripts' own commands fails
// the script, saying why, when given "!" it does not take, the wrong
// number of arguments, or a number that is not one.
func TestScriptCommandsRejectMisuse(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"! opfail /v1/me 1 500", "opfail does not take !"},
		{"opfail /v1/me 1", "usage: opfail PATH N STATUS"},
		{"opfail /v1/me one 500", `"one" is not a number .*usage: opfail`},
		{"opfail /v1/me 1 5xx", `"5xx" is not a number .*usage: opfail`},
		{"opfail /v1/me 1 1000", `"1000" is not a number from 100 to 599`},
		{"! code 0 agcurl version", "code does not take !"},
		{"code 0", "usage: code N CMD"},
		{"code zero agcurl version", `"zero" is not a number .*usage: code`},
		{"code 256 agcurl version", `"256" is not a number from 0 to 255`},
		{"! opheader /v1/me 1 503 Retry-After 1", "opheader does not take !"},
		{"opheader /v1/me 1 503 Retry-After", "usage: opheader PATH N STATUS NAME VALUE"},
		{"opheader /v1/me n 503 Retry-After 1", `"n" is not a number .*usage: opheader`},
		{"opheader /v1/me 1 5o3 Retry-After 1", `"5o3" is not a number .*usage: opheader`},
		{"! opforge sub=mallory", "opforge does not take !"},
		{"opforge sub", `"sub" is not KEY=VALUE`},
		{"! opiss real", "opiss does not take !"},
		{"opiss", "usage: opiss VALUE"},
		{"opiss a b", "usage: opiss VALUE"},
		{"! sleep 1ms", "sleep does not take !"},
		{"sleep", "usage: sleep DURATION"},
		{"sleep 1 ms", "usage: sleep DURATION"},
		{"sleep forever", "usage: sleep DURATION"},
		{"sleep 11s", "usage: sleep DURATION"},
		{"! oprevoke", "oprevoke does not take !"},
		{"oprevoke all", "usage: oprevoke"},
		{"! opdeny on", "opdeny does not take !"},
		{"opdeny", "usage: opdeny on|off"},
		{"opdeny yes", "usage: opdeny on|off"},
		{"opcount grant:refresh_token", "usage: opcount KEY N"},
		{"opcount grant:refresh_token 1 2", "usage: opcount KEY N"},
		{"opcount grant:refresh_token one", `"one" is not a number .*usage: opcount KEY N`},
		{"opcount grant:refresh_token -1", `"-1" is not a number .*usage: opcount KEY N`},
		{"! opcount2 /oauth2/token", "usage: opcount2 KEY N"},
		{"opcount2 /oauth2/token x", `"x" is not a number .*usage: opcount2 KEY N`},
		{"opcount2 /oauth2/token 0", "opcount2: there is no second provider"},
		{"! expire", "expire does not take !"},
		{"expire default staging", "usage: expire"},
		{"! secret default refresh_token rt.txt", "secret does not take !"},
		{"secret default refresh_token", "usage: secret PROFILE FIELD FILE"},
		{"! envfile AGCURL_REFRESH_TOKEN rt.txt", "envfile does not take !"},
		{"envfile AGCURL_REFRESH_TOKEN", "usage: envfile NAME FILE"},
		{"! nosecret stdout", "nosecret does not take !"},
		{"nosecret", "usage: nosecret FILE"},
	} {
		failed, log := runScript(t, tc.line+"\n", noProvider)
		if !failed {
			t.Errorf("%s: the script passed; log:\n%s", tc.line, log)
			continue
		}
		if !regexp.MustCompile(`FAIL: .*` + tc.want).MatchString(log) {
			t.Errorf("%s: want a failure matching %q; log:\n%s", tc.line, tc.want, log)
		}
	}
}

// TestScriptCountsHonourNeg: opcount and opcount2 pass with and without
// "!" exactly when they should.
func TestScriptCountsHonourNeg(t *testing.T) {
	const op = "-- op.json --\n{\"second\": true}\n"
	if failed, log := runScript(t, "opcount grant:refresh_token 0\n! opcount grant:refresh_token 1\n"+
		"opcount2 /oauth2/token 0\n! opcount2 /oauth2/token 1\n"+op, scriptSetup); failed {
		t.Errorf("the counts are 0, yet:\n%s", log)
	}
	for _, tc := range []struct{ line, want string }{
		{"! opcount grant:refresh_token 0", "count 0, want not 0"},
		{"opcount grant:refresh_token 1", "count 0, want 1"},
		{"! opcount2 /oauth2/token 0", "count 0 at the second provider, want not 0"},
		{"opcount2 /oauth2/token 1", "count 0 at the second provider, want 1"},
	} {
		failed, log := runScript(t, tc.line+"\n"+op, scriptSetup)
		if !failed || !strings.Contains(log, tc.want) {
			t.Errorf("%s: want a failure with %q; failed %v, log:\n%s", tc.line, tc.want, failed, log)
		}
	}
}
