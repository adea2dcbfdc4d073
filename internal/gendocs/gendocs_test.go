package gendocs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
)

// TestCheckedInFilesAreCurrent fails when completions/ or the generated
// docs differ from what the command tree produces: run
// `go run ./internal/cmd/gendocs` (make docs) and commit.
func TestCheckedInFilesAreCurrent(t *testing.T) {
	tmp := t.TempDir()
	if err := Generate(tmp); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join("..", "..")
	for _, sub := range []string{"completions", filepath.Join("docs", "commands"), filepath.Join("docs", "man")} {
		want, _ := os.ReadDir(filepath.Join(tmp, sub))
		have, _ := os.ReadDir(filepath.Join(repo, sub))
		if len(want) != len(have) {
			t.Errorf("%s: %d files checked in, %d generated; run `make docs`", sub, len(have), len(want))
		}
		for _, e := range want {
			a, _ := os.ReadFile(filepath.Join(tmp, sub, e.Name()))
			b, err := os.ReadFile(filepath.Join(repo, sub, e.Name()))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s/%s is out of date; run `make docs`", sub, e.Name())
			}
		}
	}
}

// TestEveryCommandIsDocumented: every command has Long help, and every
// runnable one an Example.
func TestEveryCommandIsDocumented(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		if c.Long == "" {
			t.Errorf("%s has no Long help", c.CommandPath())
		}
		if c.Runnable() && c.Example == "" && c.HasParent() {
			t.Errorf("%s has no Example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(Root())
}
