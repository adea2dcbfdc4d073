package cmd

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"

	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/internal/termsafe"
)

// IOStreams are a command's standard streams and what is known about them.
// Only the response body (fetch) and requested data (token, --json) go to
// Out; prompts, progress, traces and errors go to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	InTTY, OutTTY, ErrTTY bool
	// ColorOut and ColorErr say whether to colour each stream.
	ColorOut, ColorErr bool
}

// SystemIO returns the process's streams, with colour on for a terminal
// unless NO_COLOR is set or TERM is "dumb".
func SystemIO(getenv func(string) string) *IOStreams {
	tty := func(f *os.File) bool { return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()) }
	io := &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY: tty(os.Stdin), OutTTY: tty(os.Stdout), ErrTTY: tty(os.Stderr),
	}
	io.ColorOut = colorFor(io.OutTTY, getenv)
	io.ColorErr = colorFor(io.ErrTTY, getenv)
	return io
}

// colorFor reports whether a stream gets colour by default: only a
// terminal, and not when NO_COLOR is set (to anything) or TERM is "dumb".
// --color always or never decides over it.
func colorFor(terminal bool, getenv func(string) string) bool {
	return terminal && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// TestIO returns streams backed by buffers, none a terminal.
func TestIO() (ios *IOStreams, in *bytes.Buffer, out *bytes.Buffer, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// Interactive reports whether a person is at the terminal: stdin and
// stdout are terminals.
func (s *IOStreams) Interactive() bool { return s.InTTY && s.OutTTY }

func paint(on bool, attrs ...color.Attribute) func(a ...any) string {
	c := color.New(attrs...)
	if on {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c.Sprint
}

// palette is the set of styles for one stream.
type palette struct {
	green, red, yellow, bold, dim func(a ...any) string
}

func newPalette(on bool) palette {
	return palette{
		green:  paint(on, color.FgGreen),
		red:    paint(on, color.FgRed),
		yellow: paint(on, color.FgYellow),
		bold:   paint(on, color.Bold),
		dim:    paint(on, color.Faint),
	}
}

// jsonColors styles pretty-printed JSON on a colour terminal, or returns
// nil: keys bold blue, strings green, numbers cyan, true/false/null yellow.
func jsonColors(on bool) *httpcall.JSONColors {
	if !on {
		return nil
	}
	style := func(attrs ...color.Attribute) func(string) string {
		c := color.New(attrs...)
		c.EnableColor()
		return func(s string) string { return c.Sprint(s) }
	}
	return &httpcall.JSONColors{
		Key:     style(color.FgBlue, color.Bold),
		String:  style(color.FgGreen),
		Number:  style(color.FgCyan),
		Literal: style(color.FgYellow),
		Punct:   func(s string) string { return s },
	}
}

// writeJSON writes v as indented JSON and a newline, with the characters a
// terminal would interpret (which encoding/json leaves raw) escaped.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, termsafe.JSON(string(b))+"\n")
	return err
}

// writeJSONOut writes v to ios.Out as writeJSON does, coloured as fetch
// colours a JSON body when ios.ColorOut is set (a terminal, or --color
// always): the same writer does it, so the two look alike.
func writeJSONOut(ios *IOStreams, v any) error {
	colors := jsonColors(ios.ColorOut)
	if colors == nil {
		return writeJSON(ios.Out, v)
	}
	var b bytes.Buffer
	if err := writeJSON(&b, v); err != nil {
		return err
	}
	resp := &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(&b),
	}
	_, err := httpcall.WriteResponse(httpcall.Output{Stdout: ios.Out, Colors: colors, Style: httpcall.StylePretty}, resp)
	return err
}
