package cmd

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/agcurl/agcurl/internal/testop"
)

// compatCase is one command line run by agcurl fetch and by curl, whose
// stdout, files and exit code must be the same.
type compatCase struct {
	name string
	// args are for both; $API, $API_PORT, $TLS, $TLS_PORT, $MTLS, $PROXY
	// and $CERTS expand.
	args []string
	// agcurl and curl are for one of them only: an agcurl option and the
	// curl options it stands for, or a setting that only one needs.
	agcurl, curl []string
	stdin        string
	// before runs before each of the two runs (to arm a fault); a case
	// with one runs alone, not in parallel with the others.
	before func()
	code   int // the exit code both must have
}

// TestCurlCompat runs agcurl fetch and curl side by side, with the same
// token (agcurl from its session, curl with -H 'Authorization: Bearer
// ...'), against the bundled API for each curl option fetch has gained
// (and, for --field, against curl's JSON body), comparing stdout, the
// files written and the exit code. Client certificates and HTTP/2 are
// checked against a local TLS server that asks for a certificate and
// speaks h2. It skips only when curl is not installed; it needs curl 7.87
// or later (--url-query).
func TestCurlCompat(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	t.Parallel()
	srv, err := testop.Start(testop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	env := []string{"AGCURL_CONFIG_DIR=" + filepath.Join(t.TempDir(), "config"), "AGCURL_STORAGE=file", "NO_COLOR=1",
		"HTTP_PROXY=", "HTTPS_PROXY=", "NO_PROXY=", "http_proxy=", "https_proxy=", "no_proxy="}
	runAgcurl(t, env, "configure", "--endpoint", srv.Issuer, "--client-id", testop.MachineClientID)
	runAgcurl(t, append(env, "AGCURL_CLIENT_SECRET="+testop.MachineClientSecret), "login", "--client-credentials")
	token := strings.TrimSpace(runAgcurl(t, env, "token"))

	shared := t.TempDir()
	mtls, certs := compatTLSServer(t, shared)
	apiHost := strings.TrimPrefix(srv.APIURL, "http://")
	_, apiPort, _ := strings.Cut(apiHost, ":")
	tlsHost := strings.TrimPrefix(srv.APITLSURL, "https://")
	_, tlsPort, _ := strings.Cut(tlsHost, ":")
	expand := strings.NewReplacer("$API_PORT", apiPort, "$API", srv.APIURL, "$TLS_PORT", tlsPort, "$TLS", srv.APITLSURL,
		"$MTLS", mtls, "$PROXY", srv.ProxyURL, "$CERTS", certs)

	cases := []compatCase{
		// --field and --raw-field: the body curl sends with -d and the JSON type.
		{name: "fields", args: []string{"$API/v1/inspect"},
			agcurl: []string{"--field", "n=1", "--field", "ok=true", "--field", "none=null", "--raw-field", "s=text", "--field", "tags[]=7",
				"--field", "o[k]=v", "--field", "text=@note.txt"},
			curl: []string{"-H", "Content-Type: application/json", "-d", `{"n":1,"none":null,"o":{"k":"v"},"ok":true,"s":"text","tags":[7],"text":"hi there\n"}`}},
		{name: "fields -G", args: []string{"-G", "$API/v1/inspect?x=0"},
			agcurl: []string{"--raw-field", "q=red shoes", "--field", "n=2"}, curl: []string{"--data-urlencode", "n=2", "--data-urlencode", "q=red shoes"}},
		// -H @file and @-.
		{name: "-H @file", args: []string{"-H", "@headers.txt", "-H", "@-", "-H", "X-Last: z", "$API/v1/inspect"}, stdin: "X-Stdin: s\r\n\r\nX-More: m\n"},
		// --url-query (the hex case of the encoding aside: the API decodes).
		{name: "--url-query", args: []string{"$API/v1/inspect?a=1", "--url-query", "q=red shoes&more", "--url-query", "=x y",
			"--url-query", "plain", "--url-query", "n@note.txt", "--url-query", "+raw=%41", "--url-query", "e=é"}},
		// --output-dir and --create-dirs, with -o and -O.
		{name: "--output-dir", args: []string{"-s", "--output-dir", "out", "-o", "me.json", "$API/v1/me"}, code: 23},
		{name: "--output-dir --create-dirs", args: []string{"--output-dir", "out", "--create-dirs", "-o", "sub/me.json", "$API/v1/me", "-O", "$API/v1/report"}},
		// --retry-all-errors: without -f a 404 is no error; with -f it is retried.
		{name: "--retry-all-errors without -f", args: []string{"--retry", "1", "--retry-all-errors", "-w", "%{http_code}", "$API/v1/status/200"},
			before: func() { srv.Fail("/v1/status/200", 1, 404, "", 0) }},
		{name: "--retry-all-errors -f", args: []string{"-f", "--retry", "1", "--retry-all-errors", "-s", "$API/v1/status/201"},
			agcurl: []string{"--retry-delay", "0.1"}, curl: []string{"--retry-delay", "1"}, // curl's least
			before: func() { srv.Fail("/v1/status/201", 1, 404, "", 0) }},
		// --noproxy: the test proxy adds Via to what it forwards.
		{name: "--noproxy match", args: []string{"-x", "$PROXY", "--noproxy", "example.com,127.0.0.0/8", "$API/v1/inspect"}},
		{name: "--noproxy other", args: []string{"-x", "$PROXY", "--noproxy", ".example.com", "$API/v1/inspect"}},
		// --resolve: over https the token goes to the name; over plain http
		// only to a loopback name at a loopback address.
		{name: "--resolve", args: []string{"-k", "--resolve", "api.test:$TLS_PORT:127.0.0.1", "--resolve", "localhost:$API_PORT:127.0.0.1",
			"https://api.test:$TLS_PORT/v1/inspect", "http://localhost:$API_PORT/v1/me"}},
		// --cert and --key, --http2 and --http1.1, at the local TLS server.
		{name: "--cert --key --http2", args: []string{"--cacert", "$CERTS/server-ca.pem", "--cert", "$CERTS/client.pem", "--key", "$CERTS/client.key", "--http2", "$MTLS/"}},
		{name: "-E --http1.1", args: []string{"--cacert", "$CERTS/server-ca.pem", "-E", "$CERTS/both.pem", "--http1.1", "$MTLS/"}},
		{name: "--http1.1 --http2", args: []string{"--cacert", "$CERTS/server-ca.pem", "--http1.1", "--http2", "$MTLS/"}},
		{name: "--cert without a key", args: []string{"-s", "--cacert", "$CERTS/server-ca.pem", "--cert", "$CERTS/client.pem", "$MTLS/"}, code: 58},
		// -I -G -d: HEAD with the data in the query.
		{name: "-I -G -d", args: []string{"-s", "-o", "/dev/null", "-I", "-G", "-d", "q=1", "-w", "%{url_effective} %{http_code}", "$API/v1/inspect"}},
		// Several URLs: -o/-T paired in order, -w per transfer, exit codes, -Z.
		{name: "several URLs -o", args: []string{"$API/v1/health", "-o", "h.json", "$API/v1/report", "-o", "r.csv", "$API/public",
			"-w", "[%{url} %{http_code}]\n"}},
		{name: "several URLs -T", args: []string{"-T", "note.txt", "$API/v1/inspect", "$API/v1/inspect"}, curl: []string{"-H", "Expect:"}},
		{name: "several URLs -d @-", args: []string{"-d", "@-", "$API/v1/inspect", "$API/v1/inspect"}, stdin: "piped"},
		{name: "several URLs, first fails", args: []string{"-s", "-f", "$API/v1/status/404", "$API/v1/health"}},
		{name: "several URLs, last fails", args: []string{"-s", "-f", "$API/v1/health", "$API/v1/status/404"}, code: 22},
		{name: "several URLs --fail-early", args: []string{"-s", "-f", "--fail-early", "$API/v1/status/500", "$API/v1/health"}, code: 22},
		{name: "-Z", args: []string{"-Z", "--parallel-max", "2", "-o", "p1", "-o", "p2", "$API/v1/bytes?n=200000", "$API/v1/health", "$API/v1/report"}},
		{name: "-Z, one fails", args: []string{"-s", "-Z", "-f", "-o", "a", "-o", "b", "$API/v1/status/404", "$API/v1/health"}, code: 22},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before == nil {
				t.Parallel()
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = expand.Replace(a)
			}
			agDir, curlDir := compatDir(t), compatDir(t)
			if tc.before != nil {
				tc.before()
			}
			agArgs := append(append([]string{"fetch", "-A", "compat/1"}, tc.agcurl...), args...)
			agOut, agCode := compatRun(t, agcurlProcess(t, env, agArgs...), agDir, tc.stdin)
			if tc.before != nil {
				tc.before()
			}
			curlArgs := append(append([]string{"-A", "compat/1", "-H", "Authorization: Bearer " + token}, tc.curl...), args...)
			c := exec.Command(curl, curlArgs...)
			c.Env = env
			curlOut, curlCode := compatRun(t, c, curlDir, tc.stdin)

			if agCode != tc.code || curlCode != tc.code {
				t.Errorf("exit codes: agcurl %d, curl %d; want %d", agCode, curlCode, tc.code)
			}
			if !bytes.Equal(agOut, curlOut) {
				t.Errorf("stdout differs\nagcurl: %q\ncurl:   %q", agOut, curlOut)
			}
			agFiles, curlFiles := dirFiles(t, agDir), dirFiles(t, curlDir)
			if fmt.Sprint(agFiles) != fmt.Sprint(curlFiles) {
				t.Errorf("files differ\nagcurl: %q\ncurl:   %q", agFiles, curlFiles)
			}
			if bytes.Contains(agOut, []byte(token)) {
				t.Error("the token is in agcurl's output")
			}
		})
	}
}

