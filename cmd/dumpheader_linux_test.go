package cmd

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestDumpHeaderToATerminalFileEscapes: -D given a file name that is a
// terminal (-D /dev/stderr, a common way to keep heads off stdout) escapes
// the server's text as -D - on a terminal does, while -D to a plain file
// keeps the bytes as they came.
func TestDumpHeaderToATerminalFileEscapes(t *testing.T) {
	t.Parallel()
	// U+009B is CSI, which terminals act on as ESC [ does.
	const evil = "a\u009b31mred"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Evil", evil)
		io.WriteString(w, "ok\n")
	}))
	defer srv.Close()

	code, out, errOut := runOnTerminals(t, nil, []string{"stderr"}, "fetch", "--no-auth", "-s", "-D", "/dev/stderr", srv.URL)
	if code != 0 || out != "ok\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if strings.Contains(errOut, evil) || !strings.Contains(errOut, `X-Evil: a\u009b31mred`) {
		t.Errorf("-D /dev/stderr on a terminal: the header not escaped: %q", errOut)
	}

	file := t.TempDir() + "/heads"
	code, _, errOut = runOnTerminals(t, nil, []string{"stderr"}, "fetch", "--no-auth", "-s", "-D", file, srv.URL)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "X-Evil: "+evil+"\r\n") {
		t.Errorf("-D to a file: %q, want the header as it came", b)
	}
}
