// Package conformance holds flask-jwt-extended 4.7.1's own test suite
// ported to Go, and the tests that hold ginjwt to the real
// flask-jwt-extended: the tokens it minted, a live flask app, PyJWT's
// error messages. It has tests only, all through ginjwt's public API.
//
// Each flask test becomes a subtest named "<file>::<test>" that makes the
// same requests against an equivalent Gin app and checks the same
// statuses, bodies and cookies; index_table_test.go lists every flask test
// and the Go test that ports it.
package conformance

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// status is what became of a flask test.
type status string

const (
	ported        status = "ported"
	difference    status = "difference"
	notApplicable status = "n/a"
)

// flaskTest is one test function of flask-jwt-extended's suite.
type flaskTest struct {
	name   string // "<file>::<function>"
	cases  int    // pytest cases, counting parameters
	status status
	goTest string // the Go test porting it, as go test -run names it; "" when n/a
	pinned string // the TestFlaskDifference test pinning a difference it meets, if any
	note   string // the reason (n/a), the difference, or how it was ported
}

const conformanceDoc = "../docs/conformance.md"

// portName is the name of a subtest porting a flask test.
var portName = regexp.MustCompile(`/test_\w+\.py::test_\w+$`)

// Every flask test is ported, a listed difference, or not applicable with
// a reason; every Go test the list names runs and passes, every port that
// runs is in the list, and docs/conformance.md is the list rendered.
// GINJWT_UPDATE_CONFORMANCE=1 rewrites the document from the list.
func TestFlaskConformanceIndex(t *testing.T) {
	require.Len(t, flaskTests, 135, "flask-jwt-extended 4.7.1 has 135 test functions")
	counts := map[status]int{}
	cases := 0
	listed := map[string]bool{}
	for _, ft := range flaskTests {
		assert.False(t, listed[ft.name], "listed twice: %s", ft.name)
		listed[ft.name] = true
		counts[ft.status]++
		cases += ft.cases
		switch ft.status {
		case ported:
			assert.NotEmpty(t, ft.goTest, "%s is ported: name its Go test", ft.name)
		case difference:
			assert.NotEmpty(t, ft.goTest, "%s: the part that holds must be ported", ft.name)
			assert.NotEmpty(t, ft.note, "%s: say what differs", ft.name)
		case notApplicable:
			assert.Empty(t, ft.goTest+ft.pinned, "%s is n/a but names a Go test", ft.name)
			assert.NotEmpty(t, ft.note, "%s: n/a needs a reason", ft.name)
		default:
			t.Errorf("%s: unknown status %q", ft.name, ft.status)
		}
		if ft.goTest != "" {
			assert.True(t, strings.HasSuffix(ft.goTest, "/"+ft.name), "%s: its Go test %s is a subtest named after it", ft.name, ft.goTest)
		}
		if ft.pinned != "" {
			assert.True(t, strings.HasPrefix(ft.pinned, "TestFlaskDifference"), "%s: %s pins no difference", ft.name, ft.pinned)
		}
	}
	assert.Equal(t, 181, cases, "pytest cases")

	results := runFlaskTests(t)
	ports := map[string]bool{}
	for _, ft := range flaskTests {
		for _, name := range []string{ft.goTest, ft.pinned} {
			if name != "" {
				assert.Equal(t, "PASS", results[name], "%s: Go test %s did not run and pass", ft.name, name)
			}
		}
		ports[ft.goTest] = true
	}
	for name := range results {
		if portName.MatchString(name) {
			assert.True(t, ports[name], "%s ports a flask test that is not in flaskTests", name)
		}
	}

	doc := renderConformance(counts, cases)
	if os.Getenv("GINJWT_UPDATE_CONFORMANCE") != "" {
		require.NoError(t, os.WriteFile(conformanceDoc, []byte(doc), 0o644))
	}
	current, err := os.ReadFile(conformanceDoc)
	require.NoError(t, err)
	assert.Equal(t, doc, string(current), "%s is out of date: GINJWT_UPDATE_CONFORMANCE=1 go test -run TestFlaskConformanceIndex ./conformance", conformanceDoc)
	t.Logf("ported %d, differences %d, n/a %d (of %d tests, %d pytest cases)", counts[ported], counts[difference], counts[notApplicable], len(flaskTests), cases)
}

// runFlaskTests runs this package's TestFlask tests (the ports and the
// differences) in a child process of the test binary, and returns each
// test's and subtest's result, "PASS", "FAIL" or "SKIP", by the name go
// test -run takes. Only running them shows that a named test exists and
// passes.
func runFlaskTests(t *testing.T) map[string]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestFlask", "-test.skip", "^TestFlaskConformanceIndex$",
		"-test.v", "-test.count=1", "-test.timeout=5m")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	runErr := cmd.Run()
	results := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "---" && (f[1] == "PASS:" || f[1] == "FAIL:" || f[1] == "SKIP:") {
			results[f[2]] = strings.TrimSuffix(f[1], ":")
		}
	}
	if runErr != nil {
		t.Logf("the TestFlask tests failed (%v):\n%s", runErr, out.String())
	}
	require.NotEmpty(t, results, "no test ran:\n%s", out.String())
	return results
}

func renderConformance(counts map[status]int, cases int) string {
	var b strings.Builder
	b.WriteString("# flask-jwt-extended's test suite, in Go\n\n")
	b.WriteString("Generated from `conformance/index_table_test.go` by `GINJWT_UPDATE_CONFORMANCE=1 go test -run TestFlaskConformanceIndex ./conformance`; do not edit.\n\n")
	fmt.Fprintf(&b, "Every test of flask-jwt-extended 4.7.1 (`tests/*.py`: %d test functions, %d pytest cases with their parameters) "+
		"is accounted for below. A ported test is a subtest named `<file>::<test>` in the test-only package [`conformance`](../conformance), "+
		"which makes the same requests against an equivalent Gin app and checks the same statuses, bodies and cookies; "+
		"the table names it as `go test -run` takes it (`go test -run 'TestFlask' ./conformance` runs them all). "+
		"`TestFlaskConformanceIndex` runs every Go test named here and fails unless each passes.\n\n", len(flaskTests), cases)
	fmt.Fprintf(&b, "- **ported**: %d\n- **difference** (ported as far as it holds; the rest is a deliberate difference, "+
		"listed in [coming from Flask](coming-from-flask.md#where-ginjwt-differs-from-flask-jwt-extended-on-purpose) and pinned by its `TestFlaskDifference` test): %d\n- **n/a** (tests of Flask internals): %d\n\n",
		counts[ported], counts[difference], counts[notApplicable])
	b.WriteString("| flask test | cases | status | Go test | note |\n|---|---|---|---|---|\n")
	for _, ft := range flaskTests {
		var goTests []string
		for _, name := range []string{ft.goTest, ft.pinned} {
			if name != "" {
				goTests = append(goTests, "`"+name+"`")
			}
		}
		fmt.Fprintf(&b, "| `%s` | %d | %s | %s | %s |\n", ft.name, ft.cases, ft.status, strings.Join(goTests, ", "), strings.ReplaceAll(ft.note, "|", "\\|"))
	}
	return b.String()
}
