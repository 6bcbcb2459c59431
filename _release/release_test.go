// Package release checks that the modules can be installed as a user
// would once they are tagged: outside this repository, from a module
// proxy, without the replace directives used for development.
package release

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// published are the modules a release tags, by directory.
var published = map[string]string{
	".":                "github.com/ginjwt/ginjwt",
	"redisblocklist":   "github.com/ginjwt/ginjwt/redisblocklist",
	"sqlblocklist":     "github.com/ginjwt/ginjwt/sqlblocklist",
	"rueidisblocklist": "github.com/ginjwt/ginjwt/rueidisblocklist",
}

var requireLine = regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/ginjwt/ginjwt (v\S+)`)

// anyRequire matches a requirement of any of this repository's modules.
var anyRequire = regexp.MustCompile(`(?m)^\s*(?:require\s+)?(github\.com/ginjwt/ginjwt(?:/\w+)?) (v\S+)`)

// TestNestedModulesRequireARealVersion: a pseudo-version such as
// v0.0.0-00010101000000-000000000000 works only with the replace
// directive, which users of a nested module never get.
func TestNestedModulesRequireARealVersion(t *testing.T) {
	for _, mod := range nestedModules(t) {
		data, err := os.ReadFile(filepath.Join(mod, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range anyRequire.FindAllSubmatch(data, -1) {
			if v := string(m[2]); !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(v) {
				t.Errorf("%s/go.mod requires %s %s: use the release version (see RELEASING.md)", mod, m[1], v)
			}
		}
	}
}

// TestInstallOutsideTheRepository publishes the modules to a file-based
// module proxy, as tags would to the real one, and builds a program that
// uses redisblocklist in a new module elsewhere.
func TestInstallOutsideTheRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module from a local proxy")
	}
	version := releaseVersion(t)
	proxy := t.TempDir()
	for dir, path := range published {
		publish(t, proxy, filepath.Join("..", dir), path, version)
	}

	user := t.TempDir()
	write(t, filepath.Join(user, "go.mod"), "module example.com/orders\n\ngo 1.25.0\n\nrequire github.com/ginjwt/ginjwt/redisblocklist "+version+"\n")
	write(t, filepath.Join(user, "main.go"), `package main

import (
	"log"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
	"github.com/redis/go-redis/v9"
)

func main() {
	store, err := redisblocklist.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}))
	if err != nil {
		log.Fatal(err)
	}
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte(os.Getenv("JWT_SECRET_KEY"))),
		ginjwt.WithBlocklist(store))
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	r.GET("/protected", m.JWTRequired(), func(c *gin.Context) { c.JSON(200, gin.H{"who": ginjwt.CurrentIdentity(c)}) })
	_ = r
}
`)
	// The released modules must not be mixed with an earlier check's at
	// the same version: clear them from the module cache before and after.
	forgetReleased(t)
	t.Cleanup(func() { forgetReleased(t) })
	env := append(os.Environ(),
		"GOPROXY=file://"+filepath.ToSlash(proxy)+","+goEnv(t, "GOPROXY"),
		"GONOSUMDB=github.com/ginjwt", "GOFLAGS=-mod=mod", "GOWORK=off",
		// The go command indexes module-cache packages in GOCACHE by
		// module and version: the index of an earlier check at this
		// version would outlive the files removed above.
		"GODEBUG=goindex=0")
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-o", os.DevNull, "."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = user, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in a new module: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// releaseVersion is the version the nested modules require.
func releaseVersion(t *testing.T) string {
	data, err := os.ReadFile(filepath.Join("..", "redisblocklist", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := requireLine.FindSubmatch(data)
	if m == nil {
		t.Fatal("redisblocklist/go.mod does not require github.com/ginjwt/ginjwt")
	}
	return string(m[1])
}

// publish writes module path at version into a file-based module proxy:
// the files git tracks in dir, without nested modules, as a tag would.
func publish(t *testing.T, proxy, dir, path, version string) {
	t.Helper()
	files := trackedFiles(t, dir)
	at := filepath.Join(proxy, filepath.FromSlash(path), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(path + "@" + version + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	write(t, filepath.Join(at, version+".zip"), buf.String())
	write(t, filepath.Join(at, version+".mod"), string(gomod))
	write(t, filepath.Join(at, version+".info"), string(info))
	write(t, filepath.Join(at, "list"), version+"\n")
}

// trackedFiles lists the files git tracks in dir, relative to it, leaving
// out nested modules (folders with a go.mod of their own).
func trackedFiles(t *testing.T, dir string) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "ls-files", "--", ".").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var nested []string
	var files []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := sc.Text()
		if strings.HasSuffix(f, "/go.mod") {
			nested = append(nested, strings.TrimSuffix(f, "go.mod"))
		}
		files = append(files, f)
	}
	kept := files[:0]
	for _, f := range files {
		inside := false
		for _, n := range nested {
			inside = inside || strings.HasPrefix(f, n)
		}
		if !inside {
			kept = append(kept, f)
		}
	}
	return kept
}

// nestedModules returns the folders of the repository's nested modules.
func nestedModules(t *testing.T) []string {
	t.Helper()
	var mods []string
	err := filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.Name() == "go.mod" && filepath.Dir(p) != ".." && filepath.Dir(p) != "." {
			mods = append(mods, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

// forgetReleased removes this repository's modules from the module cache.
func forgetReleased(t *testing.T) {
	cache := goEnv(t, "GOMODCACHE")
	for _, dir := range []string{filepath.Join(cache, "github.com", "ginjwt"), filepath.Join(cache, "cache", "download", "github.com", "ginjwt")} {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755) // the module cache is read-only
			}
			return nil
		})
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}
}

func goEnv(t *testing.T, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
