package docs

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/ginjwt/ginjwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Statements the pages make about the world outside the code blocks (how
// to install, which Go, what a route answers), each held to the thing it
// describes, so they cannot drift again.

// readPage returns a page of the repository, relative to its root.
func readPage(t *testing.T, page string) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", page))
	require.NoError(t, err)
	return string(text)
}

// section returns the part of text under the heading, up to the next
// heading of its level.
func section(t *testing.T, text, heading string) string {
	t.Helper()
	_, rest, found := strings.Cut(text, "\n"+heading+"\n")
	require.True(t, found, "no heading %q", heading)
	level := heading[:strings.IndexByte(heading, ' ')+1]
	rest, _, _ = strings.Cut(rest, "\n"+level)
	return rest
}

// goCommand runs the go command offline, on this machine's module cache.
func goCommand(t *testing.T, dir string, args ...string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)
	cmd := exec.Command(goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOSUMDB=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s in %s:\n%s", strings.Join(args, " "), dir, out)
	return string(out)
}

var goModEdit = regexp.MustCompile(`(?m)^go mod edit .*$`)

// TestInstallInstructionsWork holds the README's Install section: it says
// the modules are unpublished where it shows how to install, keeps the
// published-module command for later, and its replace commands, run as
// written (the clone at ../ginjwt), give a module that builds a program
// using the core and a store.
func TestInstallInstructionsWork(t *testing.T) {
	install := section(t, readPage(t, "README.md"), "## Install")
	assert.Contains(t, install, "**The modules are not published yet**")
	assert.Contains(t, install, "\ngo get github.com/ginjwt/ginjwt\n", "the published-module line, for later")
	edits := goModEdit.FindAllString(install, -1)
	require.Len(t, edits, 2, "the core's replace and a store's")

	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/app\n\ngo 1.26\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(`package main

import (
	"fmt"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/redisblocklist"
)

func main() { fmt.Println(ginjwt.ErrConfig, redisblocklist.ErrCircuitOpen) }
`), 0o600))
	for _, line := range edits {
		args := strings.Fields(strings.ReplaceAll(line, "=../ginjwt", "="+filepath.ToSlash(root)))
		goCommand(t, dir, args[1:]...)
	}
	goCommand(t, dir, "mod", "tidy")
	goCommand(t, dir, "build", "-o", os.DevNull, ".")
}

var (
	goDirective  = regexp.MustCompile(`(?m)^go (\d+\.\d+)(?:\.\d+)?$`)
	coreNeeds    = regexp.MustCompile(`core module needs Go (\d+\.\d+) or later`)
	storesNeed   = regexp.MustCompile(`they need Go\s+(\d+\.\d+) or later`)
	storeModules = []string{"redisblocklist", "rueidisblocklist", "sqlblocklist"}
)

// goVersion is the go directive of a module, as major.minor.
func goVersion(t *testing.T, dir string) string {
	t.Helper()
	m := goDirective.FindStringSubmatch(readPage(t, filepath.Join(dir, "go.mod")))
	require.NotNil(t, m, "%s/go.mod has no go directive", dir)
	return m[1]
}

// newestDependency is the highest go directive among a module's
// dependencies: the lowest Go the module can declare. The module graph is
// read from a copy of go.mod and go.sum, so the repository's stay as they
// are.
func newestDependency(t *testing.T, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", dir))
	require.NoError(t, err)
	tmp := t.TempDir()
	gomod := strings.ReplaceAll(readPage(t, filepath.Join(dir, "go.mod")), "=> ../", "=> "+filepath.ToSlash(filepath.Dir(abs))+"/")
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "go.mod"), []byte(gomod), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "go.sum"), []byte(readPage(t, filepath.Join(dir, "go.sum"))), 0o600))
	newest := "1.0"
	out := goCommand(t, tmp, "list", "-m", "-f", "{{if not .Main}}{{.GoVersion}}{{end}}", "all")
	for _, v := range strings.Fields(out) {
		if parts := strings.Split(v, "."); len(parts) >= 2 && lessVersion(newest, parts[0]+"."+parts[1]) {
			newest = parts[0] + "." + parts[1]
		}
	}
	return newest
}

