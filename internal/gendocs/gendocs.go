// Package gendocs generates agcurl's command reference (Markdown), man
// pages and shell completion scripts from the cobra command tree. Run it
// with `go run ./internal/gendocs` (or `make docs`); a test fails when the
// checked-in files differ from what it generates.
package gendocs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/agcurl/agcurl/cmd"
)

// manDate is the date written into the man pages. It is fixed so that the
// generated files change only when the commands do.
var manDate = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

// Root returns the command tree to document.
func Root() *cobra.Command {
	ios, _, _, _ := cmd.TestIO()
	f := &cmd.Factory{IO: ios, Getenv: func(string) string { return "" },
		ConfigDir: func() (string, error) { return os.TempDir(), nil }}
	root := cmd.NewRootCmd(f)
	var disable func(c *cobra.Command)
	disable = func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		for _, sub := range c.Commands() {
			disable(sub)
		}
	}
	disable(root)
	// The help topics are not commands, so cobra/doc leaves them out: put
	// them in agcurl(1) and agcurl.md as sections.
	for _, c := range root.Commands() {
		switch c.Name() {
		case "environment":
			root.Long += "\n\nENVIRONMENT\n\n" + c.Long
		case "exit-codes":
			root.Long += "\n\nEXIT STATUS\n\n" + c.Long
		}
	}
	return root
}

// Generate writes completions/, docs/commands/ and docs/man/ under dir,
// replacing what was there.
func Generate(dir string) error {
	root := Root()
	comp := filepath.Join(dir, "completions")
	commands := filepath.Join(dir, "docs", "commands")
	man := filepath.Join(dir, "docs", "man")
	for _, d := range []string{comp, commands, man} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(root, commands); err != nil {
		return fmt.Errorf("markdown: %w", err)
	}
	header := &doc.GenManHeader{Title: "AGCURL", Section: "1", Date: &manDate, Source: "agcurl", Manual: "agcurl manual"}
	if err := doc.GenManTree(root, header, man); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	for name, gen := range map[string]func(*bytes.Buffer) error{
		"agcurl.bash": func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) },
		"_agcurl":     func(b *bytes.Buffer) error { return root.GenZshCompletion(b) },
		"agcurl.fish": func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) },
		"agcurl.ps1":  func(b *bytes.Buffer) error { return root.GenPowerShellCompletionWithDesc(b) },
	} {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(comp, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
