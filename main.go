// Command agcurl makes authorized API calls as a signed-in user of an
// Authgear project, or of any OpenID Connect provider.
package main

import (
	"os"

	"github.com/agcurl/agcurl/cmd"
)

func main() { os.Exit(cmd.Main()) }
