package cmd

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/agcurl/agcurl/internal/testop"
)

// countingKeyring counts reads of the keyring.
type countingKeyring struct {
	*memKeyring
	gets atomic.Int32
}

func (c *countingKeyring) Get(service, user string) (string, error) {
	c.gets.Add(1)
	return c.memKeyring.Get(service, user)
}

// Several URLs share one token lookup: the keyring is read as often as
// for one URL, serially or with -Z.
func TestFetchManyLooksUpTheTokenOnce(t *testing.T) {
	te := newTestEnv(t, testop.Options{})
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	te.mustRun(t, "login", "--browser", "--port", "0")
	kr := &countingKeyring{memKeyring: te.keyring}
	te.f.Keyring = kr
	me := te.srv.APIURL + "/v1/me"

	te.mustRun(t, "fetch", me)
	one := kr.gets.Swap(0)
	if one == 0 {
		t.Fatal("one fetch read nothing from the keyring: the test counts the wrong thing")
	}
	for _, args := range [][]string{
		{"fetch", me, me, me, me},
		{"fetch", "-Z", me, me, me, me},
	} {
		out := te.mustRun(t, args...)
		if n := strings.Count(out, `"sub":"alice"`); n != 4 {
			t.Errorf("%s: %d answers\n%s", strings.Join(args, " "), n, out)
		}
		if n := kr.gets.Swap(0); n != one {
			t.Errorf("%s: %d keyring reads; one URL takes %d", strings.Join(args, " "), n, one)
		}
	}
}
