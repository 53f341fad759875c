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

# The console's browser test needs Debian's headless Chromium: install it
# when missing, if this user may (root, or sudo without a password);
# otherwise the test skips (outside CI) and says so.
if ! command -v chromium >/dev/null 2>&1; then
  step "installing chromium for the console's browser test"
  sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    if sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
  fi
  if [[ "$sudo" == none ]] || ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
    echo "chromium could not be installed here; the console's browser test will skip" >&2
  fi
fi

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
      go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" -parallel=1 "$pkg"
    done
  done
fi

step "all tests passed"
