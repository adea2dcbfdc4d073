// Command barego is the floor for agcurl's per-call benchmark: a bare Go
// program that GETs one URL with a bearer token from $TOKEN and copies the
// body to stdout, with nothing else.
package main

import (
	"io"
	"net/http"
	"os"
)

func main() {
	req, err := http.NewRequest(http.MethodGet, os.Args[1], nil)
	if err != nil {
		os.Exit(2)
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("TOKEN"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		os.Exit(7)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(os.Stdout, resp.Body); err != nil {
		os.Exit(23)
	}
}
