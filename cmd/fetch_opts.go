package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/agcurl/agcurl/httpcall"
)

// httpVersionFlag is --http1.1 or --http2: both set one field, so that the
// last one given wins, as in curl.
type httpVersionFlag struct {
	http11 *bool
	value  bool // what the flag sets http11 to
}

func (f httpVersionFlag) String() string   { return "false" }
func (f httpVersionFlag) Type() string     { return "bool" }
func (f httpVersionFlag) IsBoolFlag() bool { return true }
func (f httpVersionFlag) Set(v string) error {
	on, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	if on {
		*f.http11 = f.value
	}
	return nil
}

// prepareOutput returns where the body given to output goes: in
// --output-dir when given (curl joins the two with "/", whatever output
// is), its directories made first with --create-dirs (mode 0750, as curl).
// Standard output ("" or "-") is left as it is.
func prepareOutput(o *FetchOptions, output string) (string, error) {
	if output == "" || output == "-" {
		return output, nil
	}
	if o.OutputDir != "" {
		output = o.OutputDir + "/" + output
	}
	if o.CreateDirs {
		if err := os.MkdirAll(filepath.Dir(output), 0o750); err != nil {
			return "", &httpcall.WriteError{Err: fmt.Errorf("cannot create the directory for %s: %w", output, err)}
		}
	}
	return output, nil
}
