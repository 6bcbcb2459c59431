// Package examples_test checks that the example programs can be copied out
// of this repository, which is what their readers do.
package examples_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEachExampleBuildsAlone copies each example's main.go (with the files
// it embeds, and nothing else) into a new module that requires ginjwt, as a
// user pasting it into a project would, and builds it there. An example that
// leans on a helper package of this repository does not build.
//
// It needs the go command and the module proxy (or a warm module cache).
// The build cache is shared, so after the first run each example costs
// about a link; -short skips it.
func TestEachExampleBuildsAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every example in a module of its own; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	goMod := "module example.com/copied\n\ngo " + goVersion(t, filepath.Join(root, "go.mod")) + "\n\n"
	// The library and its nested modules (redisblocklist, ...) come from
	// this checkout, as they would come from the proxy for a user.
	for path, dir := range libraryModules(t, root) {
		goMod += "replace " + path + " => " + dir + "\n"
	}

	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	var examples []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(e.Name(), "main.go")); e.IsDir() && err == nil {
			examples = append(examples, e.Name())
		}
	}
	require.Subset(t, examples, []string{"simple", "cookies", "rbac", "oidc", "fullstack", "blocklist_redis"},
		"the test must see the examples, including those with a go.mod of their own")

	for _, name := range examples {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // -parallel, GOMAXPROCS by default: two at a time on two cores
			src, err := os.ReadFile(filepath.Join(name, "main.go"))
			require.NoError(t, err)
			f, err := parser.ParseFile(token.NewFileSet(), "main.go", src, parser.ImportsOnly)
			require.NoError(t, err)
			for _, imp := range f.Imports {
				path, err := strconv.Unquote(imp.Path.Value)
				require.NoError(t, err)
				assert.False(t, strings.HasPrefix(path, "github.com/ginjwt/ginjwt/_example"),
					"main.go imports %s, which a user copying it does not have", path)
			}

			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), src, 0o600))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o600))
			copyEmbedded(t, src, name, dir)

			env := append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")
			for _, args := range [][]string{{"mod", "tidy"}, {"build", "-o", os.DevNull, "."}} {
				cmd := exec.Command(goTool, args...)
				cmd.Dir, cmd.Env = dir, env
				out, err := cmd.CombinedOutput()
				mod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
				require.NoError(t, err, "go %s in a module holding only %s/main.go:\n%s\ngo.mod:\n%s",
					strings.Join(args, " "), name, out, mod)
			}
		})
	}
}

// goVersion is the go line of a go.mod file.
func goVersion(t *testing.T, goMod string) string {
	t.Helper()
	data, err := os.ReadFile(goMod)
	require.NoError(t, err)
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return v
		}
	}
	t.Fatalf("no go line in %s", goMod)
	return ""
}

// libraryModules maps the module path of every library module under root to
// its directory. Directories starting with "_" or "." (the examples, the
// benchmarks, .git) hold none.
func libraryModules(t *testing.T, root string) map[string]string {
	t.Helper()
	modules := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), "_") || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.Name() != "go.mod" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for line := range strings.Lines(string(data)) {
			if module, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
				modules[strings.TrimSpace(module)] = filepath.Dir(path)
				break
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, modules, "github.com/ginjwt/ginjwt")
	return modules
}

// copyEmbedded copies what the //go:embed lines of src name, from the
// example's directory to dir: a page is part of the program.
func copyEmbedded(t *testing.T, src []byte, from, dir string) {
	t.Helper()
	for line := range strings.Lines(string(src)) {
		patterns, ok := strings.CutPrefix(strings.TrimSpace(line), "//go:embed ")
		if !ok {
			continue
		}
		for _, pattern := range strings.Fields(patterns) {
			matches, err := filepath.Glob(filepath.Join(from, strings.TrimPrefix(pattern, "all:")))
			require.NoError(t, err)
			require.NotEmpty(t, matches, "//go:embed %s in %s", pattern, from)
			for _, match := range matches {
				rel, err := filepath.Rel(from, match)
				require.NoError(t, err)
				target := filepath.Join(dir, rel)
				require.NoError(t, os.MkdirAll(filepath.Dir(target), 0o750))
				if info, err := os.Stat(match); err == nil && info.IsDir() {
					require.NoError(t, os.CopyFS(target, os.DirFS(match)))
					continue
				}
				data, err := os.ReadFile(match)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(target, data, 0o600))
			}
		}
	}
}
