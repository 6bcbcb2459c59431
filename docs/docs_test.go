package docs

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	// The packages the code blocks may import. Importing them here keeps
	// them in this module's go.mod and go.sum, which the generated module
	// copies, so the build of the blocks needs no network.
	_ "github.com/gin-gonic/gin"
	_ "github.com/ginjwt/ginjwt"
	_ "github.com/ginjwt/ginjwt/blocklisttest"
	_ "github.com/ginjwt/ginjwt/ginjwttest"
	_ "github.com/ginjwt/ginjwt/otelginjwt"
	_ "github.com/ginjwt/ginjwt/redisblocklist"
	_ "github.com/ginjwt/ginjwt/rueidisblocklist"
	_ "github.com/ginjwt/ginjwt/sqlblocklist"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/redis/rueidis"
)

// block is one ```go code block of a Markdown page.
type block struct {
	file string // the page, relative to the repository root
	line int    // the line of the block's first code line in the page
	code string
}

// pages lists the Markdown files whose code blocks and links are checked,
// relative to the repository root.
func pages(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("*.md")
	require.NoError(t, err)
	require.NotEmpty(t, docs, "no docs/*.md found")
	files := []string{"README.md"}
	for _, d := range docs {
		files = append(files, filepath.ToSlash(filepath.Join("docs", d)))
	}
	return files
}

// goBlocks returns the ```go blocks of a Markdown file.
func goBlocks(t *testing.T, root, file string) []block {
	t.Helper()
	f, err := os.Open(filepath.Join(root, file))
	require.NoError(t, err)
	defer f.Close()
	var (
		blocks []block
		cur    *block
		fence  string
		indent string // of the opening fence: a block inside a list item
		lines  []string
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			fence = "```"
			indent = text[:len(text)-len(strings.TrimLeft(text, " \t"))]
			if strings.TrimSpace(strings.TrimPrefix(trimmed, fence)) == "go" {
				cur = &block{file: file, line: n + 1}
				lines = nil
			} else {
				cur = &block{} // another language: skipped
			}
		case cur != nil && trimmed == fence:
			if cur.file != "" {
				cur.code = strings.Join(lines, "\n")
				blocks = append(blocks, *cur)
			}
			cur = nil
		case cur != nil:
			lines = append(lines, strings.TrimPrefix(text, indent))
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, cur, "%s: unclosed code block", file)
	return blocks
}

// snippetImports are the packages a block that is not a whole file may use
// without importing them, by the name it uses. A block gets those whose name
// it mentions (context, time, ...), so that it depends on no other.
var snippetImports = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "log": "log",
	"slog": "log/slog", "http": "net/http", "httptest": "net/http/httptest",
	"os": "os", "strings": "strings", "testing": "testing", "time": "time",
	"sync": "sync", "atomic": "sync/atomic",
	"gin": "github.com/gin-gonic/gin", "ginjwt": "github.com/ginjwt/ginjwt",
	"ginjwttest":       "github.com/ginjwt/ginjwt/ginjwttest",
	"otelginjwt":       "github.com/ginjwt/ginjwt/otelginjwt",
	"redisblocklist":   "github.com/ginjwt/ginjwt/redisblocklist",
	"redis":            "github.com/redis/go-redis/v9",
	"rueidisblocklist": "github.com/ginjwt/ginjwt/rueidisblocklist",
	"rueidis":          "github.com/redis/rueidis",
	"sql":              "database/sql",
	"sqlblocklist":     "github.com/ginjwt/ginjwt/sqlblocklist",
}

// snippetParams are the names a statement block may use without declaring
// them: m is the application's Manager, r its router, c the request's
// context, t the test, ctx a context, secret the signing secret, token a
// token. A block may also declare them again.
const snippetParams = "m *ginjwt.Manager, r *gin.Engine, c *gin.Context, t *testing.T, " +
	"ctx context.Context, secret []byte, token string"

var (
	topLevel    = regexp.MustCompile(`^(func|type|var|const) `)
	mainPackage = regexp.MustCompile(`(?m)^package main$`)
	qualified   = regexp.MustCompile(`\b([a-z][a-z0-9]*)\.[A-Za-z]`)
)

