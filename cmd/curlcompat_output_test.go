package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/internal/testop"
)

// This file runs agcurl and curl side by side against the bundled API and
// compares what they write: -i, -I, -D and -w, and their exit codes. Both
// send the same request (the same token, the same User-Agent), and the
// API's /v1/wire route writes its heads byte by byte with nothing that
// varies between two calls (no Date), so the outputs can be compared byte
// for byte. It is skipped only when curl is not installed.

// compatUA is the User-Agent both send, so that requests are the same size.
const compatUA = "compat-test/1"

type run struct {
	stdout, stderr string
	code           int
	files          map[string]string // the files -o and -D wrote, by name
}

// compat runs agcurl in-process (signed in to the bundled provider) and
// curl as a process, one after the other.
type compat struct {
	t        *testing.T
	curl     string
	te       *testEnv
	token    string
	api, tls string
	ca       string
}

func newCompat(t *testing.T) *compat {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	te := newTestEnv(t, testop.Options{})
	te.env["AGCURL_STORAGE"] = "file"
	te.env["NO_COLOR"] = "1"
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	te.mustRun(t, "login", "--browser", "--port", "0")
	token := strings.TrimSpace(te.mustRun(t, "token"))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, te.srv.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return &compat{t: t, curl: curl, te: te, token: token, api: te.srv.APIURL, tls: te.srv.APITLSURL, ca: ca}
}

// both runs agcurl fetch and curl with args, each with a directory of its
// own as $DIR, and returns what each wrote. $API, $API_TLS and $CA are the
// bundled API's URLs and CA file.
func (c *compat) both(args ...string) (ag, cu run) {
	c.t.Helper()
	return c.exec(true, args), c.exec(false, args)
}

func (c *compat) exec(agcurl bool, args []string) run {
	c.t.Helper()
	dir := c.t.TempDir()
	r := strings.NewReplacer("$API_TLS", c.tls, "$API", c.api, "$CA", c.ca, "$DIR", dir)
	expanded := make([]string, len(args))
	for i, a := range args {
		expanded[i] = r.Replace(a)
	}
	var res run
	if agcurl {
		res.code = c.te.run(append([]string{"fetch", "-A", compatUA}, expanded...)...)
		res.stdout, res.stderr = c.te.out.String(), c.te.errOut.String()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, c.curl, append([]string{"-q", "-A", compatUA, "-H", "Authorization: Bearer " + c.token}, expanded...)...)
		cmd.Dir = dir
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			res.code = ee.ExitCode()
		case err != nil:
			c.t.Fatalf("curl %q: %v", args, err)
		}
		res.stdout, res.stderr = out.String(), errOut.String()
	}
	// Where the files went differs; the rest must not.
	res.stdout = strings.ReplaceAll(res.stdout, dir, "$DIR")
	res.stderr = strings.ReplaceAll(res.stderr, dir, "$DIR")
	res.files = map[string]string{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		res.files[e.Name()] = string(b)
	}
	return res
}

