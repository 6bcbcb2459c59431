#!/usr/bin/env bash
# The whole test suite: format, vet, and race-enabled tests of the root
# module and every nested module (Go's ./... skips folders starting with
# "_", so each module is visited on its own), plus a short run of each fuzz
# target. FUZZTIME sets that run's length (default 5s; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-5s}
lint_version=v2.15.0
modules=$(find . -name go.mod -not -path './.git/*' -printf '%h\n' | sort)

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

# golangci-lint at a pinned version, installed when missing (LINT=0 skips).
lint=""
if [ "${LINT:-1}" != "0" ]; then
	lint=$(go env GOPATH)/bin/golangci-lint
	if ! "$lint" version 2>/dev/null | grep -q "${lint_version#v}"; then
		echo "== installing golangci-lint $lint_version"
		GOFLAGS= go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$lint_version"
	fi
fi

root=$(pwd)
for mod in $modules; do
	echo "== $mod"
	(cd "$mod" && go vet ./... && go test -race -count=1 ./...)
	if [ -n "$lint" ]; then
		(cd "$mod" && "$lint" run --config "$root/.golangci.yml" ./...)
	fi
done

# Every package of the root module with fuzz targets (go test -fuzz takes
# one package and one target at a time).
if [ "$fuzztime" != "0" ]; then
	for pkg in $(go list ./...); do
		for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
			echo "== fuzz $pkg $target ($fuzztime)"
			go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
		done
	done
fi
echo "all tests passed"
