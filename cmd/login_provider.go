package cmd

import (
	"maps"

	"github.com/spf13/pflag"
)

// LoginClientOptions are login's flags for the audience of the access
// token and extra authorization request parameters; they override what
// `agcurl configure --audience/--param` stored for the profile.
type LoginClientOptions struct {
	// Audience (--audience, empty values left out) replaces the profile's
	// when AudienceSet.
	Audience    []string
	AudienceSet bool
	// Params (--param KEY=VALUE, parsed) are added to the profile's,
	// replacing the same keys; RawParams are the flag's values.
	Params    map[string]string
	RawParams []string
}

func (o *LoginClientOptions) addLoginFlags(fl *pflag.FlagSet) {
	fl.StringArrayVar(&o.Audience, "audience", nil, "API identifier sent as the audience parameter (Auth0, Ory Hydra); repeatable; replaces the profile's")
	fl.StringArrayVar(&o.RawParams, "param", nil, "extra authorization request parameter KEY=VALUE, e.g. access_type=offline (repeatable; over the profile's)")
}

// readLoginFlags records whether --audience was given and checks the
// values.
func (o *LoginClientOptions) readLoginFlags(fl *pflag.FlagSet) error {
	o.AudienceSet = fl.Changed("audience")
	var err error
	if o.Audience, err = normalizeAudience(o.Audience); err != nil {
		return err
	}
	o.Params, err = parseAuthParams(o.RawParams, false)
	return err
}

// checkClientFlags returns the usage error in combining --audience and
// --param with the other flags, if any.
func (o *LoginOptions) checkClientFlags() error {
	switch {
	case o.WithRefreshToken && (o.Client.AudienceSet || len(o.Client.Params) > 0):
		return usageErrorf("--audience and --param shape a sign-in; a refresh token's were fixed when it was issued")
	case o.ClientCredentials && len(o.Client.Params) > 0:
		return usageErrorf("--param adds to the authorization request, which --client-credentials does not make; use --audience or --resource")
	}
	return nil
}

// loginAudience is the audience a login sends: --audience when given,
// else the profile's.
func (p *profileContext) loginAudience(o *LoginOptions) []string {
	if o.Client.AudienceSet {
		return o.Client.Audience
	}
	return p.profile.Audience
}

// loginParams are the extra authorization request parameters a login
// sends: the profile's, with --param's over them.
func (p *profileContext) loginParams(o *LoginOptions) map[string]string {
	if len(o.Client.Params) == 0 {
		return p.profile.AuthParams
	}
	m := maps.Clone(p.profile.AuthParams)
	if m == nil {
		m = map[string]string{}
	}
	maps.Copy(m, o.Client.Params)
	return m
}

// asksOffline reports whether the login's extra parameters ask for a
// refresh token the way Google wants it (access_type=offline), which is
// then expected as with the offline_access scope.
func (p *profileContext) asksOffline(o *LoginOptions) bool {
	return p.loginParams(o)["access_type"] == "offline"
}
