package keychain

// ClientSecretEntry is the name under which a Store keeps the client
// secret of profile's confidential client, apart from its session so that
// logging out keeps it: a Session whose Issuer and ClientID name the
// client the secret belongs to and whose ClientSecret holds it. The "@"
// cannot occur in a profile name, so the entry never meets a profile's
// session or its parts.
func ClientSecretEntry(profile string) string { return profile + "@client-secret" }
