#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: vet, a dependency check, every
# test with the race detector, then each fuzz target briefly.
#
#   scripts/test.sh            everything
#   FUZZTIME=1m scripts/test.sh  fuzz longer (default 15s per target)
#   SKIP_FUZZ=1 scripts/test.sh  skip the fuzzing step
set -euo pipefail
cd "$(dirname "$0")/.."

export GOFLAGS="${GOFLAGS:--mod=readonly}"
fuzztime="${FUZZTIME:-15s}"

step() { printf '\n== %s\n' "$*"; }

step "go vet"
go vet ./...

step "dependency pins"
scripts/check-deps.sh

step "tests (race detector on)"
go test -race -count=1 -timeout 20m ./...

if [[ -z "${SKIP_FUZZ:-}" ]]; then
  step "fuzz targets, ${fuzztime} each"
  # Every FuzzXxx function, found in the sources, is run on its own.
  grep -rl --include='*_test.go' '^func Fuzz' . | while read -r file; do
    pkg="./$(dirname "${file#./}")"
    for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
      echo "-- $pkg $target"
      go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
    done
  done
fi

step "all tests passed"
