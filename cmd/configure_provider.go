package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/config"
	"github.com/agcurl/agcurl/keychain"
)

// ClientOptions are configure's flags for what providers other than
// Authgear need of a client: its secret (confidential clients), the
// audience of its access tokens, extra authorization request parameters,
// and how the secret is sent. See docs/providers.md.
type ClientOptions struct {
	// ClientSecretSet reports --client-secret; ClientSecret is then "-"
	// (read the secret from stdin) or "" (remove it). The secret itself
	// never comes from argv.
	ClientSecretSet bool
	ClientSecret    string
	// InsecureStorage (--insecure-storage) keeps the secret in a 0600 file
	// instead of the OS keyring.
	InsecureStorage bool
	// Audience (--audience, empty values left out) replaces the profile's
	// when AudienceSet.
	Audience    []string
	AudienceSet bool
	// Params (--param KEY=VALUE, parsed) replace the profile's extra
	// authorization request parameters when ParamsSet; RawParams are the
	// flag's values.
	Params    map[string]string
	RawParams []string
	ParamsSet bool
	// AuthMethod (--client-auth-method) replaces the profile's when
	// AuthMethodSet; "" means as discovery says.
	AuthMethod    string
	AuthMethodSet bool
}

func (o *ClientOptions) addConfigureFlags(fl *pflag.FlagSet) {
	fl.StringVar(&o.ClientSecret, "client-secret", "", "\"-\": read the client secret of a confidential client from stdin and keep it with the sessions (never in argv or config.json); \"\": remove it")
	fl.BoolVar(&o.InsecureStorage, "insecure-storage", false, "with --client-secret -: keep the secret in a 0600 file instead of the OS keyring")
	fl.StringArrayVar(&o.Audience, "audience", nil, "API identifier sent as the audience parameter (Auth0, Ory Hydra; repeatable; replaces the list; \"\" clears it)")
	fl.StringArrayVar(&o.RawParams, "param", nil, "extra authorization request parameter KEY=VALUE, e.g. access_type=offline (repeatable; replaces the set; \"\" clears it)")
	fl.StringVar(&o.AuthMethod, "client-auth-method", "", "how the client secret is sent: client_secret_basic or client_secret_post (default: as the provider's discovery says)")
}

// readConfigureFlags records which of the flags were given and checks
// their values.
func (o *ClientOptions) readConfigureFlags(fl *pflag.FlagSet) error {
	o.ClientSecretSet, o.AudienceSet = fl.Changed("client-secret"), fl.Changed("audience")
	o.ParamsSet, o.AuthMethodSet = fl.Changed("param"), fl.Changed("client-auth-method")
	switch {
	case o.ClientSecretSet && o.ClientSecret != "-" && o.ClientSecret != "":
		// The value is a secret: it is not repeated in the message.
		return usageErrorf("--client-secret takes \"-\", to read the secret from stdin, or \"\", to remove it: " +
			"a secret given on the command line is visible to other users in the process list and stays in the shell's history")
	case o.InsecureStorage && (!o.ClientSecretSet || o.ClientSecret != "-"):
		return usageErrorf("--insecure-storage needs --client-secret - (the session's storage is chosen at login)")
	}
	if o.AuthMethodSet && o.AuthMethod != "" && o.AuthMethod != auth.AuthMethodBasic && o.AuthMethod != auth.AuthMethodPost {
		return usageErrorf("--client-auth-method must be %s or %s", auth.AuthMethodBasic, auth.AuthMethodPost)
	}
	var err error
	if o.AudienceSet {
		if o.Audience, err = normalizeAudience(o.Audience); err != nil {
			return err
		}
	}
	if o.ParamsSet {
		if o.Params, err = parseAuthParams(o.RawParams, true); err != nil {
			return err
		}
	}
	return nil
}

