package citizenhome_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Each event type of the contract is spelled once in the module's code, as a constant of
// telemetry/wire, and named by that constant everywhere else (tests may spell the wire form, to
// check it). A string literal equal to an event type outside wire.go is a second declaration.
func TestEventTypesDeclaredOnce(t *testing.T) {
	const home = "telemetry/wire/wire.go"
	types := map[string]string{} // value: constant
	f, err := parser.ParseFile(token.NewFileSet(), home, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if v, ok := stringLit(vs.Values, i); ok && strings.HasPrefix(name.Name, "Event") {
				types[v] = name.Name
			}
		}
		return true
	})
	if types["ticket.issued"] != "EventTicketIssued" || len(types) < 10 {
		t.Fatalf("%s: found the event types %v: the parsing is broken", home, types)
	}
	files := 0
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.ToSlash(path) == home {
			return nil
		}
		files++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && types[v] != "" {
					t.Errorf("%s: %s spells the event type; use wire.%s", fset.Position(lit.Pos()), lit.Value, types[v])
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read %d Go files: the walk is broken", files)
	}
}

// stringLit returns values[i] if it is a string literal.
func stringLit(values []ast.Expr, i int) (string, bool) {
	if i >= len(values) {
		return "", false
	}
	lit, ok := values[i].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	v, err := strconv.Unquote(lit.Value)
	return v, err == nil
}
