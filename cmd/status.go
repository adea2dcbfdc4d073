package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/termsafe"
	"github.com/agcurl/agcurl/keychain"
)

type profileStatus struct {
	Profile  string `json:"profile"`
	Current  bool   `json:"current"`
	Endpoint string `json:"endpoint"`
	ClientID string `json:"client_id"`
	// Configured: the endpoint and the client id are known, from the
	// configuration or the environment.
	Configured bool   `json:"configured"`
	Storage    string `json:"storage"`
	// Env names the environment variables that set or override this
	// profile's endpoint, client id, storage or credential.
	Env []string `json:"env,omitempty"`
	// CredentialSource is where commands get the profile's token:
	// AGCURL_ACCESS_TOKEN or AGCURL_REFRESH_TOKEN (for the current profile,
	// as gh's "GH_TOKEN"), or the storage holding its session.
	CredentialSource  string     `json:"credential_source,omitempty"`
	LoggedIn          bool       `json:"logged_in"`
	Subject           string     `json:"subject,omitempty"`
	MachineClient     bool       `json:"machine_client,omitempty"`
	AccessTokenExpiry *time.Time `json:"access_token_expires_at,omitempty"`
	AccessTokenFresh  bool       `json:"access_token_fresh"`
	HasRefreshToken   bool       `json:"has_refresh_token"`
	// Renewable: a new access token can be had without the user (a
	// refresh token, or a machine client's credentials).
	Renewable bool `json:"renewable"`
	// Usable: the session belongs to the profile's provider and client,
	// and its access token is fresh or can be renewed.
	Usable bool `json:"usable"`
	// OtherIssuer is set when the session was issued by another endpoint
	// or client than the profile now names: it is not used.
	OtherIssuer string   `json:"other_issuer,omitempty"`
	Scopes      []string `json:"scopes,omitempty"`
	Error       string   `json:"error,omitempty"`
	// ClientSecretSource says where the client secret of a confidential
	// client comes from ("keyring", "file", "AGCURL_CLIENT_SECRET"); the
	// secret is never shown.
	ClientSecretSource string `json:"client_secret_source,omitempty"`
}

// StatusOptions are what `agcurl status` runs with: the --json flag, its
// output, the environment and clock, and, resolved only when it runs, the
// current profile.
type StatusOptions struct {
	IO      *IOStreams
	Getenv  func(string) string
	Now     func() time.Time
	Profile func() (*profileContext, error)

	// JSON prints the profiles' states as JSON (--json).
	JSON bool
}

// NewCmdStatus builds `agcurl status`. When runF is not nil it is called
// with the parsed options instead of statusRun, so that tests can check the
// command line without reading any session.
func NewCmdStatus(f *Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IO, Getenv: f.Getenv, Now: f.Now}
	c := &cobra.Command{
		Use:   "status",
		Short: "Show each profile's sign-in state, without network calls",
		Long: `Show every configured profile: endpoint, client id, where its session is
stored, who is signed in, when the access token expires and whether a refresh
token is held. Nothing secret is printed and nothing is sent anywhere.

The current profile is shown as commands would use it: with AGCURL_ENDPOINT
and AGCURL_CLIENT_ID over its configuration (or made of them alone), and,
when AGCURL_ACCESS_TOKEN or AGCURL_REFRESH_TOKEN is set, "logged in via"
that variable instead of the stored session. Values the environment set are
marked "(from VARIABLE)"; with --json, listed in "env", and the credential's
origin is "credential_source".

Exits with 4 when the current profile has no usable credential: it is not
configured, not signed in, or its session has expired and cannot be renewed.`,
		Example: `  agcurl status
  agcurl status --json`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Profile = f.profileFunc()
			if runF != nil {
				return runF(opts)
			}
			return statusRun(c.Context(), opts)
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return c
}

// statusRun prints the state of every configured profile, and of the
// current one when only the environment configures it, from what is stored
// locally and what the environment says. It fails with ExitLoginRequired,
// silently, when the current profile has no usable credential (not
// configured, not signed in, or a session that cannot be renewed).
func statusRun(_ context.Context, opts *StatusOptions) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	now := opts.Now()
	var rows []profileStatus
	currentIn := false
	names := p.cfg.ProfileNames()
	if p.cfg.Profiles[p.name] == nil && (p.profile != nil || envCredential(opts.Getenv) != "") {
		// Configured only by the environment (AGCURL_ENDPOINT,
		// AGCURL_CLIENT_ID), or not at all but given a credential.
		names = append(names, p.name)
	}
	for _, n := range names {
		q := &profileContext{f: p.f, name: n, dir: p.dir, cfg: p.cfg, profile: p.cfg.Profiles[n]}
		if n == p.name {
			q = p // with the environment's overrides
		}
		st := statusOf(q, n == p.name, opts.Getenv, now)
		if st.Current {
			currentIn = st.Usable
		}
		rows = append(rows, st)
	}
	if opts.JSON {
		if rows == nil {
			rows = []profileStatus{}
		}
		if err := writeJSONOut(opts.IO, rows); err != nil {
			return err
		}
	} else {
		printStatus(opts.IO, rows, now)
	}
	if !currentIn {
		return &SilentError{Code: ExitLoginRequired}
	}
	return nil
}

