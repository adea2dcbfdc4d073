package httpcall

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/agcurl/agcurl/internal/netutil"
)

// NoProxyMatch reports whether host is in list, a --noproxy (or NO_PROXY)
// list, by curl's rules: "*" alone matches every host; entries are
// separated by commas or blanks; a name matches itself and its subdomains
// ("example.com" and ".example.com" both match example.com and
// www.example.com, never notexample.com), ignoring case and a trailing
// dot; an IP address matches an address entry, or a CIDR entry such as
// 192.168.0.0/16 or fe80::/10. Ports are not compared.
func NoProxyMatch(host, list string) bool {
	if host == "" || list == "" {
		return false
	}
	if list == "*" {
		return true
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	ip, ipErr := netip.ParseAddr(host)
	isIP := ipErr == nil
	if !isIP {
		host = strings.ToLower(strings.TrimSuffix(host, "."))
	}
	for _, tok := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if isIP {
			if cidrMatch(ip, tok) {
				return true
			}
			continue
		}
		tok = strings.ToLower(strings.TrimPrefix(strings.TrimSuffix(tok, "."), "."))
		if tok == host || (len(tok) < len(host) && strings.HasSuffix(host, tok) && host[len(host)-len(tok)-1] == '.') {
			return true
		}
	}
	return false
}

// cidrMatch is curl's Curl_cidr4_match and Curl_cidr6_match: no prefix
// length (or 0) compares the whole address.
func cidrMatch(ip netip.Addr, tok string) bool {
	addr, bitsText, hasBits := strings.Cut(tok, "/")
	network, err := netip.ParseAddr(addr)
	if err != nil || network.Is4() != ip.Is4() {
		return false
	}
	bits := 0
	if hasBits {
		// curl reads the length with atoi: what is not a number is 0.
		bits, _ = strconv.Atoi(bitsText)
	}
	if bits < 0 || bits > ip.BitLen() {
		return false
	}
	if bits == 0 {
		return network == ip
	}
	p, err := network.Prefix(bits)
	return err == nil && p.Contains(ip)
}

// resolveMap holds --resolve entries: "host:port" (host lower case, an
// IPv6 address without brackets, or "*") to the addresses to connect to.
type resolveMap map[string][]string

// parseResolve reads curl's --resolve [+]HOST:PORT:ADDRESS[,ADDRESS]...
// entries in order; "-HOST:PORT" removes an earlier one.
func parseResolve(entries []string) (resolveMap, error) {
	m := resolveMap{}
	for _, e := range entries {
		bad := func() error {
			return usagef("invalid --resolve entry %q: want HOST:PORT:ADDRESS[,ADDRESS]...", e)
		}
		s, remove := strings.CutPrefix(e, "-")
		s = strings.TrimPrefix(s, "+")
		var host string
		if strings.HasPrefix(s, "[") {
			end := strings.Index(s, "]")
			if end < 0 {
				return nil, bad()
			}
			host, s = s[1:end], s[end+1:]
			if !strings.HasPrefix(s, ":") {
				return nil, bad()
			}
			s = s[1:]
		} else {
			var ok bool
			if host, s, ok = strings.Cut(s, ":"); !ok {
				return nil, bad()
			}
		}
		portText, addrs, hasAddrs := strings.Cut(s, ":")
		port, err := strconv.Atoi(portText)
		if host == "" || err != nil || port < 0 || port > 65535 {
			return nil, bad()
		}
		key := net.JoinHostPort(strings.ToLower(host), strconv.Itoa(port))
		if remove {
			delete(m, key)
			continue
		}
		if !hasAddrs || addrs == "" {
			return nil, bad()
		}
		var list []string
		for _, a := range strings.Split(addrs, ",") {
			a = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(a), "["), "]")
			ip, err := netip.ParseAddr(a)
			if err != nil {
				return nil, usagef("invalid --resolve entry %q: %q is not an IP address", e, a)
			}
			list = append(list, ip.String())
		}
		m[key] = list
	}
	return m, nil
}

// lookup returns the addresses --resolve gives for host and port.
func (m resolveMap) lookup(host, port string) ([]string, bool) {
	if len(m) == 0 {
		return nil, false
	}
	if a, ok := m[net.JoinHostPort(strings.ToLower(host), port)]; ok {
		return a, true
	}
	a, ok := m[net.JoinHostPort("*", port)]
	return a, ok
}

