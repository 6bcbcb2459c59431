package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	tableLink = regexp.MustCompile(`\[[^\]]*\]\(([^)#]+\.go)\)`)
	tableName = regexp.MustCompile("`([A-Za-z_][A-Za-z0-9_]*)`")
)

// TestWalkthroughMatchesFiles holds the README's walk-through of a guarded
// request to the code: every name in a row is declared in the files the row
// links, and verifyRequest calls the steps in the order the table gives.
func TestWalkthroughMatchesFiles(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	text, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	_, section, found := strings.Cut(string(text), "## How a guarded request is handled")
	require.True(t, found, "README.md has no walk-through section")
	section, _, _ = strings.Cut(section, "\n## ")

	var order []string
	rows := 0
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || !strings.Contains(cells[2], ".go") {
			continue
		}
		rows++
		var decls []string
		for _, m := range tableLink.FindAllStringSubmatch(cells[2], -1) {
			decls = append(decls, declared(t, filepath.Join(root, m[1]))...)
		}
		names := tableName.FindAllStringSubmatch(cells[3], -1)
		require.NotEmpty(t, names, "row without a name: %s", line)
		for _, n := range names {
			assert.Contains(t, decls, n[1], "README walk-through: %s is not declared in %s", n[1], strings.TrimSpace(cells[2]))
		}
		order = append(order, names[0][1])
	}
	require.GreaterOrEqual(t, rows, 8, "the walk-through table lost its rows")

	// The steps verifyRequest calls appear in its body in the table's order.
	body := funcSource(t, filepath.Join(root, "guards.go"), "verifyRequest")
	last := -1
	for _, name := range order {
		if name == "verifyRequest" {
			continue // the row for the checks verifyRequest makes itself
		}
		i := strings.Index(body, "."+name+"(")
		if i < 0 {
			i = strings.Index(body, " "+name+"(")
		}
		if i < 0 {
			continue // a step outside verifyRequest (context, user, failure)
		}
		assert.Greater(t, i, last, "verifyRequest calls %s out of the README's order", name)
		last = i
	}
	assert.Greater(t, last, 0, "verifyRequest calls none of the README's steps")
}

// declared returns the names of the functions, methods and types of a Go file.
func declared(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	require.NoError(t, err, file)
	var names []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			names = append(names, d.Name.Name)
		case *ast.GenDecl:
			for _, s := range d.Specs {
				if ts, ok := s.(*ast.TypeSpec); ok {
					names = append(names, ts.Name.Name)
				}
			}
		}
	}
	return names
}

// funcSource returns the source text of the function or method name in file.
func funcSource(t *testing.T, file, name string) string {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.SkipObjectResolution)
	require.NoError(t, err)
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == name {
			return string(src[fset.Position(fd.Pos()).Offset:fset.Position(fd.End()).Offset])
		}
	}
	t.Fatalf("%s: no function %s", file, name)
	return ""
}
