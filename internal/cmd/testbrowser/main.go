// Command testbrowser stands in for a person at a browser: given the
// authorization URL, it follows the redirects through the bundled
// provider's auto-approving sign-in to agcurl's loopback redirect. Use it as
// BROWSER=testbrowser for the demo and the end-to-end tests.
package main

import (
	"context"
	"os"

	"github.com/agcurl/agcurl/internal/browser"
)

func main() { os.Exit(browser.Main(context.Background(), os.Args[1:])) }
