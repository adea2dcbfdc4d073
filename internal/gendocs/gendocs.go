// Package gendocs generates agcurl's command reference (Markdown), man
// pages and shell completion scripts from the cobra command tree. Run it
// with `go run ./internal/cmd/gendocs` (or `make docs`); a test fails when the
// checked-in files differ from what it generates.
package gendocs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

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
	root.InitDefaultHelpCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag() // as --help shows it
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return root
}

// topic is a help topic ('agcurl help environment'): not a command, so it
// has no page of its own but a section in agcurl(1) and agcurl.md.
type topic struct {
	section string // the man page's section name, e.g. "EXIT STATUS"
	title   string // the Markdown heading
	text    string
}

// topics are root's help topics as sections, named and ordered as
// man-pages(7) has them.
func topics(root *cobra.Command) []topic {
	out := []topic{{section: "EXIT STATUS", title: "Exit status"}, {section: "ENVIRONMENT", title: "Environment"}}
	for _, c := range root.Commands() {
		switch c.Name() {
		case "exit-codes":
			out[0].text = c.Long
		case "environment":
			out[1].text = c.Long
		}
	}
	return out
}

// pages calls fn for c and every command below it that has a page.
func pages(c *cobra.Command, fn func(*cobra.Command) error) error {
	if !hasPage(c) && c.HasParent() {
		return nil
	}
	if err := fn(c); err != nil {
		return err
	}
	for _, sub := range c.Commands() {
		if err := pages(sub, fn); err != nil {
			return err
		}
	}
	return nil
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
	err := pages(root, func(c *cobra.Command) error {
		var t []topic
		if c == root {
			t = topics(root)
		}
		var md, roff bytes.Buffer
		if err := writeMarkdown(&md, c, t); err != nil {
			return err
		}
		if err := writeMan(&roff, c, t); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(commands, markdownName(c)), md.Bytes(), 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(man, manName(c)+"."+manSection), roff.Bytes(), 0o644)
	})
	if err != nil {
		return err
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
