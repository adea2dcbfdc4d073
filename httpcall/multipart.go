package httpcall

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"path/filepath"
	"strings"
)

// formField is one -F argument.
type formField struct {
	name     string
	value    string // literal value, when file == ""
	file     string // content from this file ("-" is stdin)
	upload   bool   // "@file": a file upload with a filename
	filename string
	ctype    string
	size     int64 // of file, -1 when unknown
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "%0D", "\n", "%0A")

func (f *formField) header() textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	disp := fmt.Sprintf(`form-data; name="%s"`, quoteEscaper.Replace(f.name))
	if f.upload {
		disp += fmt.Sprintf(`; filename="%s"`, quoteEscaper.Replace(f.filename))
	}
	h.Set("Content-Disposition", disp)
	if f.ctype != "" {
		h.Set("Content-Type", f.ctype)
	}
	return h
}

// parseFormField parses curl's -F syntax: name=value, name=@file and
// name=<file, the last two with optional ;type= and (for @) ;filename=.
func parseFormField(raw string, open Opener) (*formField, error) {
	name, content, ok := strings.Cut(raw, "=")
	if !ok || name == "" {
		return nil, usagef("invalid form field %q: want name=value, name=@file or name=<file", raw)
	}
	f := &formField{name: name, size: -1}
	if content == "" || (content[0] != '@' && content[0] != '<') {
		f.value = content
		f.size = int64(len(content))
		return f, nil
	}
	f.upload = content[0] == '@'
	params := strings.Split(content[1:], ";")
	f.file = params[0]
	if f.file == "" {
		return nil, usagef("invalid form field %q: no file name", raw)
	}
	for _, p := range params[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "type":
			f.ctype = v
		case "filename":
			f.filename = strings.Trim(v, `"`)
		default:
			return nil, usagef("invalid form field %q: unknown parameter %q", raw, k)
		}
	}
	if f.upload {
		if f.filename == "" {
			f.filename = filepath.Base(f.file)
		}
		if f.ctype == "" {
			f.ctype = mime.TypeByExtension(filepath.Ext(f.file))
		}
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
	}
	n, err := filePart(open, f.file)
	if err != nil {
		return nil, err
	}
	f.size = n
	return f, nil
}

// countWriter counts bytes written.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func newMultipartBody(form []string, open Opener) (*body, error) {
	var fields []*formField
	for _, raw := range form {
		f, err := parseFormField(raw, open)
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	boundary := randomBoundary()
	// The length is the framing (written to a counter) plus the contents.
	cw := &countWriter{}
	mw := multipart.NewWriter(cw)
	_ = mw.SetBoundary(boundary)
	sz := sizer{known: true}
	replayable := true
	for _, f := range fields {
		if _, err := mw.CreatePart(f.header()); err != nil {
			return nil, err
		}
		sz.add(f.size)
		if f.file != "" && f.size < 0 {
			replayable = false
		}
	}
	_ = mw.Close()
	sz.add(cw.n)

	b := &body{size: sz.total(), replayable: replayable, boundary: boundary}
	b.open = func() (io.ReadCloser, error) {
		srcs := make([]io.ReadCloser, len(fields))
		closeAll := func() {
			for _, s := range srcs {
				if s != nil {
					s.Close()
				}
			}
		}
		for i, f := range fields {
			if f.file == "" {
				srcs[i] = io.NopCloser(strings.NewReader(f.value))
				continue
			}
			r, err := open.Open(f.file)
			if err != nil {
				closeAll()
				return nil, &ReadError{err}
			}
			srcs[i] = r
		}
		pr, pw := io.Pipe()
		go func() {
			mw := multipart.NewWriter(pw)
			_ = mw.SetBoundary(boundary)
			var err error
			for i, f := range fields {
				var w io.Writer
				if w, err = mw.CreatePart(f.header()); err != nil {
					break
				}
				if _, err = io.Copy(w, &readErrReader{srcs[i]}); err != nil {
					break
				}
			}
			if err == nil {
				err = mw.Close()
			}
			closeAll()
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
	return b, nil
}
