package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/agcurl/agcurl/internal/testop"
)

// openPTY opens a pseudo-terminal and returns its two ends: what is written
// to tty is read from pt. It skips the test when the system has none.
func openPTY(t *testing.T) (pt, tty *os.File) {
	t.Helper()
	pt, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		t.Skipf("no pseudo-terminal to run agcurl on: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	ioctl := func(req uint, arg unsafe.Pointer) error {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, pt.Fd(), uintptr(req), uintptr(arg)); e != 0 {
			return e
		}
		return nil
	}
	var unlock int32
	var n uint32
	if err := ioctl(syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		pt.Close()
		t.Fatalf("unlockpt: %v", err)
	}
	if err := ioctl(syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		pt.Close()
		t.Fatalf("ptsname: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		pt.Close()
		t.Fatal(err)
	}
	return pt, tty
}

// runOnTerminals runs the agcurl binary with env as its whole environment
// (beyond what makes it agcurl) and, of stdout and stderr, those named in
// onTTY ("stdout", "stderr") on terminals of their own; the rest go to
// pipes. It returns the exit code and what each stream got.
func runOnTerminals(t *testing.T, env []string, onTTY []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	// The deadline only stops a process that hangs (the test then fails).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, os.Args[0], args...)
	c.Env = append([]string{"AGCURL_TEST_MAIN=1", "GORACE=" + childGORACE(), "PATH=" + os.Getenv("PATH")}, env...)
	outs := map[string]*strings.Builder{"stdout": {}, "stderr": {}}
	var readers []chan struct{}
	for _, name := range []string{"stdout", "stderr"} {
		var r, w *os.File
		if slices.Contains(onTTY, name) {
			r, w = openPTY(t)
		} else {
			var err error
			if r, w, err = os.Pipe(); err != nil {
				t.Fatal(err)
			}
		}
		if name == "stdout" {
			c.Stdout = w
		} else {
			c.Stderr = w
		}
		done := make(chan struct{})
		readers = append(readers, done)
		go func() {
			defer close(done)
			defer r.Close()
			// A terminal's reading end fails with EIO once no process
			// holds the other end: that is its end of file.
			io.Copy(outs[name], r)
		}()
	}
	err := c.Start()
	// Only the child holds the writing ends now.
	c.Stdout.(*os.File).Close()
	c.Stderr.(*os.File).Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, done := range readers {
		<-done
	}
	err = c.Wait()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ctx.Err() == nil:
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("agcurl %s: %v", strings.Join(args, " "), err)
	}
	return code, outs["stdout"].String(), outs["stderr"].String()
}

// TestColourOnATerminal runs agcurl with stdout or stderr on a terminal, so
// that the process makes the decision to colour as it does for a person:
// on a terminal unless NO_COLOR is set or TERM is dumb, and never on a pipe,
// with --color always and --color never winning over all that.
func TestColourOnATerminal(t *testing.T) {
	t.Parallel()
	te := newTestEnv(t, testop.Options{})
	te.env["AGCURL_STORAGE"] = "file"
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	te.mustRun(t, "login", "--browser", "--port", "0")
	dir, err := te.f.ConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"AGCURL_CONFIG_DIR=" + dir, "AGCURL_STORAGE=file", "TERM=xterm-256color"}
	for _, tc := range []struct {
		name     string
		env      []string
		onTTY    string
		flags    []string
		colour   bool
		checkErr bool // stderr too, not only stdout
	}{
		{"terminal", nil, "stdout stderr", nil, true, true},
		{"NO_COLOR", []string{"NO_COLOR=1"}, "stdout stderr", nil, false, true},
		{"NO_COLOR, --color always", []string{"NO_COLOR=1"}, "stdout stderr", []string{"--color", "always"}, true, true},
		{"TERM=dumb", []string{"TERM=dumb"}, "stdout", nil, false, false},
		{"--color never", nil, "stdout", []string{"--color", "never"}, false, false},
		{"a pipe", nil, "", nil, false, false},
		{"a pipe, --color always", nil, "", []string{"--color", "always"}, true, false},
	} {
		env := append(append([]string{}, base...), tc.env...)
		onTTY := strings.Fields(tc.onTTY)
		// status colours stdout; configure --set-default, stderr.
		code, out, _ := runOnTerminals(t, env, onTTY, append(tc.flags, "status")...)
		if code != 0 || !strings.Contains(out, "logged in as alice") {
			t.Errorf("%s: status: exit %d, stdout %q", tc.name, code, out)
		} else if got := strings.Contains(out, "\x1b["); got != tc.colour {
			t.Errorf("%s: status coloured stdout: %v, want %v: %q", tc.name, got, tc.colour, out)
		}
		// whoami --json is coloured as fetch colours JSON.
		code, out, _ = runOnTerminals(t, env, onTTY, append(tc.flags, "whoami", "--json")...)
		if code != 0 || !strings.Contains(out, `"sub"`) {
			t.Errorf("%s: whoami --json: exit %d, stdout %q", tc.name, code, out)
		} else if got := strings.Contains(out, "\x1b[34;1m\"sub\"\x1b[0;22m:"); got != tc.colour {
			t.Errorf("%s: whoami --json coloured: %v, want %v: %q", tc.name, got, tc.colour, out)
		} else if !tc.colour && strings.Contains(out, "\x1b[") {
			t.Errorf("%s: whoami --json: colour where none is wanted: %q", tc.name, out)
		}
		if !tc.checkErr {
			continue
		}
		code, _, errOut := runOnTerminals(t, env, onTTY, append(tc.flags, "configure", "--set-default")...)
		if code != 0 || !strings.Contains(errOut, "is the default now") {
			t.Errorf("%s: configure --set-default: exit %d, stderr %q", tc.name, code, errOut)
		} else if got := strings.Contains(errOut, "\x1b["); got != tc.colour {
			t.Errorf("%s: configure --set-default coloured stderr: %v, want %v: %q", tc.name, got, tc.colour, errOut)
		}
	}
}