// normalizeAudience checks --audience values and leaves out empty ones.
// An audience is sent space separated, so it cannot hold a space.
func normalizeAudience(raw []string) ([]string, error) {
	var out []string
	for _, a := range raw {
		a = strings.TrimSpace(a)
		switch {
		case a == "":
			continue
		case strings.ContainsFunc(a, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			return nil, usageErrorf("invalid --audience %q: an audience holds no spaces or control characters", a)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// paramHints say, for the authorization request parameters agcurl sets
// itself or has a flag for, why --param may not set them.
var paramHints = map[string]string{
	"scope":         "use --scope",
	"audience":      "use --audience",
	"prompt":        "use --prompt",
	"login_hint":    "use --login-hint",
	"ui_locales":    "use --ui-locales",
	"x_page":        "use --signup",
	"x_sso_enabled": "use --sso",
	"id_token_hint": "use login --reauth",
}

// parseAuthParams parses --param KEY=VALUE values into a map (a later
// KEY wins). With clearable, an empty value ("") is left out, so that
// `configure --param ""` clears the set. Keys agcurl sets itself or has a
// flag for, in any case, are refused with a hint.
func parseAuthParams(raw []string, clearable bool) (map[string]string, error) {
	var out map[string]string
	for _, kv := range raw {
		if clearable && strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usageErrorf("invalid --param %q: want KEY=VALUE, e.g. access_type=offline", kv)
		}
		if strings.EqualFold(k, "client_secret") {
			return nil, usageErrorf("--param client_secret: a secret never goes in a URL or on the command line; use `agcurl configure --client-secret -`")
		}
		// In any case: some providers read parameter names so.
		lower := strings.ToLower(k)
		if hint, owned := paramHints[lower]; owned {
			return nil, usageErrorf("--param %s: agcurl sets %s itself; %s", k, lower, hint)
		}
		var reserved *auth.ReservedParamError
		if err := auth.CheckExtraParams(map[string]string{k: v}); errors.As(err, &reserved) && reserved.Replacing {
			return nil, usageErrorf("--param %s: it would replace the parameters agcurl sets itself (state, PKCE, redirect_uri) or where the response goes", k)
		} else if err != nil {
			return nil, usageErrorf("--param %s: agcurl sets %s itself (it is part of the login's protocol)", k, lower)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out, nil
}

// clientSecretChange is what configure does with the client secret,
// decided before the configuration is written and finished after.
type clientSecretChange struct {
	p      *profileContext
	old    string // the backend of the secret before
	stored string // the backend the new secret was stored in, if any
	// previous is the entry the new secret replaced in that backend, put
	// back if the configuration is not written.
	previous *keychain.Session
	remove   string // the backend whose old secret goes once the config is written
	note     string // what to tell the user
}

// applyClientOptions sets np's client fields from o and cur (the profile
// as it was), reading the new secret from stdin (in, or the terminal) and
// storing it. The returned change removes the old secret once the new
// configuration is written (finish), or the new one if writing failed
// (undo).
func (o *ClientOptions) applyClientOptions(ctx context.Context, opts *ConfigureOptions, in *bufio.Reader, p *profileContext, np, cur *config.Profile) (*clientSecretChange, error) {
	np.Audience, np.AuthParams, np.ClientAuthMethod = cur.Audience, cur.AuthParams, cur.ClientAuthMethod
	if o.AudienceSet {
		np.Audience = o.Audience
	}
	if o.ParamsSet {
		np.AuthParams = o.Params
	}
	if o.AuthMethodSet {
		np.ClientAuthMethod = o.AuthMethod
	}
	old := cur.ClientSecretStorage
	ch := &clientSecretChange{p: p, old: old}
	np.ClientSecretStorage = old
	sameClient := cur.Endpoint == np.Endpoint && cur.ClientID == np.ClientID
	switch {
	case o.ClientSecretSet && o.ClientSecret == "-":
		secret, err := readSecretFrom(opts.IO, in, "Client secret", "on stdin")
		if err != nil {
			return nil, err
		}
		storage, err := p.storageName()
		if err != nil {
			return nil, err
		}
		if o.InsecureStorage {
			storage = keychain.StorageFile
		}
		if storage == old {
			prev, err := p.storeFor(storage).Load(keychain.ClientSecretEntry(p.name))
			if err != nil && !errors.Is(err, keychain.ErrNotFound) {
				return nil, fmt.Errorf("read the client secret it replaces: %w", err)
			}
			ch.previous = prev
		}
		if err := p.saveClientSecret(ctx, storage, np.Endpoint, np.ClientID, secret); err != nil {
			return nil, err
		}
		np.ClientSecretStorage, ch.stored = storage, storage
		ch.note = "Client secret stored in the " + storage + " (never in " + config.FileName + ")"
		if old != "" && old != storage {
			ch.remove = old
		}
	case o.ClientSecretSet:
		np.ClientSecretStorage = ""
		ch.remove = old
		if old != "" {
			ch.note = "Client secret removed: the client is a public one now"
		}
	case old != "" && !sameClient:
		// The secret belongs to the client it was given for, never to
		// another one.
		np.ClientSecretStorage = ""
		ch.remove = old
		ch.note = "Client secret removed: it belonged to the previous endpoint or client; give the new one with --client-secret -"
	}
	return ch, nil
}

// finish removes the replaced secret and says what changed.
func (ch *clientSecretChange) finish(ctx context.Context, ios *IOStreams) error {
	if err := ch.p.removeClientSecret(ctx, ch.remove); err != nil {
		return err
	}
	if ch.note != "" {
		fmt.Fprintln(ios.ErrOut, ch.note)
	}
	return nil
}

// undo takes back the secret stored for a configuration that was not
// written: the one it replaced is put back, or, if it replaced none, it is
// removed. The unchanged configuration finds what it had.
func (ch *clientSecretChange) undo(ctx context.Context) {
	switch {
	case ch == nil || ch.stored == "":
	case ch.previous != nil:
		s := ch.previous
		_ = ch.p.saveClientSecret(ctx, ch.stored, s.Issuer, s.ClientID, s.ClientSecret)
	default:
		_ = ch.p.removeClientSecret(ctx, ch.stored)
	}
}

// readSecretFrom reads one secret line: on a terminal after a prompt,
// without echo; else from in. A secret is never taken from argv. where
// says, when there is none, where it was looked for.
func readSecretFrom(ios *IOStreams, in *bufio.Reader, what, where string) (string, error) {
	var line string
	if file, ok := ios.In.(*os.File); ok && ios.InTTY {
		fmt.Fprintf(ios.ErrOut, "%s: ", what)
		b, err := term.ReadPassword(int(file.Fd()))
		fmt.Fprintln(ios.ErrOut)
		if err != nil {
			return "", err
		}
		line = string(b)
	} else {
		l, err := in.ReadString('\n')
		if err != nil && err != io.EOF {
			return "", err
		}
		line = l
	}
	if line = strings.TrimSpace(line); line == "" {
		return "", usageErrorf("no %s given %s", strings.ToLower(what), where)
	}
	return line, nil
}
