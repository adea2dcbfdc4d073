// Command gendocs regenerates completions/, docs/commands/ and docs/man/
// from agcurl's command tree: go run ./internal/cmd/gendocs
package main

import (
	"fmt"
	"os"

	"github.com/agcurl/agcurl/internal/gendocs"
)

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := gendocs.Generate(dir); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