// dialer wraps dial to connect to --resolve's addresses instead of
// resolving the name, trying them in order.
func (m resolveMap) dialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return dial(ctx, network, addr)
		}
		addrs, ok := m.lookup(host, port)
		if !ok {
			return dial(ctx, network, addr)
		}
		var first error
		for _, a := range addrs {
			c, err := dial(ctx, network, net.JoinHostPort(a, port))
			if err == nil {
				return c, nil
			}
			if first == nil {
				first = err
			}
		}
		return nil, first
	}
}

// transport is what NewClient returns when --resolve is given: an
// *http.Transport and the entries its dialer applies, which Sender reads
// to see where a token over plain http really goes.
type transport struct {
	*http.Transport
	resolve resolveMap
}

// checkTokenResolve returns a *TokenTargetError when a plain http request
// for target goes, in cleartext, to an address off loopback that --resolve
// gives the first hop: the target's host, or the proxy's when there is one.
// The token policy judged the URL's host (and checkTokenProxy the proxy's
// name), and a token goes over plain http only from loopback to loopback.
func checkTokenResolve(target, proxy *url.URL, rt http.RoundTripper) error {
	t, ok := rt.(*transport)
	if !ok || !strings.EqualFold(target.Scheme, "http") {
		return nil
	}
	hop := target
	if proxy != nil {
		hop = proxy
	}
	port := hop.Port()
	if port == "" {
		port = map[string]string{"https": "443", "socks5": "1080", "socks5h": "1080"}[strings.ToLower(hop.Scheme)]
		if port == "" {
			port = "80"
		}
	}
	addrs, ok := t.resolve.lookup(hop.Hostname(), port)
	if !ok {
		return nil
	}
	for _, a := range addrs {
		if !netutil.IsLoopbackHost(a) {
			return &TokenTargetError{Origin: Origin(target), Kind: PlainHTTP,
				Reason: fmt.Sprintf("--resolve sends it to %s, which is not on loopback, over plain http", a)}
		}
	}
	return nil
}

// envProxy is the proxy from $HTTPS_PROXY or $HTTP_PROXY (or their lower
// case forms) without $NO_PROXY, which --noproxy replaces. Like
// http.ProxyFromEnvironment, it never proxies a request to loopback.
func envProxy(getenv func(string) string) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		names := [2]string{"HTTP_PROXY", "http_proxy"}
		if req.URL.Scheme == "https" {
			names = [2]string{"HTTPS_PROXY", "https_proxy"}
		}
		v := getenv(names[0])
		if v == "" {
			v = getenv(names[1])
		}
		if v == "" || netutil.IsLoopbackHost(req.URL.Hostname()) {
			return nil, nil
		}
		return parseProxy(v)
	}
}

func parseProxy(raw string) (*url.URL, error) {
	s := raw
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	pu, err := url.Parse(s)
	if err != nil || pu.Host == "" {
		return nil, usagef("invalid proxy %q", RedactURL(raw))
	}
	return pu, nil
}

// certError is an unusable --cert or --key: curl's code 58.
func certError(err error) error {
	return &TransportError{CurlClientCert, fmt.Errorf("client certificate: %w", err)}
}

// splitCertArg splits curl's --cert FILE[:PASSWORD] at the first colon
// that is not escaped as "\:" ("\\" is a backslash).
func splitCertArg(arg string) (file, password string, hasPassword bool) {
	var b strings.Builder
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		switch {
		case c == '\\' && i+1 < len(arg) && (arg[i+1] == ':' || arg[i+1] == '\\'):
			i++
			b.WriteByte(arg[i])
		case c == ':':
			return b.String(), arg[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "", false
}

// loadClientCert reads a PEM certificate (chain) from certFile and its
// private key from keyFile, or from certFile when keyFile is empty.
// Encrypted keys are refused: a password would have to be in argv.
func loadClientCert(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, certError(fmt.Errorf("cannot read --cert file: %v", err))
	}
	keyPEM := certPEM
	if keyFile != "" {
		if keyPEM, err = os.ReadFile(keyFile); err != nil {
			return tls.Certificate{}, certError(fmt.Errorf("cannot read --key file: %v", err))
		}
	} else {
		keyFile = certFile
	}
	for rest := keyPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] == "4,ENCRYPTED" {
			return tls.Certificate{}, certError(fmt.Errorf("the key in %s is encrypted, which agcurl does not support "+
				"(its password would be in argv): decrypt it into a file only you can read, e.g. "+
				"openssl pkey -in KEY -out key.pem", keyFile))
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		if keyFile == certFile && !strings.Contains(string(keyPEM), "PRIVATE KEY") {
			err = errors.New("--cert holds no private key: give it with --key")
		}
		return tls.Certificate{}, certError(err)
	}
	return cert, nil
}
