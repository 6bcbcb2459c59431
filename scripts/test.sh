#!/usr/bin/env bash
# The whole test suite: format, vet, and race-enabled tests of the root
# module and every nested module (Go's ./... skips folders starting with
# "_", so each module is visited on its own), plus a short run of each fuzz
# target. FUZZTIME sets that run's length (default 5s; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-5s}
modules=$(find . -name go.mod -not -path './.git/*' -printf '%h\n' | sort)

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

for mod in $modules; do
	echo "== $mod"
	(cd "$mod" && go vet ./... && go test -race -count=1 ./...)
done

if [ "$fuzztime" != "0" ]; then
	for target in $(go test -list '^Fuzz' . | grep '^Fuzz'); do
		echo "== fuzz $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" .
	done
fi
echo "all tests passed"
