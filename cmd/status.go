package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/termsafe"
	"github.com/agcurl/agcurl/keychain"
)

type profileStatus struct {
	Profile           string     `json:"profile"`
	Current           bool       `json:"current"`
	Endpoint          string     `json:"endpoint"`
	ClientID          string     `json:"client_id"`
	Storage           string     `json:"storage"`
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

Exits with 4 when the current profile is not signed in.`,
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

// statusRun prints the state of every configured profile, from what is
// stored locally. It fails with ExitLoginRequired, silently, when the
// current profile cannot be used.
func statusRun(_ context.Context, opts *StatusOptions) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	now := opts.Now()
	var rows []profileStatus
	currentIn := false
	names := p.cfg.ProfileNames()
	if p.profile != nil && p.cfg.Profiles[p.name] == nil {
		names = append(names, p.name) // configured only by AGCURL_ENDPOINT and AGCURL_CLIENT_ID
	}
	for _, n := range names {
		q := &profileContext{f: p.f, name: n, dir: p.dir, cfg: p.cfg, profile: p.cfg.Profiles[n]}
		if n == p.name {
			q = p // with the environment's overrides
		}
		st := statusOf(q, now)
		st.Current = n == p.name
		if st.Current {
			currentIn = st.Usable
		}
		rows = append(rows, st)
	}
	if opts.JSON {
		if rows == nil {
			rows = []profileStatus{}
		}
		if err := writeJSON(opts.IO.Out, rows); err != nil {
			return err
		}
	} else {
		printStatus(opts.IO, rows, now)
	}
	for _, env := range []string{"AGCURL_ACCESS_TOKEN", "AGCURL_REFRESH_TOKEN"} {
		if opts.Getenv(env) != "" {
			fmt.Fprintf(opts.IO.ErrOut, "Note: %s is set; commands use it instead of the stored session.\n", env)
			currentIn = true
			break
		}
	}
	if !currentIn {
		return &SilentError{Code: ExitLoginRequired}
	}
	return nil
}

func statusOf(p *profileContext, now time.Time) profileStatus {
	st := profileStatus{Profile: p.name, Endpoint: p.profile.Endpoint, ClientID: p.profile.ClientID,
		ClientSecretSource: p.clientSecretSource()}
	storage, err := p.storageName()
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.Storage = storage
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
		fmt.Fprintf(ios.Out, "%s%s\n", pal.bold(st.Profile), mark)
		fmt.Fprintf(ios.Out, "  endpoint:      %s\n", st.Endpoint)
		fmt.Fprintf(ios.Out, "  client id:     %s\n", st.ClientID)
		switch st.ClientSecretSource {
		case "":
		case clientSecretEnv:
			fmt.Fprintf(ios.Out, "  client secret: yes, from $%s (not shown)\n", clientSecretEnv)
		default:
			fmt.Fprintf(ios.Out, "  client secret: yes, kept in the %s (not shown)\n", st.ClientSecretSource)
		}
		fmt.Fprintf(ios.Out, "  storage:       %s\n", firstNonEmpty(st.Storage, "-"))
		switch {
		case st.Error != "":
			fmt.Fprintf(ios.Out, "  %s %s\n", pal.red("X"), termsafe.String(st.Error))
		case st.OtherIssuer != "":
			fmt.Fprintf(ios.Out, "  %s not logged in: the stored session was issued by %s or to another client, not this profile's; log in again\n",
				pal.red("X"), termsafe.String(st.OtherIssuer))
		case !st.LoggedIn:
			fmt.Fprintf(ios.Out, "  %s not logged in\n", pal.red("X"))
		default:
			grant := ""
			if st.MachineClient {
				grant = keychain.GrantClientCredentials
			}
			who := subjectText(&keychain.Session{Subject: st.Subject, ClientID: st.ClientID, GrantType: grant})
			fmt.Fprintf(ios.Out, "  %s logged in as %s\n", pal.green("✓"), termsafe.String(who))
			switch {
			case st.AccessTokenExpiry == nil:
				fmt.Fprintf(ios.Out, "  access token:  expiry unknown\n")
			case st.AccessTokenExpiry.After(now):
				fmt.Fprintf(ios.Out, "  access token:  expires %s (in %s)\n", st.AccessTokenExpiry.Local().Format(time.RFC3339), st.AccessTokenExpiry.Sub(now).Round(time.Second))
			case st.Renewable:
				fmt.Fprintf(ios.Out, "  access token:  expired %s (renewed on next use)\n", st.AccessTokenExpiry.Local().Format(time.RFC3339))
			default:
				fmt.Fprintf(ios.Out, "  access token:  %s expired %s, cannot be renewed (no refresh token): log in again\n", pal.red("X"), st.AccessTokenExpiry.Local().Format(time.RFC3339))
			}
			rt := "no"
			if st.HasRefreshToken {
				rt = "yes"
			}
			fmt.Fprintf(ios.Out, "  refresh token: %s\n", rt)
		}
	}
}