func lessVersion(a, b string) bool {
	am, an, _ := strings.Cut(a, ".")
	bm, bn, _ := strings.Cut(b, ".")
	ai, _ := strconv.Atoi(am)
	bi, _ := strconv.Atoi(bm)
	aj, _ := strconv.Atoi(an)
	bj, _ := strconv.Atoi(bn)
	return ai < bi || (ai == bi && aj < bj)
}

// TestGoVersionsAgree holds the README's Go versions to the go.mod files:
// the core module's, and one for the three stores, each the lowest their
// dependencies allow.
func TestGoVersionsAgree(t *testing.T) {
	readme := readPage(t, "README.md")
	core := coreNeeds.FindStringSubmatch(readme)
	require.NotNil(t, core, "README names no Go version for the core module")
	assert.Equal(t, goVersion(t, "."), core[1], "README and go.mod")
	assert.Equal(t, newestDependency(t, "."), goVersion(t, "."), "go.mod asks for more than its dependencies need")

	stores := storesNeed.FindStringSubmatch(readme)
	require.NotNil(t, stores, "README names no Go version for the stores")
	for _, dir := range storeModules {
		assert.Equal(t, stores[1], goVersion(t, dir), "README and %s/go.mod", dir)
		assert.Equal(t, newestDependency(t, dir), goVersion(t, dir), "%s/go.mod asks for more than its dependencies need", dir)
	}
}

var logoutBody = regexp.MustCompile(`(?i)\b(access|refresh) token successfully revoked`)

// TestQuotedLogoutBodies holds every logout body the pages quote to what
// LogoutHandler answers.
func TestQuotedLogoutBodies(t *testing.T) {
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte("docs-secret-0123456789abcdef0123456789")),
		ginjwt.WithBlocklist(ginjwt.NewMemoryBlocklist(nil)))
	require.NoError(t, err)
	r := gin.New()
	r.DELETE("/logout", m.LogoutHandler())
	answers := map[string]bool{}
	for _, create := range []func(any, ...ginjwt.TokenOption) (string, error){m.CreateAccessToken, m.CreateRefreshToken} {
		token, err := create("alice")
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodDelete, "/logout", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var body struct{ Msg string }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		answers[body.Msg] = true
	}
	require.Len(t, answers, 2)
	quoted := 0
	for _, page := range pages(t) {
		for _, q := range logoutBody.FindAllString(readPage(t, page), -1) {
			quoted++
			assert.True(t, answers[q], "%s quotes %q; LogoutHandler answers %v", page, q, answers)
		}
	}
	assert.Positive(t, quoted)
}

