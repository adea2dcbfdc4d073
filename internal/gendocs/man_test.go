package gendocs

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// generated runs Generate into a temporary directory and returns it, with
// the command tree it documents.
func generated(t *testing.T) (dir string, root *cobra.Command) {
	t.Helper()
	dir = t.TempDir()
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	return dir, Root()
}

// documented calls fn for every command that has a page.
func documented(root *cobra.Command, fn func(c *cobra.Command)) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c != root && !hasPage(c) {
			return
		}
		fn(c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// roffPage is a man page as its reader sees it, read back from the roff
// source: the .TH arguments and each section's text.
type roffPage struct {
	th       []string
	sections []roffSection
}

type roffSection struct {
	name string
	text string
}

func (p roffPage) section(name string) (string, bool) {
	for _, s := range p.sections {
		if s.name == name {
			return s.text, true
		}
	}
	return "", false
}

// readRoff interprets the part of man(7) the pages may use: a request it
// does not know, a text line that roff would take for a request, or an
// escape it does not know is an error, since roff would not show that
// text as written.
func readRoff(src string) (roffPage, error) {
	var (
		p   roffPage
		cur *roffSection
	)
	known := map[string]bool{"TH": true, "nh": true, "ad": true, "SH": true, "SS": true, "PP": true,
		"RS": true, "RE": true, "nf": true, "fi": true, "TP": true}
	for i, line := range strings.Split(strings.TrimSuffix(src, "\n"), "\n") {
		if line == "" {
			continue // a blank line: a paragraph break
		}
		if line[0] == '\'' {
			return p, fmt.Errorf("line %d: %q starts with the no-break control character", i+1, line)
		}
		if line[0] != '.' {
			text, err := unroff(line)
			if err != nil {
				return p, fmt.Errorf("line %d: %w", i+1, err)
			}
			if cur == nil {
				return p, fmt.Errorf("line %d: text before the first section", i+1)
			}
			cur.text += text + "\n"
			continue
		}
		name, rest, _ := strings.Cut(line[1:], " ")
		if !known[name] {
			return p, fmt.Errorf("line %d: %q is not a request the pages use", i+1, line)
		}
		args, err := roffArgs(rest)
		if err != nil {
			return p, fmt.Errorf("line %d: %w", i+1, err)
		}
		switch name {
		case "TH":
			p.th = args
		case "SH":
			p.sections = append(p.sections, roffSection{name: strings.Join(args, " ")})
			cur = &p.sections[len(p.sections)-1]
		case "SS":
			if cur == nil {
				return p, fmt.Errorf("line %d: .SS before the first section", i+1)
			}
			cur.text += strings.Join(args, " ") + "\n"
		}
	}
	return p, nil
}

var roffEscape = regexp.MustCompile(`\\(\[u[0-9A-F]{4,6}\]|\(dq|f[BIRP]|[-e&]|.?)`)

// unroff resolves the escapes of a text line.
func unroff(s string) (string, error) {
	var err error
	out := roffEscape.ReplaceAllStringFunc(s, func(e string) string {
		switch e {
		case `\-`:
			return "-"
		case `\e`:
			return `\`
		case `\&`, `\fB`, `\fI`, `\fR`, `\fP`:
			return ""
		case `\(dq`:
			return `"`
		}
		if strings.HasPrefix(e, `\[u`) {
			n, _ := strconv.ParseUint(e[3:len(e)-1], 16, 32)
			return string(rune(n))
		}
		err = fmt.Errorf("%q: roff would read %q as an escape", s, e)
		return ""
	})
	return out, err
}

// roffArgs splits a request's arguments, quoted or not, and resolves
// their escapes.
func roffArgs(s string) ([]string, error) {
	var args []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		var a string
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", s)
			}
			a, s = s[1:end+1], s[end+2:]
		} else {
			a, s, _ = strings.Cut(s, " ")
		}
		a, err := unroff(a)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	return args, nil
}

// words is s split at white space, the unit in which text that roff or
// Markdown fills can be compared. A line "#### Linux:" in help text is a
// heading, "Linux:".
func words(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		if strings.Trim(w, "#") != "" {
			out = append(out, w)
		}
	}
	return out
}

// containsRun reports whether want appears in have as a contiguous run.
func containsRun(have, want []string) bool {
	for i := 0; i+len(want) <= len(have); i++ {
		if slices.Equal(have[i:i+len(want)], want) {
			return true
		}
	}
	return len(want) == 0
}

