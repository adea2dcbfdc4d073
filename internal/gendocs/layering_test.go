package gendocs

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayering keeps the packages below cmd free of the command line:
// auth, keychain and httpcall import neither cobra, nor colour libraries,
// nor cmd.
func TestLayering(t *testing.T) {
	forbidden := []string{"github.com/spf13/cobra", "github.com/spf13/pflag", "github.com/fatih/color", "github.com/agcurl/agcurl/cmd"}
	for _, pkg := range []string{"auth", "keychain", "httpcall", "internal/config", "internal/fileutil", "internal/termsafe"} {
		dir := filepath.Join("..", "..", pkg)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, e.Name()), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbidden {
					if path == bad || strings.HasPrefix(path, bad+"/") {
						t.Errorf("%s/%s imports %s", pkg, e.Name(), path)
					}
				}
			}
		}
	}
}