// sentinels are the values the errors page's Abort table names.
var sentinels = map[string]error{
	"ErrUnauthorized": ginjwt.ErrUnauthorized, "ErrInvalidToken": ginjwt.ErrInvalidToken, "ErrNoToken": ginjwt.ErrNoToken,
	"ErrInvalidHeader": ginjwt.ErrInvalidHeader, "ErrInvalidQueryParam": ginjwt.ErrInvalidQueryParam, "ErrCSRF": ginjwt.ErrCSRF,
	"ErrTokenMalformed": ginjwt.ErrTokenMalformed, "ErrAlgorithmNotAllowed": ginjwt.ErrAlgorithmNotAllowed,
	"ErrSignatureInvalid": ginjwt.ErrSignatureInvalid, "ErrTokenExpired": ginjwt.ErrTokenExpired,
	"ErrTokenNotValidYet": ginjwt.ErrTokenNotValidYet, "ErrInvalidClaims": ginjwt.ErrInvalidClaims,
	"ErrWrongTokenType": ginjwt.ErrWrongTokenType, "ErrFreshTokenRequired": ginjwt.ErrFreshTokenRequired,
	"ErrClaimsVerification": ginjwt.ErrClaimsVerification, "ErrUserLookup": ginjwt.ErrUserLookup,
	"ErrForbidden": ginjwt.ErrForbidden, "ErrRevoked": ginjwt.ErrRevoked, "ErrRevocationUnavailable": ginjwt.ErrRevocationUnavailable,
	"ErrUnknownKey": ginjwt.ErrUnknownKey, "ErrKeysUnavailable": ginjwt.ErrKeysUnavailable,
	"ErrRouteParamMissing": ginjwt.ErrRouteParamMissing, "ErrInvalidCredentials": ginjwt.ErrInvalidCredentials,
	"ErrNotJSON": ginjwt.ErrNotJSON, "ErrConfig": ginjwt.ErrConfig, "ErrNoTokenInContext": ginjwt.ErrNoTokenInContext,
	"ErrInvalidIdentity": ginjwt.ErrInvalidIdentity, "ErrNoSigningKey": ginjwt.ErrNoSigningKey,
	"ErrNoBlocklist": ginjwt.ErrNoBlocklist, "ErrNoUserLookup": ginjwt.ErrNoUserLookup,
	"ErrUserNotFound": ginjwt.ErrUserNotFound, "ErrRefreshTokenReused": ginjwt.ErrRefreshTokenReused,
	"ErrSessionExpired": ginjwt.ErrSessionExpired, "ErrSessionNotFound": ginjwt.ErrSessionNotFound,
}

var (
	abortRow    = regexp.MustCompile("^\\| (`Err.*?) \\| (\\d{3}) \\| (.*) \\|$")
	firstSpan   = regexp.MustCompile("`([^`]+)`")
	placeholder = regexp.MustCompile(`<[a-z]+>`)
)

// TestAbortTable holds the errors page's table of what m.Abort answers for
// each sentinel: every row's status and message is what Abort answers
// (behind a guard, so <identity> is the token's), and the table names
// every sentinel.
func TestAbortTable(t *testing.T) {
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte("docs-secret-0123456789abcdef0123456789")))
	require.NoError(t, err)
	token, err := m.CreateAccessToken("alice")
	require.NoError(t, err)
	abort := func(e error) *httptest.ResponseRecorder {
		r := gin.New()
		r.GET("/p", m.JWTRequired(), func(c *gin.Context) { m.Abort(c, e) })
		req := httptest.NewRequest(http.MethodGet, "/p", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	named := map[string]bool{}
	table := section(t, readPage(t, "docs/errors.md"), "## In your own handlers")
	for _, line := range strings.Split(table, "\n") {
		row := abortRow.FindStringSubmatch(line)
		if row == nil {
			continue
		}
		msg := firstSpan.FindStringSubmatch(row[3])
		require.NotNil(t, msg, line)
		want := regexp.MustCompile("^" + placeholder.ReplaceAllString(regexp.QuoteMeta(msg[1]), ".*") + "$")
		for _, name := range firstSpan.FindAllStringSubmatch(row[1], -1) {
			sentinel, ok := sentinels[name[1]]
			if !assert.True(t, ok, "errors.md names %s, which is no sentinel", name[1]) {
				continue
			}
			named[name[1]] = true
			w := abort(fmt.Errorf("wrapped: %w", sentinel))
			assert.Equal(t, row[2], strconv.Itoa(w.Code), name[1])
			var body struct{ Msg string }
			if assert.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), "%s: %s", name[1], w.Body) {
				assert.Regexp(t, want, body.Msg, name[1])
			}
		}
	}
	assert.Len(t, named, len(sentinels), "every sentinel has a row")
	w := abort(errors.New("any other error"))
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Empty(t, w.Body.String(), "(empty body)")
}