// source turns a block into a Go file: a whole program as it is, top-level
// declarations under the usual imports, statements inside a function. It
// returns the line of the file where the block's first line is.
func source(b block) (string, int) {
	if strings.HasPrefix(strings.TrimSpace(b.code), "package ") {
		// A library package is type-checked and compiled like a program,
		// without the link that would only slow the test down.
		return mainPackage.ReplaceAllString(b.code, "package snippet") + "\n", 1
	}
	// The parameters need context, gin, ginjwt and testing in every block.
	used := map[string]bool{"context": true, "gin": true, "ginjwt": true, "testing": true}
	for _, m := range qualified.FindAllStringSubmatch(b.code, -1) {
		used[m[1]] = true
	}
	var imports []string
	for name, path := range snippetImports {
		if used[name] {
			imports = append(imports, strconv.Quote(path))
		}
	}
	sort.Strings(imports)
	var sb strings.Builder
	sb.WriteString("package snippet\n\nimport (\n\t" + strings.Join(imports, "\n\t") + "\n)\n\n")
	first := ""
	for _, l := range strings.Split(b.code, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "//") {
			first = l
			break
		}
	}
	if topLevel.MatchString(first) {
		offset := strings.Count(sb.String(), "\n") + 1
		sb.WriteString(b.code + "\n")
		return sb.String(), offset
	}
	// The inner block lets statements declare the parameters' names again.
	sb.WriteString("func snippet(" + snippetParams + ") {\n{\n")
	offset := strings.Count(sb.String(), "\n") + 1
	sb.WriteString(b.code + "\n}\n}\n")
	return sb.String(), offset
}

// tolerated are compiler errors a block may have: a snippet shows how to
// get a value without always showing its use.
var tolerated = []string{"declared and not used", "imported and not used", "imported as "}

var (
	compileError = regexp.MustCompile(`^(?:\./)?(b\d+)/main\.go:(\d+):(\d+): (.*)$`)
	anyGoError   = regexp.MustCompile(`^\S+\.go:\d+:\d+: `)
)

// TestGoBlocksCompile builds every ```go block of README.md and docs/*.md in
// one go build: each block becomes a package of a temporary module that
// uses this repository's ginjwt and redisblocklist.
func TestGoBlocksCompile(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	var blocks []block
	for _, p := range pages(t) {
		blocks = append(blocks, goBlocks(t, root, p)...)
	}
	require.NotEmpty(t, blocks)
	for _, p := range buildBlocks(t, root, blocks) {
		t.Error(p)
	}
	t.Logf("%d code blocks checked", len(blocks))
}

// TestBrokenBlockIsReported checks the checker: a block that does not
// compile is reported at its page and line, a block that only leaves a
// variable unused is not.
func TestBrokenBlockIsReported(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	blocks := []block{
		{file: "good.md", line: 10, code: "token, err := m.CreateAccessToken(\"alice\")"},
		{file: "bad.md", line: 20, code: "r.GET(\"/\", m.JWTRequired())\nm.NoSuchMethod()"},
		{file: "whole.md", line: 30, code: "package main\n\nfunc main() {\n\tundefinedCall()\n}"},
	}
	problems := buildBlocks(t, root, blocks)
	assert.Len(t, problems, 2, "%q", problems)
	assert.Contains(t, strings.Join(problems, "\n"), "bad.md:21: m.NoSuchMethod undefined")
	assert.Contains(t, strings.Join(problems, "\n"), "whole.md:33: undefined: undefinedCall")
}

// buildBlocks builds blocks as packages of a temporary module and returns
// the compiler's complaints, placed at the blocks' lines in their pages.
func buildBlocks(t *testing.T, root string, blocks []block) []string {
	t.Helper()
	goBin, err := exec.LookPath("go") // go test puts its own go first on PATH
	require.NoError(t, err)
	dir := t.TempDir()
	mod, err := os.ReadFile("go.mod")
	require.NoError(t, err)
	gomod := strings.Replace(string(mod), "module github.com/ginjwt/ginjwt/docs", "module docsnippets", 1)
	gomod = strings.ReplaceAll(gomod, "=> ../", "=> "+filepath.ToSlash(root)+"/")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o600))
	sum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o600))

	offsets := make([]int, len(blocks))
	for i, b := range blocks {
		src, offset := source(b)
		offsets[i] = offset
		pkg := filepath.Join(dir, fmt.Sprintf("b%03d", i))
		require.NoError(t, os.Mkdir(pkg, 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(pkg, "main.go"), []byte(src), 0o600))
	}

	// -e: every error of a package, so that a tolerated one hides none.
	cmd := exec.Command(goBin, "build", "-gcflags=-e", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly", "GOPROXY=off")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	var problems []string
	understood := false
	for _, l := range strings.Split(string(out), "\n") {
		m := compileError.FindStringSubmatch(l)
		if m == nil {
			if anyGoError.MatchString(l) {
				// A dependency that does not build hides the blocks
				// that import it.
				understood = true
				problems = append(problems, "a package the blocks import does not build: "+l)
			}
			continue
		}
		understood = true
		if slicesContainsAny(m[4], tolerated) {
			continue
		}
		i, _ := strconv.Atoi(m[1][1:])
		line, _ := strconv.Atoi(m[2])
		b := blocks[i]
		problems = append(problems, fmt.Sprintf("%s:%d: %s", b.file, b.line+line-offsets[i], m[4]))
	}
	// Anything else (a go.sum gap, a broken go.mod) is reported as it is.
	require.True(t, understood, "go build failed:\n%s", out)
	sort.Strings(problems)
	return problems
}

func slicesContainsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

var (
	mdLink     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	codeSpan   = regexp.MustCompile("(?s)```.*?```|`[^`\n]*`")
	relPath    = regexp.MustCompile("`((?:\\.\\./)+[\\w./-]*)`")
	runCommand = regexp.MustCompile(`cd ([\w./-]+) && go run ([\w./-]+)`)
)

// TestLinksStayInRepository checks that every relative link of README.md and
// docs/*.md names a file or folder of this repository: the README is read on
// its own, outside any checkout of sibling folders.
func TestLinksStayInRepository(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	for _, p := range pages(t) {
		text, err := os.ReadFile(filepath.Join(root, p))
		require.NoError(t, err)
		prose := codeSpan.ReplaceAllString(string(text), "")
		// A relative path in code ("../x") must name a file here too.
		for _, m := range relPath.FindAllStringSubmatch(string(text), -1) {
			abs := filepath.Clean(filepath.Join(root, filepath.Dir(p), m[1]))
			rel, err := filepath.Rel(root, abs)
			require.NoError(t, err)
			assert.False(t, rel == ".." || strings.HasPrefix(rel, "../"), "%s: path %q leaves the repository", p, m[1])
			_, err = os.Stat(abs)
			assert.NoError(t, err, "%s: path %q", p, m[1])
		}
		for _, m := range mdLink.FindAllStringSubmatch(prose, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, fragment, _ := strings.Cut(target, "#")
			if target == "" {
				target = filepath.Base(p)
			}
			abs := filepath.Clean(filepath.Join(root, filepath.Dir(p), target))
			rel, err := filepath.Rel(root, abs)
			require.NoError(t, err)
			if !assert.False(t, rel == ".." || strings.HasPrefix(rel, "../"), "%s: link %q leaves the repository", p, m[1]) {
				continue
			}
			_, err = os.Stat(abs)
			if assert.NoError(t, err, "%s: link %q", p, m[1]) && fragment != "" {
				assert.Contains(t, anchors(t, abs), fragment, "%s: link %q: no such heading", p, m[1])
			}
		}
	}
}

var heading = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)

// anchors returns the fragment names GitHub gives the headings of a
// Markdown file: lower case, spaces as hyphens, punctuation dropped.
func anchors(t *testing.T, file string) []string {
	t.Helper()
	text, err := os.ReadFile(file)
	require.NoError(t, err)
	prose := regexp.MustCompile("(?s)```.*?```").ReplaceAllString(string(text), "")
	var names []string
	for _, m := range heading.FindAllStringSubmatch(prose, -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ' || r == '-':
				b.WriteRune('-')
			case r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		names = append(names, b.String())
	}
	return names
}

// TestRunCommands checks that each "cd X && go run Y" of the pages names a
// main package that exists.
func TestRunCommands(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	seen := 0
	for _, p := range pages(t) {
		text, err := os.ReadFile(filepath.Join(root, p))
		require.NoError(t, err)
		for _, m := range runCommand.FindAllStringSubmatch(string(text), -1) {
			seen++
			dir := filepath.Join(root, m[1], m[2])
			if !assert.FileExists(t, filepath.Join(dir, "main.go"), "%s: %q", p, m[0]) {
				continue
			}
			src, err := os.ReadFile(filepath.Join(dir, "main.go"))
			require.NoError(t, err)
			assert.Contains(t, string(src), "package main", "%s: %q", p, m[0])
			_, err = os.Stat(filepath.Join(root, m[1], "go.mod"))
			assert.NoError(t, err, "%s: %q: go run needs a module in %s", p, m[0], m[1])
		}
	}
	assert.Positive(t, seen, "no run commands found")
	assert.FileExists(t, filepath.Join(root, "scripts", "test.sh"))
}

// TestAnchors checks the heading names links are held to against the ones
// GitHub makes of this documentation's own headings.
func TestAnchors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "page.md")
	text := "# Page\n\n## Custom guards (flask's custom decorators)\n\n```sh\n# not a heading\n```\n\n### flask-jwt-extended 3.x names\n"
	require.NoError(t, os.WriteFile(file, []byte(text), 0o600))
	assert.Equal(t, []string{"page", "custom-guards-flasks-custom-decorators", "flask-jwt-extended-3x-names"}, anchors(t, file))
}

// testLink is a link whose text names a test: [`TestX`](../x_test.go).
var testLink = regexp.MustCompile("\\[`((?:Test|Fuzz)[A-Z]\\w*)`\\]\\(([^)#\\s]+)\\)")

