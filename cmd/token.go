package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/termsafe"
	"github.com/agcurl/agcurl/keychain"
)

// TokenOptions are what `agcurl token` runs with: its flags, its output,
// the environment and clock, and, resolved only when it runs, the profile.
type TokenOptions struct {
	IO      *IOStreams
	Getenv  func(string) string
	Now     func() time.Time
	Profile func() (*profileContext, error)

	// JSON prints the token as a JSON object for credential helpers, or,
	// with Claims, the inspection as JSON (--json).
	JSON bool
	// Claims shows what the token says instead of the token (--claims).
	Claims bool
	// IDToken inspects the session's ID token instead of the access
	// token (--id-token; only with Claims).
	IDToken bool
	// RefreshToken prints the stored refresh token (--refresh-token).
	RefreshToken bool
	// Force prints the refresh token to a terminal too (--force).
	Force bool
}

// NewCmdToken builds `agcurl token`. When runF is not nil it is called with
// the parsed options instead of tokenRun, so that tests can check the
// command line without a provider.
func NewCmdToken(f *Factory, runF func(*TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{IO: f.IO, Getenv: f.Getenv, Now: f.Now}
	c := &cobra.Command{
		Use:   "token",
		Short: "Print a valid access token, refreshed if needed",
		Long: `Print the access token and a newline on stdout, and nothing else, for other
tools. It is refreshed first when it is missing or past 90% of its lifetime;
otherwise the cached token is printed without any network call, so calling
this in a loop does not hit the provider's rate limits.

--json prints instead a JSON object that credential helpers can cache on:
access_token, token_type, expires_at (RFC 3339), expires_in (seconds),
scope (space-separated), issuer and profile. The refresh token is never in
it. With AGCURL_ACCESS_TOKEN only the token itself is known: expires_at,
expires_in and scope are then given only when it is a JWT that states them
(exp, scope; unverified).

--claims shows what the access token says (the one 'agcurl token' would
print, refreshed first if needed), for when an API answers 401 or 403, and
never the token itself: for a JWT, its header and claims (exp, iat, nbf and
auth_time also as local and relative times, Authgear's claims by short name)
and whether its signature verifies against the provider's published keys:
"valid", "INVALID" with the reason, or "not checked" when the keys cannot be
fetched. Only the signature is checked; the claims are shown as the token
states them. An opaque token cannot be read: its cached expiry and scopes
are shown. --id-token shows the same of the session's ID token. With --json
the inspection is a JSON object: token ("access_token" or "id_token"), kind
("jwt" or "opaque"), header, claims, signature {checked, valid, alg, kid,
error}, expires_at, scope, profile; source when the token came from
AGCURL_ACCESS_TOKEN, not_jwt when a token shaped like a JWT is not one.

--refresh-token prints the stored session's refresh token, to hand a CI job
a user's session (see docs/ci.md). Whoever holds it can act as you until it
expires or is revoked, and with refresh-token rotation on, the next refresh
by either copy makes the other stop working; this is repeated on stderr. It
is not printed to a terminal unless --force is given, nor while
AGCURL_ACCESS_TOKEN or AGCURL_REFRESH_TOKEN is set. A machine client's
session has none.

--id-token needs --claims (the ID token is inspected, never printed);
--refresh-token goes with none of --claims, --id-token and --json; --force
goes only with --refresh-token. Other combinations are usage errors (exit 2).

Exits with 4 when not configured or not logged in. Prefer 'agcurl fetch',
which never puts the token in a command line or a shell variable.`,
		Example: `  curl -H "Authorization: Bearer $(agcurl token)" https://api.example.com/v1/me
  agcurl token --profile staging
  agcurl token --json | jq -r .expires_at
  agcurl token --claims
  agcurl token --claims --id-token --json | jq .claims
  agcurl token --refresh-token > rt.txt`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			switch {
			case opts.RefreshToken && (opts.Claims || opts.IDToken || opts.JSON):
				return usageErrorf("--refresh-token cannot be combined with --claims, --id-token or --json: it prints the refresh token alone")
			case opts.IDToken && !opts.Claims:
				return usageErrorf("--id-token needs --claims: the ID token is inspected, never printed")
			case opts.Force && !opts.RefreshToken:
				return usageErrorf("--force goes only with --refresh-token")
			}
			opts.Profile = f.profileFunc()
			if runF != nil {
				return runF(opts)
			}
			return tokenRun(c.Context(), opts)
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print JSON: the token with its expiry and scope, or with --claims the inspection")
	c.Flags().BoolVar(&opts.Claims, "claims", false, "show the token's header, claims and signature check instead of the token")
	c.Flags().BoolVar(&opts.IDToken, "id-token", false, "with --claims: inspect the session's ID token instead of the access token")
	c.Flags().BoolVar(&opts.RefreshToken, "refresh-token", false, "print the stored refresh token (a long-lived secret; see docs/ci.md)")
	c.Flags().BoolVar(&opts.Force, "force", false, "with --refresh-token: print it even to a terminal")
	return c
}

// tokenRun prints a valid access token for the profile, or what the flags
// ask for instead.
func tokenRun(ctx context.Context, opts *TokenOptions) error {
	switch {
	case opts.RefreshToken:
		return refreshTokenRun(ctx, opts)
	case opts.Claims:
		return claimsRun(ctx, opts)
	case opts.JSON:
		return tokenJSONRun(ctx, opts)
	}
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	ts, err := p.tokens(ctx)
	if err != nil {
		return err
	}
	tok, err := ts.AccessToken(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(opts.IO.Out, tok)
	return err
}

func (o *TokenOptions) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *TokenOptions) getenv(k string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(k)
}

// currentSession returns the profile's session with a valid access token,
// refreshed first if needed, as `agcurl token` would print it.
func currentSession(ctx context.Context, p *profileContext) (*keychain.Session, error) {
	r, err := p.refresher(ctx)
	if err != nil {
		return nil, p.withHint(err)
	}
	s, err := r.Token(ctx)
	if err != nil {
		return nil, p.withHint(err)
	}
	return s, nil
}

// tokenJSON is `agcurl token --json`: what a credential helper needs to
// use and cache the access token. Never the refresh token.
type tokenJSON struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresAt   string `json:"expires_at,omitempty"`
	ExpiresIn   *int64 `json:"expires_in,omitempty"`
	Scope       string `json:"scope,omitempty"`
	Issuer      string `json:"issuer,omitempty"`
	Profile     string `json:"profile"`
}

func (t *tokenJSON) setExpiry(exp, now time.Time) {
	in := int64(exp.Sub(now) / time.Second)
	if in < 0 {
		in = 0
	}
	t.ExpiresAt, t.ExpiresIn = exp.UTC().Format(time.RFC3339), &in
}

// tokenJSONRun prints the access token, refreshed if needed, as a JSON
// object with its expiry and scope.
func tokenJSONRun(ctx context.Context, opts *TokenOptions) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	now := opts.now()
	// Only Bearer tokens are ever accepted (auth's checkTokenResponse).
	out := tokenJSON{TokenType: "Bearer", Profile: p.name}
	if at := opts.getenv("AGCURL_ACCESS_TOKEN"); at != "" {
		out.AccessToken = at
		if p.profile != nil {
			out.Issuer = p.profile.Endpoint // the issuer is the endpoint (discovery checks it)
		}
		// Only the token is known; a JWT may say more of itself
		// (unverified: it only tells the caller when to ask again).
		if info, err := auth.DecodeJWT(at); err == nil {
			if exp, ok := info.Time("exp"); ok {
				out.setExpiry(exp, now)
				if sc, ok := info.Claims["scope"].(string); ok {
					out.Scope = strings.Join(strings.Fields(sc), " ")
				}
			}
		}
		return writeJSON(opts.IO.Out, out)
	}
	s, err := currentSession(ctx, p)
	if err != nil {
		return err
	}
	out.AccessToken, out.Issuer = s.AccessToken, s.Issuer
	if !s.Expiry.IsZero() {
		out.setExpiry(s.Expiry, now)
	}
	out.Scope = strings.Join(s.Scopes, " ")
	return writeJSON(opts.IO.Out, out)
}

