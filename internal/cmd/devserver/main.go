// Command devserver runs the bundled test OpenID Provider and protected API
// on loopback, for the demo and for trying agcurl without an Authgear
// project. It prints the provider's issuer and the API's URL, then serves
// until interrupted.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/agcurl/agcurl/internal/testop"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "provider listen address")
	apiAddr := flag.String("api-addr", "127.0.0.1:0", "API listen address")
	ttl := flag.Duration("access-token-ttl", 1800*time.Second, "access token lifetime")
	rotate := flag.Bool("rotate", false, "rotate refresh tokens on every refresh")
	strict := flag.Bool("strict", false, "a strict provider: offline_access only with prompt=consent, iss in authorization responses (RFC 9207), device grant offered")
	envFile := flag.String("env-file", "", "also write ISSUER=... and API=... lines to this file")
	flag.Parse()

	srv, err := testop.Start(testop.Options{Addr: *addr, APIAddr: *apiAddr, AccessTokenTTL: *ttl, RotateRefreshTokens: *rotate,
		StrictOfflineAccess: *strict, IssParameter: *strict, Device: *strict})
	if err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
	defer srv.Close()
	env := fmt.Sprintf("ISSUER=%s\nAPI=%s\nCLIENT_ID=%s\n", srv.Issuer, srv.APIURL, testop.CLIClientID)
	if *envFile != "" {
		if err := os.WriteFile(*envFile, []byte(env), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "devserver:", err)
			os.Exit(1)
		}
	}
	fmt.Print(env)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