// TestManPages reads every man page back from its roff source: each is
// headed with its own name, says all of its command's help text,
// options and examples as written (nothing dropped or read as roff), and
// agcurl(1) has ENVIRONMENT and EXIT STATUS sections.
func TestManPages(t *testing.T) {
	dir, root := generated(t)
	files, _ := filepath.Glob(filepath.Join(dir, "docs", "man", "*"))
	pages := 0
	documented(root, func(c *cobra.Command) {
		pages++
		name := strings.ReplaceAll(c.CommandPath(), " ", "-")
		file := filepath.Join(dir, "docs", "man", name+".1")
		src, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s has no man page: %v", c.CommandPath(), err)
			return
		}
		p, err := readRoff(string(src))
		if err != nil {
			t.Errorf("%s.1: %v", name, err) // and check what was read
		}
		if len(p.th) < 2 || p.th[0] != strings.ToUpper(name) || p.th[1] != "1" {
			t.Errorf("%s.1: .TH %q, want the title %q in section 1", name, p.th, strings.ToUpper(name))
		}
		var names []string
		for _, s := range p.sections {
			names = append(names, s.name)
		}
		want := []string{"NAME", "SYNOPSIS", "DESCRIPTION"}
		if c.HasAvailableLocalFlags() {
			want = append(want, "OPTIONS")
		}
		if c.HasAvailableInheritedFlags() {
			want = append(want, "OPTIONS INHERITED FROM PARENT COMMANDS")
		}
		if c == root {
			want = append(want, "EXIT STATUS", "ENVIRONMENT")
		}
		if c.Example != "" {
			want = append(want, "EXAMPLES")
		}
		want = append(want, "SEE ALSO")
		if !slices.Equal(names, want) {
			t.Errorf("%s.1: sections %q, want %q", name, names, want)
		}
		check := func(section, text string) {
			t.Helper()
			got, _ := p.section(section)
			if !slices.Equal(words(got), words(text)) {
				t.Errorf("%s.1, %s:\n%s\nwant the words of:\n%s", name, section, got, text)
			}
		}
		nameText, _ := p.section("NAME")
		if !strings.HasPrefix(nameText, name+" - ") {
			t.Errorf("%s.1: NAME is %q", name, nameText)
		}
		check("SYNOPSIS", c.UseLine())
		long := c.Long
		if long == "" {
			long = c.Short
		}
		check("DESCRIPTION", long)
		if c.Example != "" {
			check("EXAMPLES", c.Example)
		}
		if c == root {
			for _, topic := range root.Commands() {
				switch topic.Name() {
				case "environment":
					check("ENVIRONMENT", topic.Long)
				case "exit-codes":
					check("EXIT STATUS", topic.Long)
				}
			}
		}
		opts, _ := p.section("OPTIONS")
		inherited, _ := p.section("OPTIONS INHERITED FROM PARENT COMMANDS")
		for _, fs := range [][2]string{{c.LocalFlags().FlagUsages(), opts}, {c.InheritedFlags().FlagUsages(), inherited}} {
			for _, l := range strings.Split(strings.TrimSpace(fs[0]), "\n") {
				if l != "" && !containsRun(words(fs[1]), words(l)) {
					t.Errorf("%s.1 does not show the option %q", name, strings.TrimSpace(l))
				}
			}
		}
	})
	if len(files) != pages {
		t.Errorf("%d man pages for %d commands", len(files), pages)
	}
}

// TestManPagesRender formats every page with groff, as man(1) does, when
// groff is installed (Debian: groff-base), and reads the result: no
// warnings, the page's own name in its header, the help text all there
// (with "<token>"), its tables laid out as written, and agcurl(1)'s
// ENVIRONMENT and EXIT STATUS as section headings.
func TestManPagesRender(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff is not installed (Debian: apt-get install groff-base); the roff source is checked by TestManPages")
	}
	dir, root := generated(t)
	dashes := strings.NewReplacer("\u2010", "-", "\u2212", "-", "\u2011", "-")
	documented(root, func(c *cobra.Command) {
		name := strings.ReplaceAll(c.CommandPath(), " ", "-")
		file := filepath.Join(dir, "docs", "man", name+".1")
		var stdout, stderr bytes.Buffer
		// -ww: all warnings; -P-cbou: plain text, no bold or underline.
		run := exec.Command(groff, "-man", "-Tutf8", "-ww", "-P-cbou", file)
		run.Stdout, run.Stderr = &stdout, &stderr
		run.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		if err := run.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("groff %s.1: %v\n%s", name, err, stderr.String())
			return
		}
		out := dashes.Replace(stdout.String())
		lines := strings.Split(out, "\n")
		for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
			lines = lines[1:]
		}
		if len(lines) == 0 || !strings.HasPrefix(lines[0], strings.ToUpper(name)+"(1)") {
			t.Errorf("%s.1: the header is %q, want it to start with %s(1)", name, lines[0], strings.ToUpper(name))
		}
		have := words(out)
		texts := []string{c.Long, c.Example}
		if c == root {
			for _, topic := range root.Commands() {
				if topic.IsAdditionalHelpTopicCommand() {
					texts = append(texts, topic.Long)
				}
			}
		}
		for _, text := range texts {
			for _, bl := range parseHelp(text) {
				if !containsRun(have, words(strings.Join(bl.lines, "\n"))) {
					t.Errorf("%s.1 as formatted does not say:\n%s\n---\n%s", name, strings.Join(bl.lines, "\n"), out)
				}
				if bl.kind != preformatted {
					continue
				}
				// A table or command keeps its line breaks and spacing.
				for _, l := range bl.lines {
					if !slices.ContainsFunc(lines, func(s string) bool { return strings.TrimSpace(s) == strings.TrimSpace(l) }) {
						t.Errorf("%s.1 as formatted does not have the line %q", name, l)
					}
				}
			}
		}
		if c == root {
			for _, h := range []string{"ENVIRONMENT", "EXIT STATUS", "DESCRIPTION", "OPTIONS"} {
				if !slices.Contains(lines, h) {
					t.Errorf("agcurl.1 as formatted has no section heading %q", h)
				}
			}
		}
		if c.Name() == "fetch" && !strings.Contains(out, `"Authorization: Bearer <token>"`) {
			t.Errorf("agcurl-fetch.1 as formatted lost <token>:\n%s", out)
		}
	})
}
