package gendocs

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// manSection is the section of the manual all pages are in.
const manSection = "1"

// manName is the name of c's man page, e.g. "agcurl-fetch".
func manName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "-")
}

// writeMan writes c's man page in roff (man(7) macros). The help text is
// plain text, not Markdown: it is escaped for roff, its paragraphs are
// filled, and its indented blocks (tables, commands) are kept as they are.
// topics are the help topics (environment, exit codes) that become
// sections of their own in this page.
func writeMan(w io.Writer, c *cobra.Command, topics []topic) error {
	var b strings.Builder
	name := manName(c)
	fmt.Fprintf(&b, ".TH %s %s %s %s %s\n", roffArg(strings.ToUpper(name)), manSection,
		roffArg(manDate.Format("2006-01-02")), roffArg("agcurl"), roffArg("agcurl manual"))
	b.WriteString(".nh\n.ad l\n")

	b.WriteString(".SH NAME\n")
	b.WriteString(roffText(name) + " \\- " + roffText(c.Short) + "\n")

	b.WriteString(".SH SYNOPSIS\n")
	path := c.CommandPath()
	b.WriteString("\\fB" + roffText(path) + "\\fR" + roffText(strings.TrimPrefix(c.UseLine(), path)) + "\n")

	b.WriteString(".SH DESCRIPTION\n")
	long := c.Long
	if long == "" {
		long = c.Short
	}
	manBlocks(&b, long)

	if fs := c.NonInheritedFlags(); fs.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS\n")
		manFlags(&b, fs)
	}
	if fs := c.InheritedFlags(); fs.HasAvailableFlags() {
		b.WriteString(".SH \"OPTIONS INHERITED FROM PARENT COMMANDS\"\n")
		manFlags(&b, fs)
	}
	for _, t := range topics {
		b.WriteString(".SH " + roffArg(t.section) + "\n")
		manBlocks(&b, t.text)
	}
	if c.Example != "" {
		b.WriteString(".SH EXAMPLES\n")
		manPre(&b, dedent(strings.Split(expandTabs(strings.TrimRight(c.Example, "\n")), "\n")))
	}
	if see := seeAlso(c); len(see) > 0 {
		b.WriteString(".SH \"SEE ALSO\"\n")
		for i, s := range see {
			sep := ","
			if i == len(see)-1 {
				sep = ""
			}
			b.WriteString("\\fB" + roffText(manName(s)) + "\\fR(" + manSection + ")" + sep + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// manBlocks writes help text as roff paragraphs, preformatted blocks and
// subsections.
func manBlocks(b *strings.Builder, text string) {
	for _, bl := range parseHelp(text) {
		switch bl.kind {
		case paragraph:
			b.WriteString(".PP\n")
			for _, l := range bl.lines {
				b.WriteString(roffText(l) + "\n")
			}
		case preformatted:
			manPre(b, bl.lines)
		case subheading:
			b.WriteString(".SS " + roffArg(bl.lines[0]) + "\n")
		}
	}
}

// manPre writes lines as an indented block with its line breaks and
// spacing kept.
func manPre(b *strings.Builder, lines []string) {
	b.WriteString(".PP\n.RS 4\n.nf\n")
	for _, l := range lines {
		b.WriteString(roffText(l) + "\n")
	}
	b.WriteString(".fi\n.RE\n")
}

// manFlags writes the flags of fs as a tagged list, each with the same
// usage text (and default) that --help shows.
func manFlags(b *strings.Builder, fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		head, usage := flagUsage(f)
		b.WriteString(".TP\n")
		b.WriteString("\\fB" + roffText(head.names) + "\\fR")
		if head.arg != "" {
			b.WriteString(" \\fI" + roffText(head.arg) + "\\fR")
		}
		b.WriteString("\n" + roffText(usage) + "\n")
	})
}

// flagHead is a flag's names ("-X, --request") and its argument
// ("string"; with a default for a flag that may go without one).
type flagHead struct{ names, arg string }

// flagUsage returns f as --help shows it: the names and argument, and the
// usage text with the default.
func flagUsage(f *pflag.Flag) (flagHead, string) {
	one := pflag.NewFlagSet("", pflag.ContinueOnError)
	one.AddFlag(f)
	line := strings.TrimSpace(one.FlagUsagesWrapped(0))
	// pflag separates the head from the usage by two spaces.
	head, usage, _ := strings.Cut(line, "  ")
	names := "--" + f.Name
	if f.Shorthand != "" && f.ShorthandDeprecated == "" {
		names = "-" + f.Shorthand + ", " + names
	}
	arg := strings.TrimSpace(strings.TrimPrefix(head, names))
	return flagHead{names: names, arg: arg}, strings.TrimSpace(usage)
}

// seeAlso is c's parent and c's subcommands that have pages.
func seeAlso(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	if c.HasParent() {
		out = append(out, c.Parent())
	}
	subs := append([]*cobra.Command(nil), c.Commands()...)
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
	for _, s := range subs {
		if hasPage(s) {
			out = append(out, s)
		}
	}
	return out
}

// hasPage reports whether c gets a page of its own: a command that is
// neither hidden nor the help command nor a help topic.
func hasPage(c *cobra.Command) bool {
	return c.IsAvailableCommand() && !c.IsAdditionalHelpTopicCommand()
}

// roffText escapes s for a roff text line: backslashes, hyphens (as \- so
// that options stay ASCII hyphen-minus and can be copied), a leading
// control character, and anything beyond ASCII.
func roffText(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case i == 0 && (r == '.' || r == '\''):
			b.WriteString(`\&`)
			b.WriteRune(r)
		case r > 0x7e || (r < 0x20 && r != '\t'):
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// roffArg is s escaped and quoted as one argument of a macro.
func roffArg(s string) string {
	return `"` + strings.ReplaceAll(roffText(s), `"`, `\(dq`) + `"`
}