// refreshTokenRun prints the stored session's refresh token, after the
// checks that keep it out of a terminal's scrollback, and says on stderr
// what it is worth.
func refreshTokenRun(ctx context.Context, opts *TokenOptions) error {
	for _, env := range []string{"AGCURL_ACCESS_TOKEN", "AGCURL_REFRESH_TOKEN"} {
		if opts.getenv(env) != "" {
			return usageErrorf("--refresh-token prints the stored session's refresh token, but %s is set and commands use it instead of the stored session; unset it first", env)
		}
	}
	if opts.IO.OutTTY && !opts.Force {
		return usageErrorf("refusing to print the refresh token to a terminal, where it would stay in the scrollback; " +
			"redirect stdout (agcurl token --refresh-token > rt.txt, or into your CI's secret store), or pass --force")
	}
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	s, err := currentSession(ctx, p)
	if err != nil {
		return err
	}
	if s.GrantType == keychain.GrantClientCredentials {
		return fmt.Errorf("profile %q is signed in as a machine client (client credentials), which has no refresh token; "+
			"a CI job can log in with the client secret instead (agcurl login --client-credentials; see docs/ci.md)", p.name)
	}
	if s.RefreshToken == "" {
		return fmt.Errorf("the session of profile %q has no refresh token: the provider issued none at login "+
			"(it issues one only when it grants the offline_access scope)", p.name)
	}
	who := "you"
	if s.Subject != "" {
		who = termsafe.String(s.Subject)
	}
	fmt.Fprintf(opts.IO.ErrOut, "agcurl: warning: this refresh token lets anyone who holds it act as %s at %s until it expires or is revoked "+
		"(`agcurl logout%s` revokes it, and this session with it). Keep it in a secret store. If the client rotates refresh tokens, "+
		"the next refresh by anyone, this machine included, makes every other copy stop working.\n",
		who, termsafe.String(s.Issuer), p.profileFlag())
	_, err = fmt.Fprintln(opts.IO.Out, s.RefreshToken)
	return err
}