// TestOptionsStatements holds what README.md and SECURITY.md say of
// OPTIONS requests: a guard answers 204 on routes registered for OPTIONS;
// on a plain GET route Gin answers 404, or 405 with
// HandleMethodNotAllowed, before any guard.
func TestOptionsStatements(t *testing.T) {
	for _, page := range []string{"README.md", "SECURITY.md"} {
		text := readPage(t, page)
		_, bullet, found := strings.Cut(text, "- **OPTIONS**:")
		require.True(t, found, "%s has no OPTIONS bullet", page)
		bullet, _, _ = strings.Cut(bullet, "\n- ")
		bullet = strings.Join(strings.Fields(bullet), " ")
		for _, want := range []string{"(`r.Any`, `r.OPTIONS`)", "(204, no body)", "a plain `r.GET`", "404, or 405 with `HandleMethodNotAllowed`"} {
			assert.Contains(t, bullet, want, page)
		}
	}
	m, err := ginjwt.New(ginjwt.WithSecretKey([]byte("docs-secret-0123456789abcdef0123456789")))
	require.NoError(t, err)
	r := gin.New()
	r.Any("/any", m.JWTRequired(), func(*gin.Context) { t.Error("a guarded handler ran") })
	r.GET("/get", m.JWTRequired(), func(*gin.Context) { t.Error("a guarded handler ran") })
	options := func(path string) int {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodOptions, path, nil))
		return w.Code
	}
	assert.Equal(t, http.StatusNoContent, options("/any"))
	assert.Equal(t, http.StatusNotFound, options("/get"))
	r.HandleMethodNotAllowed = true
	assert.Equal(t, http.StatusMethodNotAllowed, options("/get"))
}

var camelCase = regexp.MustCompile(`\b[a-z]+[A-Z]\w*\b`)

// TestGodocShowsNoUnexportedNames holds the package's public documentation
// to names a user can see: no exported type is defined by an unexported
// one (as "type Requirement func(*guard)" was), and no doc comment of an
// exported name points at an unexported function or type (as JWTRequired's
// "see answerOptions" did). Option, TokenOption and CookieOption are
// functions on the settings they fill: users call them, never build them.
func TestGodocShowsNoUnexportedNames(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "*.go"))
	require.NoError(t, err)
	fset := token.NewFileSet()
	unexported := map[string]bool{}
	var parsed []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
		require.NoError(t, err)
		parsed = append(parsed, f)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && !d.Name.IsExported() {
					unexported[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if ts, ok := spec.(*ast.TypeSpec); ok && !ts.Name.IsExported() {
						unexported[ts.Name.Name] = true
					}
				}
			}
		}
	}
	optionTypes := map[string]bool{"Option": true, "TokenOption": true, "CookieOption": true}
	checkDoc := func(name string, doc *ast.CommentGroup) {
		if doc == nil {
			return
		}
		for _, word := range camelCase.FindAllString(doc.Text(), -1) {
			assert.False(t, unexported[word], "the doc of %s names the unexported %s", name, word)
		}
	}
	for _, f := range parsed {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.IsExported() {
					checkDoc(d.Name.Name, d.Doc)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch spec := spec.(type) {
					case *ast.ValueSpec:
						for _, n := range spec.Names {
							if n.IsExported() {
								checkDoc(n.Name, spec.Doc)
								checkDoc(n.Name, d.Doc)
							}
						}
					case *ast.TypeSpec:
						if !spec.Name.IsExported() {
							continue
						}
						checkDoc(spec.Name.Name, spec.Doc)
						checkDoc(spec.Name.Name, d.Doc)
						if optionTypes[spec.Name.Name] {
							continue
						}
						switch spec.Type.(type) {
						case *ast.StructType, *ast.InterfaceType:
							continue // godoc hides unexported fields and methods
						}
						ast.Inspect(spec.Type, func(n ast.Node) bool {
							if id, ok := n.(*ast.Ident); ok {
								assert.False(t, unexported[id.Name], "type %s is defined with the unexported %s", spec.Name.Name, id.Name)
							}
							return true
						})
					}
				}
			}
		}
	}
}