// envCredential names the environment variable that gives commands their
// token instead of the stored session, if one is set: AGCURL_ACCESS_TOKEN
// wins over AGCURL_REFRESH_TOKEN.
func envCredential(getenv func(string) string) string {
	for _, k := range []string{"AGCURL_ACCESS_TOKEN", "AGCURL_REFRESH_TOKEN"} {
		if getenv(k) != "" {
			return k
		}
	}
	return ""
}

// statusOf is the state of profile p, current or not, without network
// calls. For the current profile a credential from the environment is what
// commands use, and so what is shown; the stored session is not read.
func statusOf(p *profileContext, current bool, getenv func(string) string, now time.Time) profileStatus {
	st := profileStatus{Profile: p.name, Current: current, ClientSecretSource: p.clientSecretSource()}
	if p.profile != nil {
		st.Endpoint, st.ClientID = p.profile.Endpoint, p.profile.ClientID
	}
	st.Configured = st.Endpoint != "" && st.ClientID != ""
	if current {
		for _, k := range []string{"AGCURL_ENDPOINT", "AGCURL_CLIENT_ID"} {
			if getenv(k) != "" {
				st.Env = append(st.Env, k)
			}
		}
	}
	if getenv("AGCURL_STORAGE") != "" {
		st.Env = append(st.Env, "AGCURL_STORAGE")
	}
	storage, storageErr := p.storageName()
	st.Storage = storage
	if cred := envCredential(getenv); current && cred != "" {
		st.Env = append(st.Env, cred)
		st.CredentialSource = cred
		envCredentialStatus(&st, cred, getenv(cred), now)
		return st
	}
	if storageErr != nil {
		st.Error = storageErr.Error()
		return st
	}
	if !st.Configured {
		st.Error = notConfiguredText(&st)
		return st
	}
	s, err := p.storeFor(storage).Load(p.name)
	if errors.Is(err, keychain.ErrNotFound) {
		return st
	}
	if err != nil {
		st.Error = withRemedy(err).Error()
		return st
	}
	st.Subject = s.Subject
	st.MachineClient = s.GrantType == keychain.GrantClientCredentials
	if !p.sessionBelongs(s) {
		// Issued elsewhere: never shown as a valid session of this profile.
		st.OtherIssuer = s.Issuer
		return st
	}
	st.CredentialSource = storage
	st.LoggedIn = true
	if !s.Expiry.IsZero() {
		e := s.Expiry
		st.AccessTokenExpiry = &e
	}
	st.AccessTokenFresh = auth.Fresh(s, now)
	st.HasRefreshToken = s.RefreshToken != ""
	st.Renewable = auth.Renewable(s)
	st.Usable = st.AccessTokenFresh || st.Renewable
	st.Scopes = s.Scopes
	return st
}

// envCredentialStatus fills in st for a credential given in the
// environment variable name: an access token is used as is (its expiry
// read, unverified, when it is a JWT); a refresh token needs the profile's
// endpoint and client id to be used.
func envCredentialStatus(st *profileStatus, name, value string, now time.Time) {
	if name == "AGCURL_ACCESS_TOKEN" {
		if err := checkTokenText(name, value); err != nil {
			st.Error = err.Error()
			return
		}
		st.LoggedIn = true
		st.AccessTokenFresh = true
		if info, err := auth.DecodeJWT(value); err == nil {
			if e, ok := info.Time("exp"); ok {
				st.AccessTokenExpiry = &e
				st.AccessTokenFresh = now.Before(e)
			}
		}
		st.Usable = st.AccessTokenFresh
		return
	}
	if !st.Configured {
		st.Error = notConfiguredText(st) + "; " + name + " cannot be used without them"
		return
	}
	st.LoggedIn, st.HasRefreshToken, st.Renewable, st.Usable = true, true, true, true
}

// notConfiguredText says what the profile of st lacks, and where to set it.
func notConfiguredText(st *profileStatus) string {
	var missing []string
	var how []string
	if st.Endpoint == "" {
		missing, how = append(missing, "no endpoint"), append(how, "AGCURL_ENDPOINT")
	}
	if st.ClientID == "" {
		missing, how = append(missing, "no client id"), append(how, "AGCURL_CLIENT_ID")
	}
	return fmt.Sprintf("not configured: %s; run `agcurl configure%s --endpoint URL --client-id ID`, or set %s",
		strings.Join(missing, " and "), profileFlagFor(st.Profile), strings.Join(how, " and "))
}