// inspection is `agcurl token --claims --json`. It never holds the token.
type inspection struct {
	Token     string         `json:"token"` // "access_token" or "id_token"
	Kind      string         `json:"kind"`  // "jwt" or "opaque"
	Header    map[string]any `json:"header,omitempty"`
	Claims    map[string]any `json:"claims,omitempty"`
	Signature *signatureJSON `json:"signature,omitempty"`
	// NotJWT says why a token shaped like a JWT was taken as opaque.
	NotJWT    string `json:"not_jwt,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
	Scope     string `json:"scope,omitempty"`
	// Source is where the token came from, when not the stored session:
	// "AGCURL_ACCESS_TOKEN".
	Source  string `json:"source,omitempty"`
	Profile string `json:"profile"`

	expiry time.Time // ExpiresAt, for the human view
}

type signatureJSON struct {
	Checked bool   `json:"checked"`
	Valid   bool   `json:"valid"`
	Alg     string `json:"alg,omitempty"`
	Kid     string `json:"kid,omitempty"`
	Error   string `json:"error,omitempty"`
}

// claimsRun shows what the access token (or, with --id-token, the ID
// token) says, without printing it.
func claimsRun(ctx context.Context, opts *TokenOptions) error {
	envToken := opts.getenv("AGCURL_ACCESS_TOKEN")
	if opts.IDToken && envToken != "" {
		return usageErrorf("--id-token inspects the stored session's ID token, but AGCURL_ACCESS_TOKEN is set and there is no session in use; unset it first")
	}
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	out := &inspection{Token: "access_token", Profile: p.name}
	var (
		raw    string
		client *auth.Client
		// noKeys says why there is no provider to check a signature with.
		noKeys string
	)
	if envToken != "" {
		raw, out.Source = envToken, "AGCURL_ACCESS_TOKEN"
		if err := p.requireConfigured(ctx); err != nil {
			noKeys = err.Error()
		} else {
			client = p.client()
		}
	} else {
		s, err := currentSession(ctx, p)
		if err != nil {
			return err
		}
		client = p.client()
		raw = s.AccessToken
		out.expiry = s.Expiry
		out.Scope = strings.Join(s.Scopes, " ")
		if opts.IDToken {
			out.Token, out.expiry, out.Scope = "id_token", time.Time{}, ""
			switch {
			case s.GrantType == keychain.GrantClientCredentials:
				return fmt.Errorf("profile %q is signed in as a machine client (client credentials), which has no ID token", p.name)
			case s.IDToken == "":
				return fmt.Errorf("the session of profile %q holds no ID token", p.name)
			}
			raw = s.IDToken
		}
	}

	var info *auth.JWTInfo
	if client != nil {
		info, err = client.InspectJWT(ctx, raw)
	} else {
		info, err = auth.DecodeJWT(raw)
		if err == nil {
			info.Signature.Reason = noKeys
		}
	}
	var malformed *auth.MalformedJWTError
	switch {
	case errors.As(err, &malformed) && opts.IDToken:
		return fmt.Errorf("the stored ID token is %v", err)
	case errors.As(err, &malformed):
		out.Kind = "opaque"
		if auth.LooksLikeJWT(raw) {
			out.NotJWT = malformed.Reason
		}
	case err != nil:
		return err
	default:
		out.Kind = "jwt"
		out.Header, out.Claims = info.Header, info.Claims
		sig := info.Signature
		out.Signature = &signatureJSON{Checked: sig.Checked, Valid: sig.Valid, Alg: sig.Alg, Kid: sig.KeyID}
		if !sig.Valid {
			out.Signature.Error = sig.Reason
		}
		if exp, ok := info.Time("exp"); ok && out.expiry.IsZero() {
			out.expiry = exp
		}
	}
	if !out.expiry.IsZero() {
		out.ExpiresAt = out.expiry.UTC().Format(time.RFC3339)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, out)
	}
	printInspection(opts.IO.Out, newPalette(opts.IO.ColorOut), out, info, opts.now())
	return nil
}

// authgearClaims are Authgear's custom claims, by the short names the
// human view gives them.
var authgearClaims = map[string]string{
	auth.ClaimAuthgearRoles:             "roles (authgear)",
	auth.ClaimAuthgearIsAnonymous:       "is_anonymous (authgear)",
	auth.ClaimAuthgearIsVerified:        "is_verified (authgear)",
	auth.ClaimAuthgearCanReauthenticate: "can_reauthenticate (authgear)",
}

// Claims shown first, in this order; the rest follow sorted.
var (
	headerOrder = []string{"alg", "kid", "typ"}
	claimOrder  = []string{"iss", "sub", "aud", "azp", "client_id", "scope", "exp", "nbf", "iat", "auth_time", "jti", "sid",
		auth.ClaimAuthgearRoles, auth.ClaimAuthgearIsAnonymous, auth.ClaimAuthgearIsVerified, auth.ClaimAuthgearCanReauthenticate}
	timeClaims = []string{"exp", "iat", "nbf", "auth_time"}
)

// printInspection is the human view of --claims. Everything from the
// token is untrusted and escaped for the terminal; the token itself is
// never printed.
func printInspection(w io.Writer, pal palette, in *inspection, info *auth.JWTInfo, now time.Time) {
	name := "access token"
	if in.Token == "id_token" {
		name = "ID token"
	}
	from := ""
	if in.Source != "" {
		from = " from " + in.Source
	}
	if in.Kind == "opaque" {
		fmt.Fprintf(w, "%s%s: opaque (not a JWT: only the provider can read it; the token itself is not shown)\n", name, from)
		if in.NotJWT != "" {
			fmt.Fprintf(w, "  it looks like a JWT but is %s\n", termsafe.String("not one: "+in.NotJWT))
		}
		printSessionFacts(w, in, now, in.Source != "")
		return
	}
	fmt.Fprintf(w, "%s%s: JWT (the token itself is not shown)\n", name, from)
	sig := in.Signature
	switch {
	case sig.Valid:
		how := termsafe.String(sig.Alg)
		if sig.Kid != "" {
			how += ", key id " + termsafe.String(sig.Kid)
		}
		fmt.Fprintf(w, "signature: %s (%s)\n", pal.green("valid"), how)
	case sig.Checked:
		fmt.Fprintf(w, "signature: %s: %s\n", pal.red("INVALID"), termsafe.String(sig.Error))
	default:
		fmt.Fprintf(w, "signature: %s: %s\n", pal.yellow("not checked"), termsafe.String(sig.Error))
	}
	if in.Token == "id_token" || sig.Valid {
		fmt.Fprintln(w, pal.dim("  (only the signature is checked: the claims are shown as the token states them)"))
	}
	fmt.Fprintln(w, "header:")
	printFields(w, in.Header, headerOrder, func(k string) string { return termsafe.String(k) }, nil)
	fmt.Fprintln(w, "claims:")
	label := func(k string) string {
		if short, ok := authgearClaims[k]; ok {
			return short
		}
		return termsafe.String(k)
	}
	value := func(k string, v any) (string, bool) {
		if !slices.Contains(timeClaims, k) {
			return "", false
		}
		t, ok := info.Time(k)
		if !ok {
			return "", false
		}
		return fmt.Sprintf("%s  %s (%s)", claimText(v), t.Local().Format(time.RFC3339), relativeTime(t, now)), true
	}
	printFields(w, in.Claims, claimOrder, label, value)
	if in.Token == "access_token" && in.Source == "" {
		printSessionFacts(w, in, now, false)
	} else {
		fmt.Fprintf(w, "profile: %s\n", in.Profile)
	}
}

// printSessionFacts prints what agcurl knows of the access token besides
// its text: the cached expiry and scopes.
func printSessionFacts(w io.Writer, in *inspection, now time.Time, fromEnv bool) {
	switch {
	case fromEnv:
		fmt.Fprintf(w, "session:\n  expiry and scopes unknown: the token came from %s\n", in.Source)
	case in.Kind == "jwt":
		fmt.Fprintln(w, "session (as the provider said at issue):")
	default:
		fmt.Fprintln(w, "session:")
	}
	if !fromEnv {
		if in.expiry.IsZero() {
			fmt.Fprintln(w, "  expires:  unknown (the provider did not say)")
		} else {
			fmt.Fprintf(w, "  expires:  %s (%s)\n", in.expiry.Local().Format(time.RFC3339), relativeTime(in.expiry, now))
		}
		scope := in.Scope
		if scope == "" {
			scope = "(none recorded)"
		}
		fmt.Fprintf(w, "  scopes:   %s\n", termsafe.String(scope))
	}
	fmt.Fprintf(w, "  profile:  %s\n", in.Profile)
}

// printFields prints m's entries as aligned "  key  value" lines: the keys
// in first in that order, then the rest sorted. label names a key; value,
// when it returns true, replaces the plain rendering of a value.
func printFields(w io.Writer, m map[string]any, first []string, label func(string) string, value func(string, any) (string, bool)) {
	var keys []string
	for _, k := range first {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
		}
	}
	var rest []string
	for k := range m {
		if !slices.Contains(first, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	keys = append(keys, rest...)
	if len(keys) == 0 {
		fmt.Fprintln(w, "  (none)")
		return
	}
	width := 0
	for _, k := range keys {
		width = max(width, len([]rune(label(k))))
	}
	for _, k := range keys {
		text := claimText(m[k])
		if value != nil {
			if s, ok := value(k, m[k]); ok {
				text = s
			}
		}
		l := label(k)
		fmt.Fprintf(w, "  %s%s  %s\n", l, strings.Repeat(" ", width-len([]rune(l))), text)
	}
}

// claimText renders a claim's value for the terminal, escaped: strings as
// they are, a list of strings joined by commas, anything else as JSON.
func claimText(v any) string {
	switch v := v.(type) {
	case string:
		return termsafe.String(v)
	case json.Number:
		return termsafe.String(v.String())
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	case []any:
		strs := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				strs = nil
				break
			}
			strs = append(strs, termsafe.String(s))
		}
		if len(strs) > 0 {
			return strings.Join(strs, ", ")
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return termsafe.String(string(b))
}

// relativeTime says when t is from now: "in 12m", "3m ago", "now".
func relativeTime(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d > -time.Second && d < time.Second:
		return "now"
	case d > 0:
		return "in " + shortDuration(d)
	}
	return shortDuration(-d) + " ago"
}

// shortDuration is d in its largest units: "45s", "12m", "5h3m", "3d".
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}
