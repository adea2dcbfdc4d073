package cmd

import (
	"errors"
	"fmt"
	"regexp"
)

// fetchOptionHints are curl options that agcurl fetch does not take because
// it does what they are for in its own way: the hint says how.
var fetchOptionHints = map[string]string{
	"user": "--user (-u) is not supported: agcurl sends the profile's bearer token itself; " +
		"for another scheme use --no-auth -H 'Authorization: ...'",
	"oauth2-bearer": "--oauth2-bearer is not supported: agcurl sends the profile's bearer token itself; " +
		"to send another token, set AGCURL_ACCESS_TOKEN (it stays out of argv)",
	"cookie": "--cookie (-b) is not supported: agcurl keeps no cookies; send one with -H 'Cookie: name=value'",
	"cookie-jar": "--cookie-jar (-c) is not supported: agcurl keeps no cookie jar; " +
		"-i shows the Set-Cookie headers a server sends",
}

var fetchShorthands = map[string]string{"u": "user", "b": "cookie", "c": "cookie-jar"}

var unknownFlag = regexp.MustCompile(`^unknown (?:flag: --([^= ]+)|shorthand flag: '(.)' in )`)

// fetchFlagError words a flag error of agcurl fetch: a hint for the curl
// options above (without echoing the argument, which may hold a password),
// and for other unknown options a pointer to the ones it has.
func fetchFlagError(err error) error {
	m := unknownFlag.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	name := m[1]
	if m[2] != "" {
		name = fetchShorthands[m[2]]
	}
	if hint, ok := fetchOptionHints[name]; ok {
		return errors.New(hint)
	}
	return fmt.Errorf("%w; agcurl fetch supports a subset of curl's options: see 'agcurl fetch --help' and docs/curl.md", err)
}
