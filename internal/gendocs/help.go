package gendocs

import (
	"strings"
)

// blockKind says how a block of help text is laid out.
type blockKind int

const (
	// paragraph is running text: its lines may be filled and re-wrapped.
	paragraph blockKind = iota
	// preformatted is a block of indented lines (a table, a command):
	// its line breaks and spacing are kept.
	preformatted
	// subheading is a line of its own starting with "#" (cobra's
	// completion help uses "#### Linux:").
	subheading
)

// block is one paragraph, preformatted block or subheading of help text.
type block struct {
	kind  blockKind
	lines []string // preformatted: without the indentation common to all
}

// parseHelp splits help text as the commands write it (plain text, wrapped
// at about 80 columns) into blocks: a blank line ends a block, a line that
// starts with a space or a tab is preformatted, a line "# text" is a
// subheading, and the other lines are running text.
func parseHelp(text string) []block {
	var (
		blocks []block
		cur    *block
	)
	end := func() {
		if cur != nil {
			if cur.kind == preformatted {
				cur.lines = dedent(cur.lines)
			}
			blocks = append(blocks, *cur)
			cur = nil
		}
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \t\r")
		switch {
		case line == "":
			end()
		case line[0] == ' ' || line[0] == '\t':
			if cur == nil || cur.kind != preformatted {
				end()
				cur = &block{kind: preformatted}
			}
			cur.lines = append(cur.lines, expandTabs(line))
		case line[0] == '#':
			end()
			blocks = append(blocks, block{kind: subheading, lines: []string{strings.TrimSpace(strings.TrimLeft(line, "#"))}})
		default:
			if cur == nil || cur.kind != paragraph {
				end()
				cur = &block{kind: paragraph}
			}
			cur.lines = append(cur.lines, line)
		}
	}
	end()
	return blocks
}

// expandTabs replaces the tabs in line with spaces, to 8-column stops.
func expandTabs(line string) string {
	if !strings.Contains(line, "\t") {
		return line
	}
	var b strings.Builder
	col := 0
	for _, r := range line {
		if r == '\t' {
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

// dedent removes the indentation common to all lines.
func dedent(lines []string) []string {
	common := -1
	for _, l := range lines {
		n := len(l) - len(strings.TrimLeft(l, " "))
		if common < 0 || n < common {
			common = n
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l[common:]
	}
	return out
}
