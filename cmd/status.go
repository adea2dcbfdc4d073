package cmd

import (
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
}

func newStatusCmd(f *Factory, g *globalOptions) *cobra.Command {
	var asJSON bool
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
			p, err := resolveProfile(f, g.Profile)
			if err != nil {
				return err
			}
			now := f.Now()
			var rows []profileStatus
			currentIn := false
			names := p.cfg.ProfileNames()
			if p.profile != nil && p.cfg.Profiles[p.name] == nil {
				names = append(names, p.name) // configured only by AGCURL_ENDPOINT and AGCURL_CLIENT_ID
			}
			for _, n := range names {
				q := &profileContext{f: f, name: n, dir: p.dir, cfg: p.cfg, profile: p.cfg.Profiles[n]}
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
			if asJSON {
				if rows == nil {
					rows = []profileStatus{}
				}
				if err := writeJSON(f.IO.Out, rows); err != nil {
					return err
				}
			} else {
				printStatus(f, rows, now)
			}
			for _, env := range []string{"AGCURL_ACCESS_TOKEN", "AGCURL_REFRESH_TOKEN"} {
				if f.Getenv(env) != "" {
					fmt.Fprintf(f.IO.ErrOut, "Note: %s is set; commands use it instead of the stored session.\n", env)
					currentIn = true
					break
				}
			}
			if !currentIn {
				return &SilentError{Code: ExitLoginRequired}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func statusOf(p *profileContext, now time.Time) profileStatus {
	st := profileStatus{Profile: p.name, Endpoint: p.profile.Endpoint, ClientID: p.profile.ClientID}
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

func printStatus(f *Factory, rows []profileStatus, now time.Time) {
	pal := newPalette(f.IO.ColorOut)
	if len(rows) == 0 {
		fmt.Fprintln(f.IO.Out, "No profiles configured. Run `agcurl configure --endpoint URL --client-id ID`.")
		return
	}
	for i, st := range rows {
		if i > 0 {
			fmt.Fprintln(f.IO.Out)
		}
		mark := ""
		if st.Current {
			mark = " (current)"
		}
		fmt.Fprintf(f.IO.Out, "%s%s\n", pal.bold(st.Profile), mark)
		fmt.Fprintf(f.IO.Out, "  endpoint:      %s\n", st.Endpoint)
		fmt.Fprintf(f.IO.Out, "  client id:     %s\n", st.ClientID)
		fmt.Fprintf(f.IO.Out, "  storage:       %s\n", firstNonEmpty(st.Storage, "-"))
		switch {
		case st.Error != "":
			fmt.Fprintf(f.IO.Out, "  %s %s\n", pal.red("X"), termsafe.String(st.Error))
		case st.OtherIssuer != "":
			fmt.Fprintf(f.IO.Out, "  %s not logged in: the stored session was issued by %s or to another client, not this profile's; log in again\n",
				pal.red("X"), termsafe.String(st.OtherIssuer))
		case !st.LoggedIn:
			fmt.Fprintf(f.IO.Out, "  %s not logged in\n", pal.red("X"))
		default:
			fmt.Fprintf(f.IO.Out, "  %s logged in as %s\n", pal.green("✓"), termsafe.String(firstNonEmpty(st.Subject, "(unknown subject)")))
			switch {
			case st.AccessTokenExpiry == nil:
				fmt.Fprintf(f.IO.Out, "  access token:  expiry unknown\n")
			case st.AccessTokenExpiry.After(now):
				fmt.Fprintf(f.IO.Out, "  access token:  expires %s (in %s)\n", st.AccessTokenExpiry.Local().Format(time.RFC3339), st.AccessTokenExpiry.Sub(now).Round(time.Second))
			case st.Renewable:
				fmt.Fprintf(f.IO.Out, "  access token:  expired %s (renewed on next use)\n", st.AccessTokenExpiry.Local().Format(time.RFC3339))
			default:
				fmt.Fprintf(f.IO.Out, "  access token:  %s expired %s, cannot be renewed (no refresh token): log in again\n", pal.red("X"), st.AccessTokenExpiry.Local().Format(time.RFC3339))
			}
			rt := "no"
			if st.HasRefreshToken {
				rt = "yes"
			}
			fmt.Fprintf(f.IO.Out, "  refresh token: %s\n", rt)
		}
	}
}

// NewCmdStatus is a shim until this command takes the XOptions shape.
func NewCmdStatus(f *Factory, runF func(*struct{}) error) *cobra.Command {
	return newStatusCmd(f, f.global)
}
