package cmd

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/agcurl/agcurl/internal/testop"
)

// Ctrl-C at a terminal reaches the command, from the terminal itself, and
// agcurl keeps waiting for the command and passing signals on. (Whether
// agcurl also passes the SIGINT on cannot be seen reliably here: the
// kernel merges two SIGINTs that arrive close together; see
// TestForwardSignalDecision for that.)
func TestExecCtrlCAtATerminal(t *testing.T) {
	t.Parallel()
	_, env, _ := loggedIn(t, testop.Options{})
	pt, tty := openPTY(t)
	defer pt.Close()
	go io.Copy(io.Discard, pt) // the terminal's echo of ^C

	c := agcurlProcess(t, env, "exec", "--", "sh", "-c", `n=0
trap 'n=$((n+1)); echo "int $n"' INT
trap 'echo "ints: $n"; exit 0' TERM
echo ready
while :; do sleep 0.05; done`)
	c.Stdin = tty
	// A session of its own, with the terminal as its controlling one:
	// agcurl is then the terminal's foreground process group.
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut syncBuffer
	c.Stderr = &errOut
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); line != "ready\n" {
		t.Fatalf("%q, %v:\n%s", line, err, errOut.String())
	}
	if _, err := pt.Write([]byte{0x03}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	if line, err := out.ReadString('\n'); line != "int 1\n" {
		t.Fatalf("after Ctrl-C: %q, %v:\n%s", line, err, errOut.String())
	}
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out)
	err = c.Wait()
	if strings.TrimSpace(string(rest)) != "ints: 1" || c.ProcessState.ExitCode() != 0 {
		t.Fatalf("the command said %q, agcurl exited %d (%v); stderr:\n%s", rest, c.ProcessState.ExitCode(), err, errOut.String())
	}
}

// forwardHelperEnv makes TestForwardSignalHelper print forwardSignal's
// decisions, in a process of the test's making.
const forwardHelperEnv = "AGCURL_TEST_FORWARD_HELPER"

func TestForwardSignalHelper(t *testing.T) {
	if os.Getenv(forwardHelperEnv) != "1" {
		t.Skip("run by TestForwardSignalDecision")
	}
	fmt.Printf("INT=%v QUIT=%v TERM=%v HUP=%v\n", forwardSignal(syscall.SIGINT), forwardSignal(syscall.SIGQUIT),
		forwardSignal(syscall.SIGTERM), forwardSignal(syscall.SIGHUP))
}

// SIGINT and SIGQUIT are not passed on when agcurl is in the foreground of
// its terminal (the terminal sent them to the command too), and are
// otherwise; other signals always are.
func TestForwardSignalDecision(t *testing.T) {
	t.Parallel()
	run := func(onTerminal bool) string {
		c := exec.Command(os.Args[0], "-test.run=^TestForwardSignalHelper$", "-test.v")
		c.Env = append(os.Environ(), forwardHelperEnv+"=1")
		if onTerminal {
			pt, tty := openPTY(t)
			defer pt.Close()
			defer tty.Close()
			c.Stdin = tty
			c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		} else {
			c.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal
		}
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "INT=") {
				return l
			}
		}
		t.Fatalf("no decisions in %s", out)
		return ""
	}
	if got := run(true); got != "INT=false QUIT=false TERM=true HUP=true" {
		t.Errorf("in a terminal's foreground: %s", got)
	}
	if got := run(false); got != "INT=true QUIT=true TERM=true HUP=true" {
		t.Errorf("without a terminal: %s", got)
	}
}