// compatDir is a working directory with the files the cases read.
func compatDir(t *testing.T) string {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"note.txt":    "hi there\n",
		"headers.txt": "X-One: 1\r\n\r\nX-Two: two words\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// compatRun runs c in dir with stdin, and returns its stdout and exit code.
func compatRun(t *testing.T, c *exec.Cmd, dir, stdin string) ([]byte, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	c.Dir, c.Stdin, c.Stdout, c.Stderr = dir, strings.NewReader(stdin), &out, &errOut
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.Bytes(), 0
	case errors.As(err, &ee) && ee.Exited():
		return out.Bytes(), ee.ExitCode()
	}
	t.Fatalf("%s: %v\n%s", strings.Join(c.Args, " "), err, errOut.String())
	return nil, 0
}

// dirFiles lists the files under dir with their contents.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files = append(files, rel+"="+string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// compatTLSServer starts an https server that speaks HTTP/2 and asks for
// a client certificate (signed by its own CA), and answers with the
// protocol and the certificate's name. It writes server-ca.pem,
// client.pem, client.key and both.pem into dir.
func compatTLSServer(t *testing.T, dir string) (string, string) {
	t.Helper()
	newCert := func(name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
		tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		if isCA {
			tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage, tmpl.ExtKeyUsage = true, true, x509.KeyUsageCertSign, nil
		}
		if ca == nil {
			ca, caKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, key, der
	}
	ca, caKey, _ := newCert("client CA", nil, nil, true)
	_, key, der := newCert("client", ca, caKey, false)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	pool := x509.NewCertPool()
	pool.AddCert(ca)

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "none"
		if len(r.TLS.PeerCertificates) > 0 {
			name = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		fmt.Fprintf(w, "%s %s auth=%v\n", r.Proto, name, r.Header.Get("Authorization") != "")
	}))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes failed on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)
	for name, b := range map[string][]byte{
		"server-ca.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
		"client.pem":    certPEM, "client.key": keyPEM, "both.pem": append(append([]byte{}, certPEM...), keyPEM...),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return srv.URL, dir
}