func printStatus(ios *IOStreams, rows []profileStatus, now time.Time) {
	pal := newPalette(ios.ColorOut)
	if len(rows) == 0 {
		fmt.Fprintln(ios.Out, "No profiles configured. Run `agcurl configure --endpoint URL --client-id ID`.")
		return
	}
	for i, st := range rows {
		if i > 0 {
			fmt.Fprintln(ios.Out)
		}
		mark := ""
		if st.Current {
			mark = " (current)"
		}
		// from notes a value the environment set.
		from := func(v, env string) string {
			if slices.Contains(st.Env, env) {
				return firstNonEmpty(v, "-") + " (from " + env + ")"
			}
			return firstNonEmpty(v, "-")
		}
		fmt.Fprintf(ios.Out, "%s%s\n", pal.bold(st.Profile), mark)
		fmt.Fprintf(ios.Out, "  endpoint:      %s\n", from(st.Endpoint, "AGCURL_ENDPOINT"))
		fmt.Fprintf(ios.Out, "  client id:     %s\n", from(st.ClientID, "AGCURL_CLIENT_ID"))
		switch st.ClientSecretSource {
		case "":
		case clientSecretEnv:
			fmt.Fprintf(ios.Out, "  client secret: yes, from $%s (not shown)\n", clientSecretEnv)
		default:
			fmt.Fprintf(ios.Out, "  client secret: yes, kept in the %s (not shown)\n", st.ClientSecretSource)
		}
		fmt.Fprintf(ios.Out, "  storage:       %s\n", from(st.Storage, "AGCURL_STORAGE"))
		env := st.CredentialSource == "AGCURL_ACCESS_TOKEN" || st.CredentialSource == "AGCURL_REFRESH_TOKEN"
		switch {
		case st.Error != "":
			fmt.Fprintf(ios.Out, "  %s %s\n", pal.red("X"), termsafe.String(st.Error))
		case st.OtherIssuer != "":
			fmt.Fprintf(ios.Out, "  %s not logged in: the stored session was issued by %s or to another client, not this profile's; log in again\n",
				pal.red("X"), termsafe.String(st.OtherIssuer))
		case !st.LoggedIn:
			fmt.Fprintf(ios.Out, "  %s not logged in; run `%s`\n", pal.red("X"), loginCommandFor(st.Profile))
		case st.CredentialSource == "AGCURL_ACCESS_TOKEN":
			fmt.Fprintf(ios.Out, "  %s logged in via AGCURL_ACCESS_TOKEN: used as is, never refreshed\n", pal.green("✓"))
		case st.CredentialSource == "AGCURL_REFRESH_TOKEN":
			fmt.Fprintf(ios.Out, "  %s logged in via AGCURL_REFRESH_TOKEN: an access token is got from it on each use, and nothing is stored\n", pal.green("✓"))
		default:
			grant := ""
			if st.MachineClient {
				grant = keychain.GrantClientCredentials
			}
			who := subjectText(&keychain.Session{Subject: st.Subject, ClientID: st.ClientID, GrantType: grant})
			fmt.Fprintf(ios.Out, "  %s logged in as %s\n", pal.green("✓"), termsafe.String(who))
		}
		if !st.LoggedIn || st.Error != "" {
			continue
		}
		if env {
			fmt.Fprintf(ios.Out, "  stored session: ignored while %s is set\n", st.CredentialSource)
		}
		if st.CredentialSource == "AGCURL_REFRESH_TOKEN" {
			continue
		}
		switch {
		case st.AccessTokenExpiry == nil:
			fmt.Fprintf(ios.Out, "  access token:  expiry unknown\n")
		case st.AccessTokenExpiry.After(now):
			fmt.Fprintf(ios.Out, "  access token:  expires %s (in %s)\n", st.AccessTokenExpiry.Local().Format(time.RFC3339), st.AccessTokenExpiry.Sub(now).Round(time.Second))
		case st.Renewable:
			fmt.Fprintf(ios.Out, "  access token:  expired %s (renewed on next use)\n", st.AccessTokenExpiry.Local().Format(time.RFC3339))
		case env:
			fmt.Fprintf(ios.Out, "  access token:  %s expired %s: replace AGCURL_ACCESS_TOKEN\n", pal.red("X"), st.AccessTokenExpiry.Local().Format(time.RFC3339))
		default:
			fmt.Fprintf(ios.Out, "  access token:  %s expired %s, cannot be renewed (no refresh token): log in again\n", pal.red("X"), st.AccessTokenExpiry.Local().Format(time.RFC3339))
		}
		if !env {
			rt := "no"
			if st.HasRefreshToken {
				rt = "yes"
			}
			fmt.Fprintf(ios.Out, "  refresh token: %s\n", rt)
		}
	}
}
