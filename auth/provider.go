package auth

// ProviderInfo is the part of an OpenID Provider's discovery document agcurl
// uses. Discover fills it; the configuration caches it, and CheckProvider
// checks the cached copy before use.
type ProviderInfo struct {
	Issuer                      string   `json:"issuer"`
	AuthorizationEndpoint       string   `json:"authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	UserinfoEndpoint            string   `json:"userinfo_endpoint,omitempty"`
	RevocationEndpoint          string   `json:"revocation_endpoint,omitempty"`
	EndSessionEndpoint          string   `json:"end_session_endpoint,omitempty"`
	JWKSURI                     string   `json:"jwks_uri"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint,omitempty"`
	TokenAuthMethods            []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethods        []string `json:"code_challenge_methods_supported,omitempty"`
	PromptValues                []string `json:"prompt_values_supported,omitempty"`
	// AuthorizationResponseIssParameterSupported: the provider adds iss to
	// its authorization responses (RFC 9207), which must then be checked.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// RevocationAuthMethods is how a confidential client may authenticate
	// at the revocation endpoint (RFC 8414 2); client_secret_basic when
	// empty.
	RevocationAuthMethods []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
}
