package gendocs

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

// markdownName is the name of c's Markdown page, e.g. "agcurl_fetch.md".
func markdownName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
}

// writeMarkdown writes c's page of the command reference in Markdown, laid
// out as cobra's generator lays it out. The help text is plain text: its
// paragraphs are escaped so that nothing in them is read as Markdown or
// HTML ("<token>" stays text), and its indented blocks become code blocks.
func writeMarkdown(w io.Writer, c *cobra.Command, topics []topic) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", c.CommandPath(), mdText(c.Short))
	if c.Long != "" {
		b.WriteString("### Synopsis\n\n")
		mdBlocks(&b, c.Long)
	}
	if c.Runnable() {
		mdCode(&b, []string{c.UseLine()})
	}
	if c.Example != "" {
		b.WriteString("### Examples\n\n")
		mdCode(&b, dedent(strings.Split(expandTabs(strings.TrimRight(c.Example, "\n")), "\n")))
	}
	if fs := c.NonInheritedFlags(); fs.HasAvailableFlags() {
		b.WriteString("### Options\n\n")
		mdCode(&b, strings.Split(strings.TrimRight(fs.FlagUsages(), "\n"), "\n"))
	}
	if fs := c.InheritedFlags(); fs.HasAvailableFlags() {
		b.WriteString("### Options inherited from parent commands\n\n")
		mdCode(&b, strings.Split(strings.TrimRight(fs.FlagUsages(), "\n"), "\n"))
	}
	for _, t := range topics {
		b.WriteString("### " + t.title + "\n\n")
		mdBlocks(&b, t.text)
	}
	if see := seeAlso(c); len(see) > 0 {
		b.WriteString("### SEE ALSO\n\n")
		for _, s := range see {
			fmt.Fprintf(&b, "* [%s](%s)\t - %s\n", s.CommandPath(), markdownName(s), mdText(s.Short))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdBlocks writes help text as Markdown paragraphs, code blocks and
// subheadings.
func mdBlocks(b *strings.Builder, text string) {
	for _, bl := range parseHelp(text) {
		switch bl.kind {
		case paragraph:
			for _, l := range bl.lines {
				b.WriteString(mdText(l) + "\n")
			}
			b.WriteString("\n")
		case preformatted:
			mdCode(b, bl.lines)
		case subheading:
			b.WriteString("#### " + mdText(bl.lines[0]) + "\n\n")
		}
	}
}

// mdCode writes lines as a fenced code block.
func mdCode(b *strings.Builder, lines []string) {
	fence := "```"
	for strings.Contains(strings.Join(lines, "\n"), fence) {
		fence += "`"
	}
	b.WriteString(fence + "\n" + strings.Join(lines, "\n") + "\n" + fence + "\n\n")
}

// mdText escapes one line of plain text so that Markdown shows it as it
// is: the characters that could start emphasis, code, links, HTML or
// entities are backslash-escaped (an underscore inside a word, as in
// AGCURL_PROFILE, cannot and is left alone), and so is a first character
// that would start a heading, list item, fence or underline.
func mdText(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\', '`', '*', '[', ']', '<', '>', '&', '|':
			b.WriteByte('\\')
		case '_':
			before, _ := utf8.DecodeLastRuneInString(s[:i])
			after, _ := utf8.DecodeRuneInString(s[i+1:])
			if !(isWordRune(before) && isWordRune(after)) {
				b.WriteByte('\\')
			}
		case '#', '+', '-', '=', '~':
			if i == 0 && startsBlock(s) {
				b.WriteByte('\\')
			}
		case '.', ')':
			// "1. text" would be a list item.
			if i > 0 && strings.TrimLeft(s[:i], "0123456789") == "" {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// startsBlock reports whether line, whose first character is one of
// "#+-=~", would be read as a heading, a list item, a thematic break, a
// heading's underline or a fence: "#" to "######", "+" or "-" followed by
// a space or nothing, or the character repeated alone on the line.
func startsBlock(line string) bool {
	c := line[0]
	if strings.Trim(line, string(c)+" \t") == "" {
		return true
	}
	n := 1
	if c == '#' {
		n = len(line) - len(strings.TrimLeft(line, "#"))
		if n > 6 {
			return false
		}
	} else if c != '+' && c != '-' {
		return false
	}
	return n == len(line) || line[n] == ' ' || line[n] == '\t'
}