// TestTestsNamedExist checks that a link naming a test points at the file
// (or the folder) that defines it: tests move between files and packages,
// and the pages that cite them must follow.
func TestTestsNamedExist(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	seen := 0
	for _, p := range pages(t) {
		text, err := os.ReadFile(filepath.Join(root, p))
		require.NoError(t, err)
		for _, m := range testLink.FindAllStringSubmatch(string(text), -1) {
			seen++
			target := filepath.Join(root, filepath.Dir(p), m[2])
			files := []string{target}
			if info, err := os.Stat(target); err == nil && info.IsDir() {
				files, err = filepath.Glob(filepath.Join(target, "*_test.go"))
				require.NoError(t, err)
			}
			defined := false
			for _, f := range files {
				src, err := os.ReadFile(f)
				if err == nil && strings.Contains(string(src), "func "+m[1]+"(") {
					defined = true
				}
			}
			assert.True(t, defined, "%s: %s is not defined in %s", p, m[1], m[2])
		}
	}
	assert.Positive(t, seen, "no links to tests found")
}

var exampleName = regexp.MustCompile(`\bExample[A-Z]\w*`)

// TestExamplesNamedExist checks that the Example functions the pages name
// exist in the example_test.go files, so a renamed one is not left dangling.
func TestExamplesNamedExist(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	var defined strings.Builder
	files, err := filepath.Glob(filepath.Join(root, "example*_test.go"))
	require.NoError(t, err)
	for _, f := range append(files, filepath.Join(root, "ginjwttest/example_test.go")) {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		defined.Write(src)
	}
	for _, p := range pages(t) {
		text, err := os.ReadFile(filepath.Join(root, p))
		require.NoError(t, err)
		for _, name := range exampleName.FindAllString(string(text), -1) {
			assert.Contains(t, defined.String(), "func "+name+"()", "%s names %s", p, name)
		}
	}
}

// TestGoBlocksGofmt checks that every ```go block is formatted as gofmt
// would: code a reader copies should not need reformatting. A block that is
// not a whole file is checked as the body of a function or as declarations.
func TestGoBlocksGofmt(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	for _, p := range pages(t) {
		for _, b := range goBlocks(t, root, p) {
			probe, indent := formatProbe(b.code)
			formatted, err := format.Source([]byte(probe))
			if !assert.NoError(t, err, "%s:%d: block does not parse", b.file, b.line) {
				continue
			}
			if string(formatted) == probe {
				continue
			}
			want := strings.Split(string(formatted), "\n")
			got := strings.Split(probe, "\n")
			for i := range got {
				if i >= len(want) || got[i] != want[i] {
					line := ""
					if i < len(want) {
						line = strings.TrimPrefix(want[i], indent)
					}
					t.Errorf("%s: block at line %d is not gofmt'd; gofmt would write %q", b.file, b.line, line)
					break
				}
			}
		}
	}
}

// formatProbe wraps a block as source gofmt leaves unchanged when the block
// is formatted, and returns the indentation it added to the block's lines.
func formatProbe(code string) (string, string) {
	code = strings.TrimRight(code, "\n")
	if strings.HasPrefix(strings.TrimSpace(code), "package ") {
		return code + "\n", ""
	}
	first := ""
	for _, l := range strings.Split(code, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "//") {
			first = l
			break
		}
	}
	if topLevel.MatchString(first) {
		return "package x\n\n" + code + "\n", ""
	}
	lines := strings.Split(code, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "\t" + l
		}
	}
	return "package x\n\nfunc f() {\n" + strings.Join(lines, "\n") + "\n}\n", "\t"
}

var (
	packageName = regexp.MustCompile(`\bginjwt\.([A-Z]\w*)`)
	methodName  = regexp.MustCompile(`\bm\.([A-Z]\w*)\(`)
)

// TestNamesExist checks that every ginjwt.Name and m.Method( the pages
// mention, tables and prose included, is in the package: a renamed option
// must not live on in the documentation.
func TestNamesExist(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, "*.go"))
	require.NoError(t, err)
	fset := token.NewFileSet()
	exported := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				exported[d.Name.Name] = true
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch spec := spec.(type) {
					case *ast.TypeSpec:
						exported[spec.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range spec.Names {
							exported[n.Name] = true
						}
					}
				}
			}
		}
	}
	require.True(t, exported["New"], "the root package was not read")
	for _, p := range pages(t) {
		text, err := os.ReadFile(filepath.Join(root, p))
		require.NoError(t, err)
		for _, re := range []*regexp.Regexp{packageName, methodName} {
			for _, m := range re.FindAllStringSubmatch(string(text), -1) {
				assert.True(t, exported[m[1]], "%s names %s, which the package does not have", p, m[0])
			}
		}
	}
}
