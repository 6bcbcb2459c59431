package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flaskTest is one test function of flask-jwt-extended's suite.
type flaskTest struct {
	name   string // "<file>::<function>"
	cases  int    // pytest cases, counting parameters
	status string // "ported", "difference" or "n/a"
	note   string // the reason (n/a), the difference, or how it was ported
}

const conformanceDoc = "../docs/conformance.md"

var (
	fileConst   = regexp.MustCompile(`const file = "(test_\w+\.py::)"`)
	testLiteral = regexp.MustCompile(`"(test_\w+)"`)
	diffTest    = regexp.MustCompile(`^TestFlaskDifference\w+`)
)

// portedSubtests finds the subtests the conformance files name, by reading
// their source: a "const file = ..." followed by the test names used with it.
func portedSubtests(t *testing.T) map[string]string {
	paths, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	found := map[string]string{}
	for _, path := range paths {
		if strings.HasPrefix(path, "index") {
			continue
		}
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		file := ""
		for _, line := range strings.Split(string(src), "\n") {
			if m := fileConst.FindStringSubmatch(line); m != nil {
				file = m[1]
				continue
			}
			if file == "" || strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			for _, m := range testLiteral.FindAllStringSubmatch(line, -1) {
				found[file+m[1]] = path
			}
		}
	}
	return found
}

// Every flask test is ported, a listed difference, or not applicable with
// a reason; the list, the subtests and docs/conformance.md agree.
// GINJWT_UPDATE_CONFORMANCE=1 rewrites the document from the list.
func TestFlaskConformanceIndex(t *testing.T) {
	require.Len(t, flaskTests, 135, "flask-jwt-extended 4.7.1 has 135 test functions")
	counts := map[string]int{}
	cases := 0
	seen := map[string]bool{}
	found := portedSubtests(t)
	diffSrc, err := os.ReadFile("differences_test.go")
	require.NoError(t, err)
	for _, ft := range flaskTests {
		assert.False(t, seen[ft.name], "listed twice: %s", ft.name)
		seen[ft.name] = true
		counts[ft.status]++
		cases += ft.cases
		_, ported := found[ft.name]
		switch ft.status {
		case "ported":
			assert.True(t, ported, "%s is marked ported but no subtest has that name", ft.name)
		case "difference":
			assert.True(t, ported, "%s: the part that holds must be ported", ft.name)
			assert.NotEmpty(t, ft.note, ft.name)
		case "n/a":
			assert.False(t, ported, "%s is marked n/a but is ported", ft.name)
			assert.NotEmpty(t, ft.note, "%s: n/a needs a reason", ft.name)
		default:
			t.Errorf("%s: unknown status %q", ft.name, ft.status)
		}
		if name := diffTest.FindString(ft.note); name != "" {
			assert.Contains(t, string(diffSrc), "func "+name+"(", "%s names a test that does not exist", ft.name)
		}
	}
	assert.Equal(t, 181, cases, "pytest cases")
	for name := range found {
		assert.True(t, seen[name], "subtest %s is not in flaskTests", name)
	}

	doc := renderConformance(counts, cases, found)
	if os.Getenv("GINJWT_UPDATE_CONFORMANCE") != "" {
		require.NoError(t, os.WriteFile(conformanceDoc, []byte(doc), 0o644))
	}
	current, err := os.ReadFile(conformanceDoc)
	require.NoError(t, err)
	assert.Equal(t, doc, string(current), "%s is out of date: GINJWT_UPDATE_CONFORMANCE=1 go test -run TestFlaskConformanceIndex", conformanceDoc)
	t.Logf("ported %d, differences %d, n/a %d (of %d tests, %d pytest cases)", counts["ported"], counts["difference"], counts["n/a"], len(flaskTests), cases)
}

func renderConformance(counts map[string]int, cases int, found map[string]string) string {
	var b strings.Builder
	b.WriteString("# flask-jwt-extended's test suite, in Go\n\n")
	b.WriteString("Generated from `conformance/index_table_test.go` by `GINJWT_UPDATE_CONFORMANCE=1 go test -run TestFlaskConformanceIndex ./conformance`; do not edit.\n\n")
	fmt.Fprintf(&b, "Every test of flask-jwt-extended 4.7.1 (`tests/*.py`: %d test functions, %d pytest cases with their parameters) "+
		"is a subtest named `<file>::<test>` in [`conformance/`](../conformance), which makes the same requests against an "+
		"equivalent Gin app and checks the same statuses, bodies and cookies "+
		"(`go test -run 'TestFlask' ./conformance`).\n\n", len(flaskTests), cases)
	fmt.Fprintf(&b, "- **ported**: %d\n- **difference** (ported as far as it holds; the rest is a deliberate difference, "+
		"listed in [coming from Flask](coming-from-flask.md#where-ginjwt-differs-from-flask-jwt-extended-on-purpose) and pinned in `conformance/differences_test.go`): %d\n- **n/a** (tests of Flask internals): %d\n\n",
		counts["ported"], counts["difference"], counts["n/a"])
	b.WriteString("| flask test | cases | status | Go file | note |\n|---|---|---|---|---|\n")
	for _, ft := range flaskTests {
		goFile := found[ft.name]
		if goFile != "" {
			goFile = "[`" + goFile + "`](../conformance/" + goFile + ")"
		}
		fmt.Fprintf(&b, "| `%s` | %d | %s | %s | %s |\n", ft.name, ft.cases, ft.status, goFile, strings.ReplaceAll(ft.note, "|", "\\|"))
	}
	return b.String()
}
