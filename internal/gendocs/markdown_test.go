package gendocs

import (
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/russross/blackfriday/v2"
	"github.com/spf13/cobra"
)

var (
	htmlTag = regexp.MustCompile(`<[^>]*>`)
	htmlPre = regexp.MustCompile(`(?s)<pre><code[^>]*>(.*?)</code></pre>`)
	htmlH3  = regexp.MustCompile(`<h3[^>]*>(.*?)</h3>`)
)

// markdownHTML is src as HTML, with GitHub's extensions and no
// typographic quotes or dashes.
func markdownHTML(src []byte) string {
	r := blackfriday.NewHTMLRenderer(blackfriday.HTMLRendererParameters{})
	return string(blackfriday.Run(src, blackfriday.WithExtensions(blackfriday.CommonExtensions), blackfriday.WithRenderer(r)))
}

// renderMarkdown renders a page as a Markdown viewer would, and returns
// its text (tags dropped, entities resolved) and its code blocks.
func renderMarkdown(src []byte) (text string, code []string) {
	out := markdownHTML(src)
	for _, m := range htmlPre.FindAllStringSubmatch(out, -1) {
		code = append(code, strings.TrimSuffix(html.UnescapeString(m[1]), "\n"))
	}
	return html.UnescapeString(htmlTag.ReplaceAllString(out, "")), code
}

// TestMarkdownPages renders every page of docs/commands as HTML: it says
// all of its command's help text as written (nothing taken for Markdown
// or HTML, so "<token>" stays), with its tables and commands as code
// blocks, and agcurl.md has Environment and Exit status sections.
func TestMarkdownPages(t *testing.T) {
	dir, root := generated(t)
	files, _ := filepath.Glob(filepath.Join(dir, "docs", "commands", "*"))
	pages := 0
	documented(root, func(c *cobra.Command) {
		pages++
		name := strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
		src, err := os.ReadFile(filepath.Join(dir, "docs", "commands", name))
		if err != nil {
			t.Errorf("%s has no page: %v", c.CommandPath(), err)
			return
		}
		text, code := renderMarkdown(src)
		texts := []string{c.Long, c.Example}
		if c == root {
			var headings []string
			for _, m := range htmlH3.FindAllStringSubmatch(markdownHTML(src), -1) {
				headings = append(headings, m[1])
			}
			for _, h := range []string{"Environment", "Exit status"} {
				if !slices.Contains(headings, h) {
					t.Errorf("%s has no section %q (it has %q)", name, h, headings)
				}
			}
			for _, topic := range root.Commands() {
				if topic.IsAdditionalHelpTopicCommand() {
					texts = append(texts, topic.Long)
				}
			}
		}
		for _, s := range texts {
			for _, bl := range parseHelp(s) {
				want := strings.Join(bl.lines, "\n")
				if !containsRun(words(text), words(want)) {
					t.Errorf("%s as rendered does not say:\n%s\n---\n%s", name, want, text)
				}
				if bl.kind == preformatted && !slices.Contains(code, want) {
					t.Errorf("%s: this is not a code block as written:\n%s", name, want)
				}
			}
		}
		if c.Name() == "fetch" && !strings.Contains(text, `"Authorization: Bearer <token>"`) {
			t.Errorf("%s as rendered lost <token>:\n%s", name, text)
		}
	})
	if len(files) != pages {
		t.Errorf("%d Markdown pages for %d commands", len(files), pages)
	}
}

// TestMDText: text with Markdown's special characters renders as itself.
func TestMDText(t *testing.T) {
	for _, s := range []string{
		`Authorization: Bearer <token>`,
		`the current one is marked with *.`,
		`X-Authgear-* headers, *not* emphasis, **nor** this`,
		`GET {endpoint}/_resolver/resolve and _x_ and AGCURL_PROFILE`,
		"`code` and ``more``",
		`[a link](https://example.com) and [ref]`,
		`&amp; stays, and so does & alone`,
		`a \ backslash, \* and \n`,
		`1. not a list`,
		`12) nor this`,
		`- nor this`,
		`+ nor this`,
		`# nor a heading`,
		`### nor this`,
		`> nor a quote`,
		`--json is an option, not a rule`,
		`| a | table? |`,
		`~~~`,
		`---`,
		`<https://example.com> no autolink`,
	} {
		text, _ := renderMarkdown([]byte(mdText(s) + "\n"))
		if got := strings.TrimSpace(text); got != s {
			t.Errorf("mdText(%q) = %q renders as %q", s, mdText(s), got)
		}
	}
}