// same fails the test unless agcurl and curl wrote the same stdout and
// files and exited alike.
func (c *compat) same(args ...string) run {
	c.t.Helper()
	ag, cu := c.both(args...)
	if ag.code != cu.code {
		c.t.Errorf("%q: agcurl exits %d, curl %d\nagcurl stderr: %s\ncurl stderr: %s", args, ag.code, cu.code, ag.stderr, cu.stderr)
	}
	if ag.stdout != cu.stdout {
		c.t.Errorf("%q: stdout differs\nagcurl: %q\ncurl:   %q", args, ag.stdout, cu.stdout)
	}
	if len(ag.files) != len(cu.files) {
		c.t.Errorf("%q: agcurl wrote files %v, curl %v", args, keys(ag.files), keys(cu.files))
	}
	for name, want := range cu.files {
		if got, ok := ag.files[name]; !ok || got != want {
			c.t.Errorf("%q: file %s differs\nagcurl: %q\ncurl:   %q", args, name, got, want)
		}
	}
	return ag
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCurlCompatHeads(t *testing.T) {
	t.Parallel()
	c := newCompat(t)
	for _, args := range [][]string{
		{"-i", "$API/v1/wire"},
		{"-i", "$API/v1/wire?early=1"},
		{"-I", "$API/v1/wire"},
		{"-i", "$API/v1/wire?hop=1"},
		{"-i", "-L", "$API/v1/wire?hop=2"},
		{"-I", "-L", "$API/v1/wire?hop=1"},
		{"-D", "-", "-o", "$DIR/body", "$API/v1/wire"},
		{"-D", "-", "-i", "$API/v1/wire"},
		{"-D", "$DIR/heads", "$API/v1/wire?early=1"},
		{"-D", "$DIR/heads", "-L", "-o", "$DIR/body", "$API/v1/wire?hop=2"},
		{"-D", "$DIR/heads", "-I", "$API/v1/wire"},
		{"-D", "$DIR/heads", "-i", "-o", "$DIR/body", "$API/v1/wire"},
		{"-f", "-i", "$API/v1/wire?code=404"},
		{"--cacert", "$CA", "-i", "$API_TLS/v1/wire"},
		{"--cacert", "$CA", "-D", "-", "-L", "-o", "$DIR/body", "$API_TLS/v1/wire?hop=1"},
		{"-L", "--max-redirs", "1", "-D", "$DIR/heads", "$API/v1/wire?hop=3"},
	} {
		c.same(args...)
	}
}

// deterministic are the -w variables whose values agcurl and curl must
// agree on for the same request (not timings, speeds or local ports).
var deterministic = []string{
	"content_type", "exitcode", "filename_effective", "http_code", "http_connect", "http_version",
	"local_ip", "method", "num_connects", "num_headers", "num_redirects", "redirect_url", "referer",
	"remote_ip", "remote_port", "response_code", "scheme", "size_download", "size_header",
	"size_request", "size_upload", "url", "url_effective", "urlnum",
}

func TestCurlCompatWriteOut(t *testing.T) {
	t.Parallel()
	c := newCompat(t)
	var w strings.Builder
	for _, v := range deterministic {
		w.WriteString(v + "=%{" + v + "}|")
	}
	format := w.String() + `%header{SET-COOKIE}|%header{x-mixed-case}|%header{nope}|%%|%{HTTP_CODE}|\n\t\\|\q|%q|%{|`
	for _, args := range [][]string{
		{"-o", "$DIR/body", "$API/v1/wire"},
		{"-o", "$DIR/body", "-L", "$API/v1/wire?hop=3"},
		{"-o", "$DIR/body", "$API/v1/wire?hop=1"},
		{"-I", "$API/v1/wire?early=1"},
		{"-o", "$DIR/body", "-d", "small=body", "$API/v1/wire"},
		{"-o", "$DIR/body", "-e", "https://ref.example/", "$API/v1/wire"},
		{"-o", "$DIR/body", "--cacert", "$CA", "$API_TLS/v1/wire"},
		{"-f", "$API/v1/wire?code=404"},
		{"-o", "-", "$API/v1/wire?code=201"},
		{"-o", "$DIR/body", "-L", "--max-redirs", "1", "$API/v1/wire?hop=2"},
	} {
		c.same(append([]string{"-s", "-w", format}, args...)...)
	}
	// A failed connection: nothing known but the URL and the error.
	ag := c.same("-s", "-w", strings.ReplaceAll(format, "|%header{", "|"), "http://127.0.0.1:1/")
	if ag.code != 7 {
		t.Errorf("connection refused: exit %d, want 7", ag.code)
	}

	// %header_json: agcurl writes what curl 7.88 documents; curl 7.88
	// itself drops a header after a repeated name, so the route's plain
	// form (no name repeated) is compared.
	c.same("-s", "-o", "$DIR/body", "-w", "%{header_json}", "$API/v1/wire?plain=1")

	// %{onerror}, %{stderr} and %{stdout}.
	c.same("-s", "-o", "$DIR/body", "-w", "a%{stderr}b%{stdout}c%{onerror}d", "$API/v1/wire")
	ag = c.same("-s", "-w", "a%{onerror}b %{exitcode}%{stderr}e", "http://127.0.0.1:1/")
	if ag.stderr != "e" {
		t.Errorf("%%{stderr}: stderr %q", ag.stderr)
	}

	// An unknown variable: the same warning, and the rest written.
	ag, cu := c.both("-s", "-o", "$DIR/body", "-w", "%{bogus}%{http_code}", "$API/v1/wire")
	if ag.stdout != cu.stdout || strings.TrimPrefix(ag.stderr, "agcurl: ") != strings.TrimPrefix(cu.stderr, "curl: ") {
		t.Errorf("unknown variable: agcurl %q %q, curl %q %q", ag.stdout, ag.stderr, cu.stdout, cu.stderr)
	}
}

// TestCurlCompatJSON compares %{json}: the same keys (but those agcurl
// cannot know, and curl_version), the same JSON types, the same values for
// the deterministic ones; timings and speeds in range.
func TestCurlCompatJSON(t *testing.T) {
	t.Parallel()
	c := newCompat(t)
	for _, args := range [][]string{
		{"-o", "$DIR/body", "-L", "$API/v1/wire?hop=1"},
		{"-o", "$DIR/body", "--cacert", "$CA", "$API_TLS/v1/wire"},
	} {
		ag, cu := c.both(append([]string{"-s", "-w", "%{json}"}, args...)...)
		var a, u map[string]any
		if err := json.Unmarshal([]byte(ag.stdout), &a); err != nil {
			t.Fatalf("%q: agcurl's %%{json} is not JSON: %v\n%s", args, err, ag.stdout)
		}
		if err := json.Unmarshal([]byte(cu.stdout), &u); err != nil {
			t.Fatalf("%q: curl's %%{json}: %v\n%s", args, err, cu.stdout)
		}
		for k, cv := range u {
			switch k {
			case "certs", "ssl_verify_result", "proxy_ssl_verify_result", "curl_version":
				if _, ok := a[k]; ok {
					t.Errorf("%q: agcurl has %s, which it cannot know", args, k)
				}
				continue
			}
			av, ok := a[k]
			if !ok {
				t.Errorf("%q: agcurl's %%{json} lacks %s", args, k)
				continue
			}
			if typeOf(av) != typeOf(cv) {
				t.Errorf("%q: %s is %s in agcurl's %%{json}, %s in curl's", args, k, typeOf(av), typeOf(cv))
			}
		}
		for _, k := range append(deterministic, "num_certs", "ftp_entry_path", "errormsg") {
			if !jsonEqual(a[k], u[k]) {
				t.Errorf("%q: %s is %v in agcurl's %%{json}, %v in curl's", args, k, a[k], u[k])
			}
		}
		checkTimings(t, args, ag.stdout, a)
	}
}

func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	}
	return "other"
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// checkTimings: each time_* is written with 6 decimals, and they come in
// curl's order; speeds are whole numbers.
func checkTimings(t *testing.T, args []string, raw string, m map[string]any) {
	t.Helper()
	order := []string{"time_namelookup", "time_connect", "time_pretransfer", "time_starttransfer", "time_total"}
	last := 0.0
	for _, k := range order {
		if !regexp.MustCompile(`"` + k + `":\d+\.\d{6}[,}]`).MatchString(raw) {
			t.Errorf("%q: %s is not written with 6 decimals: %s", args, k, raw)
		}
		v, _ := m[k].(float64)
		if v <= 0 || v < last || v > 60 {
			t.Errorf("%q: %s = %v, after %v", args, k, v, last)
		}
		last = v
	}
	for _, k := range []string{"time_appconnect", "time_redirect"} {
		if !regexp.MustCompile(`"` + k + `":\d+\.\d{6}[,}]`).MatchString(raw) {
			t.Errorf("%q: %s is not written with 6 decimals", args, k)
		}
	}
	if strings.Contains(strings.Join(args, " "), "https") {
		if v, _ := m["time_appconnect"].(float64); v <= 0 || v > m["time_pretransfer"].(float64) {
			t.Errorf("%q: time_appconnect %v", args, v)
		}
	}
	if strings.Contains(strings.Join(args, " "), "hop=") {
		if v, _ := m["time_redirect"].(float64); v <= 0 || v > m["time_total"].(float64) {
			t.Errorf("%q: time_redirect %v", args, v)
		}
	}
	for _, k := range []string{"speed_download", "speed_upload", "local_port"} {
		if !regexp.MustCompile(`"` + k + `":\d+[,}]`).MatchString(raw) {
			t.Errorf("%q: %s is not a whole number", args, k)
		}
	}
	if d, _ := m["size_download"].(float64); d > 0 {
		total, _ := m["time_total"].(float64)
		speed, _ := m["speed_download"].(float64)
		if want := d / total; speed < want*0.99-1 || speed > want*1.01+1 {
			t.Errorf("%q: speed_download %v, want about %v", args, speed, want)
		}
	}
}

// TestFetchHelpListsTheWriteOutVariables: fetch --help names every -w
// variable agcurl knows, and no other.
func TestFetchHelpListsTheWriteOutVariables(t *testing.T) {
	ios, _, _, _ := TestIO()
	long := NewCmdFetch(&Factory{IO: ios}, nil).Long
	_, list, ok := strings.Cut(long, "Write-out")
	if !ok {
		t.Fatal("fetch --help has no Write-out section")
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`%\{([a-z_]+)\}`).FindAllStringSubmatch(list, -1) {
		listed[m[1]] = true
	}
	for _, name := range httpcall.WriteOutVariables() {
		if !listed[name] {
			t.Errorf("fetch --help does not list %%{%s}", name)
		}
		delete(listed, name)
	}
	for _, extra := range []string{"json", "header_json", "stderr", "stdout", "onerror"} {
		delete(listed, extra)
	}
	for name := range listed {
		t.Errorf("fetch --help lists %%{%s}, which -w does not know", name)
	}
}
